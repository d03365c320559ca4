"""The living document: review cycle, what changed since the plan was signed, who owes what, indicators.

Layer: HTTP in (views). Parse, call, render. Also two hooks other views call: `record_signing` after a
plan is signed, and `review_banner` for the summary page's "review due" line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import redirect, render_template, request, url_for
from markupsafe import Markup

from ..errors import InvalidInput, SmartAppError
from ..plan import charts
from ..plan.indicators import ActionsOnTime, HospitalUseRates
from ..plan.model import ROLE_LABELS, PlanState, PlanVersion, Role
from ..plan.negotiation import Actor
from ..plan.record import SectionFetch
from ..plan.review_cycle import (
    TRACKED_SECTIONS,
    OwnerRow,
    ReviewState,
    is_overdue,
    who_owes_what,
)
from ..planning import Conflict
from ..security import new_handle
from ..session import LaunchSession
from ..store.tracking import EVENT_ID_LENGTH, TrackingStore
from ..tracking import Indicators, ReviewPicture, Tracking
from ..web import app_state, current_launch, current_tenant, launch_blueprint
from .pages import format_date
from .plan_forms import base_version_of
from .plan_pages import STATUS_LABELS

bp = launch_blueprint("tracking", __name__)

STATE_LABELS = {
    ReviewState.NOT_SIGNED: "Not signed yet",
    ReviewState.NOT_DUE: "Review not due",
    ReviewState.DUE_SOON: "Review due soon",
    ReviewState.DUE: "Review due now",
    ReviewState.OVERDUE: "Review overdue",
}
REVISERS = frozenset({Role.COORDINATOR, Role.CLINICIAN})
EVENTS_NAMED = 3  # the banner names the first few events; the progress page lists them all


def tracking() -> Tracking:
    state = app_state()
    return Tracking(state.plans, TrackingStore(state.engine), state.ehr, state.audit,
                    review_months=current_tenant().review_months)


# ---------------------------------------------------------------------------------------------------
# Hooks for other views
# ---------------------------------------------------------------------------------------------------


def record_signing(launch: LaunchSession, version: PlanVersion) -> None:
    """After a save that signed the plan: keep today's record with the signed version."""
    tracking().record_signing(launch, current_tenant(), version, today=date.today())


def review_banner(fetched: Mapping[str, SectionFetch], today: date) -> str:
    """The summary page's "review due" banner from the sections it just streamed; "" when there is no
    signed plan, or when the page fetched only some sections (a retry: the banner shown stays)."""
    launch = current_launch()
    if not set(TRACKED_SECTIONS) <= set(fetched):
        return ""
    if app_state().plans.latest_signed(launch.iss, launch.patient_id) is None:
        return ""
    service = tracking()
    try:
        picture = service.review(launch, service.current_summary(launch, current_tenant(), today=today,
                                                                 fetched=fetched), today=today,
                                 tenant=current_tenant())
    except SmartAppError:
        return ""
    return render_template("tracking/_review_due.html", review=review_view(picture, _acting_role(launch)))


# ---------------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------------


@bp.get("/progress")
def show():
    launch, today, service = current_launch(), date.today(), tracking()
    summary = service.current_summary(launch, current_tenant(), today=today)
    picture = service.review(launch, summary, today=today, tenant=current_tenant())
    role = _acting_role(launch)
    plan = picture.current.plan if picture.current else None
    return render_template(
        "tracking/show.html",
        review=review_view(picture, role),
        owes=tuple(owner_view(row, today) for row in who_owes_what(plan, today)) if plan else (),
        indicators=indicators_view(service.indicators(launch, summary, today=today)),
        acting_label=ROLE_LABELS[role] if role else "",
    )


@bp.post("/progress/reviewed")
def mark_reviewed():
    launch = current_launch()
    role = _require_role(launch, frozenset(Role) - {Role.FAMILY})
    service = tracking()
    picture, event = _posted_event(service, launch)
    if str(picture.signed.version) != request.form.get("signed_version", ""):
        raise InvalidInput("The plan was signed again since this page was loaded. Reload the page.")
    service.mark_reviewed(launch, picture, event, by=_user_name(launch, role))
    return redirect(url_for("tracking.show", _anchor="changes"), code=303)


