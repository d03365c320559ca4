"""View-models of the progress page: the review cycle, who owes what, indicators with their charts.

Layer: HTTP in (views). Pure functions from plan and service values to view types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from ..plan import charts
from ..plan import negotiation as n
from ..plan.indicators import ActionsOnTime, HospitalUseRates
from ..plan.model import Plan, PlanState, Role
from ..plan.review_cycle import OwnerRow, ReviewState, is_overdue
from ..plan.section_status import section_status
from ..services.tracking import Indicators, ReviewPicture
from .plan_models import STATUS_LABELS
from .summary_models import format_date

STATE_LABELS = {
    ReviewState.NOT_SIGNED: "Not signed yet",
    ReviewState.NOT_DUE: "Review not due",
    ReviewState.DUE_SOON: "Review due soon",
    ReviewState.DUE: "Review due now",
    ReviewState.OVERDUE: "Review overdue",
}
EVENTS_NAMED = 3  # the banner names the first few events; the progress page lists them all


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
    unchecked: tuple[str, ...]  # why some changes are not known: one line per section (plan.section_status)
    can_add_actions: bool
    can_mark_reviewed: bool
    can_open_revision: bool


def review_view(picture: ReviewPicture, role: Role | None, today: date) -> ReviewView:
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
        unchecked=tuple(_unchecked_line(key, state, picture.signed_on if at_signing else today)
                        for key, state, at_signing in picture.unchecked),
        can_add_actions=signed is not None and role is not None and n.allowed(role, n.Command.ADD_ACTION, Plan()),
        can_mark_reviewed=signed is not None and role is not None
        and n.allowed(role, n.Command.MARK_REVIEWED, signed.plan),
        # Without a role yet the button still shows: the endpoint asks for one (it is the launch's first page).
        can_open_revision=signed_now and (role is None or n.allowed(role, n.Command.OPEN_REVISION, picture.current.plan)),
    )


def _unchecked_line(key: str, state, read_on) -> str:
    status = section_status(key, state, shown=1, read_on=read_on)
    return f"{status.text} Changes there are not known." if status else ""


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
    }.get(picture.status.state, (f"Nothing new found in what could be checked since the plan was signed on "
                                 f"{format_date(picture.signed_on)}") if picture.unchecked else
          f"Nothing new since the plan was signed on {format_date(picture.signed_on)}")


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