@bp.post("/progress/action")
def add_action():
    launch = current_launch()
    role = _require_role(launch, frozenset({Role.COORDINATOR}))
    service = tracking()
    _, event = _posted_event(service, launch)
    action_id = new_handle()
    outcome = service.add_action_for(launch, Actor(role, _user_name(launch, role)), event,
                                     base_version=base_version_of(request.form), action_id=action_id,
                                     today=date.today())
    if isinstance(outcome, Conflict):
        return _conflict(outcome)
    return redirect(url_for("review.show", _anchor=f"item-{action_id}"), code=303)


@bp.post("/progress/revision")
def open_revision():
    launch = current_launch()
    role = _require_role(launch, REVISERS)
    outcome = tracking().open_revision(launch, Actor(role, _user_name(launch, role)),
                                       base_version=base_version_of(request.form))
    if isinstance(outcome, Conflict):
        return _conflict(outcome)
    return redirect(url_for("review.show"), code=303)


def _posted_event(service: Tracking, launch: LaunchSession):
    event_id = request.form.get("event_id", "")
    if not event_id or len(event_id) > EVENT_ID_LENGTH:
        raise InvalidInput("That health event could not be found.")
    today = date.today()
    picture = service.review(launch, service.current_summary(launch, current_tenant(), today=today), today=today,
                             tenant=current_tenant())
    event = picture.event(event_id)
    if event is None or picture.signed is None:
        raise InvalidInput("That health event is no longer listed. Reload the page.")
    return picture, event


def _conflict(conflict: Conflict):
    return render_template("tracking/conflict.html", conflict=conflict), 409


def _acting_role(launch: LaunchSession) -> Role | None:
    """The launch's role, or the one this user last worked in here (then kept for the launch)."""
    if launch.acting_role:
        return Role(launch.acting_role)
    sessions = app_state().sessions
    remembered = sessions.remembered_role(launch)
    if remembered not in {r.value for r in Role}:
        return None
    sessions.set_acting_role(launch, remembered)
    return Role(remembered)


def _require_role(launch: LaunchSession, roles: frozenset[Role]) -> Role:
    role = _acting_role(launch)
    if role is None:
        raise InvalidInput("Choose the role you are working in first (Goals & actions).")
    if role not in roles:
        allowed = " or ".join(sorted(ROLE_LABELS[r].lower() for r in roles))
        raise InvalidInput(f"Only the {allowed} can do this.")
    return role


def _user_name(launch: LaunchSession, role: Role) -> str:
    return app_state().ehr.user_name(launch, current_tenant()) or ROLE_LABELS[role]


# ---------------------------------------------------------------------------------------------------
# View-models
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: str
    title: str
    label: str
    detail: str
    significant: bool


@dataclass(frozen=True, slots=True)
class ReviewView:
    state: str
    state_label: str
    headline: str
    reason: str
    due: str
    signed_on: str
    signed_version: int | None
    version: int | None  # the current version: the base of any change posted from the page
    signed_now: bool  # the current version is the signed one (a new revision can be opened)
    revision_open: bool
    baseline_known: bool
    events: tuple[EventRow, ...]
    reviewed_count: int
    needs_attention: bool
    can_add_actions: bool
    can_mark_reviewed: bool
    can_open_revision: bool


def review_view(picture: ReviewPicture, role: Role | None) -> ReviewView:
    status, signed = picture.status, picture.signed
    signed_now = bool(picture.current and picture.current.plan.state is PlanState.SIGNED)
    return ReviewView(
        state=status.state.value,
        state_label=STATE_LABELS[status.state],
        headline=_headline(picture),
        reason=_reason(picture),
        due=format_date(status.due_date),
        signed_on=format_date(picture.signed_on),
        signed_version=signed.version if signed else None,
        version=picture.current.version if picture.current else None,
        signed_now=signed_now,
        revision_open=picture.revision_open,
        baseline_known=picture.baseline_known,
        events=tuple(EventRow(e.event_id, e.title, e.label, e.detail, e.significant) for e in picture.events),
        reviewed_count=picture.reviewed_count,
        needs_attention=picture.needs_attention,
        can_add_actions=signed is not None and role is Role.COORDINATOR,
        can_mark_reviewed=signed is not None and role is not None and role is not Role.FAMILY,
        # Without a role yet the button still shows: the endpoint asks for one (it is the launch's first page).
        can_open_revision=signed_now and (role is None or role in REVISERS),
    )


def _headline(picture: ReviewPicture) -> str:
    count = len(picture.events)
    if picture.signed is None:
        return "The plan has not been signed yet."
    if count:
        noun = "health event" if count == 1 else "health events"
        return f"{count} new {noun} since the plan was signed on {format_date(picture.signed_on)}"
    return {
        ReviewState.OVERDUE: "The plan's review is overdue",
        ReviewState.DUE: "The plan is due for review",
        ReviewState.DUE_SOON: "The plan's review is due soon",
    }.get(picture.status.state, f"Nothing new since the plan was signed on {format_date(picture.signed_on)}")


def _reason(picture: ReviewPicture) -> str:
    """Why the review stands where it does, with dates as people write them and the events named."""
    status, due = picture.status, format_date(picture.status.due_date)
    when = {
        ReviewState.OVERDUE: f"The review was due on {due}.",
        ReviewState.DUE: "Review the plan now." if picture.events else "The review is due today.",
        ReviewState.DUE_SOON: f"The review is due on {due}.",
        ReviewState.NOT_DUE: f"Next review on {due}.",
    }.get(status.state, status.reason)
    if not picture.events:
        return when
    named = "; ".join(f"{e.title}: {e.label}" for e in picture.events[:EVENTS_NAMED])
    more = len(picture.events) - EVENTS_NAMED
    return f"{when} New since signing: {named}{f' and {more} more' if more > 0 else ''}."


@dataclass(frozen=True, slots=True)
class ActionLine:
    text: str
    due: str
    status_label: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class OwnerView:
    label: str
    overdue: int
    actions: tuple[ActionLine, ...]


def owner_view(row: OwnerRow, today: date) -> OwnerView:
    return OwnerView(
        label=row.label,
        overdue=row.overdue,
        actions=tuple(ActionLine(a.text, format_date(a.due) if a.due else "No due date", STATUS_LABELS[a.status],
                                 is_overdue(a, today)) for a in row.actions),
    )


@dataclass(frozen=True, slots=True)
class HospitalUseView:
    chart: Markup
    rows: tuple[tuple[str, int, str, int, str], ...]  # (what, count before, rate before, count since, rate since)
    complete: bool


@dataclass(frozen=True, slots=True)
class GoalChartView:
    text: str
    latest: str
    chart: Markup


@dataclass(frozen=True, slots=True)
class IndicatorsView:
    plan_start: str
    hospital_use: HospitalUseView | None
    goals: tuple[GoalChartView, ...]
    actions: ActionsOnTime | None


def indicators_view(indicators: Indicators) -> IndicatorsView:
    return IndicatorsView(
        plan_start=format_date(indicators.plan_start),
        hospital_use=_hospital_use_view(indicators.hospital_use, indicators.hospital_use_complete)
        if indicators.hospital_use else None,
        goals=tuple(GoalChartView(g.text, charts.ACHIEVEMENT_WORDS.get(g.latest.achievement, ""),
                                  Markup(charts.goal_progress_chart(g))) for g in indicators.goals),
        actions=indicators.actions,
    )


def _hospital_use_view(rates: HospitalUseRates, complete: bool) -> HospitalUseView:
    text = charts.number_text
    return HospitalUseView(
        # charts escape every text they draw: the SVG is safe to place as is
        chart=Markup(charts.hospital_use_chart(rates)),
        rows=(("ED visits", rates.ed_before, text(rates.ed_per_12m_before), rates.ed_since,
               text(rates.ed_per_12m_since)),
              ("Admissions", rates.admissions_before, text(rates.admissions_per_12m_before), rates.admissions_since,
               text(rates.admissions_per_12m_since))),
        complete=complete,
    )
