"""The living document: review cycle, what changed since the plan was signed, who owes what, indicators.

Layer: HTTP in (views). Parse, call the tracking service, render. Also `review_banner` for the summary
page's "review due" line.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import redirect, render_template, request, url_for

from ..plan.model import ROLE_LABELS
from ..plan.record import SectionFetch
from ..plan.review_cycle import who_owes_what
from ..security import new_handle
from ..services.planning import Conflict
from ..web import current_launch, current_tenant, launch_blueprint, services
from .plan_forms import base_version_of
from .family_models import team_requests
from .progress_models import indicators_view, owner_view, review_view

bp = launch_blueprint("tracking", __name__)


def review_banner(fetched: Mapping[str, SectionFetch]) -> str:
    """The summary page's "review due" banner from the sections it just streamed ("" when none)."""
    launch = current_launch()
    picture = services().tracking.review_for_banner(launch, current_tenant(), fetched)
    if picture is None:
        return ""
    return render_template("tracking/_review_due.html",
                           review=review_view(picture, services().planning.acting_role(launch),
                                              services().tracking.clock.today()))


# ---------------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------------


@bp.get("/progress")
def show():
    launch, tenant, tracking = current_launch(), current_tenant(), services().tracking
    today = tracking.clock.today()
    summary = tracking.current_summary(launch, tenant)
    picture = tracking.review(launch, tenant, summary)
    role = services().planning.acting_role(launch)
    plan = picture.current.plan if picture.current else None
    return render_template(
        "tracking/show.html",
        family_requests=team_requests(services().family.open_requests(launch), plan), back="progress",
        review=review_view(picture, role, today),
        owes=tuple(owner_view(row, today) for row in who_owes_what(plan, today)) if plan else (),
        indicators=indicators_view(tracking.indicators(launch, summary)),
        acting_label=ROLE_LABELS[role] if role else "",
    )


@bp.post("/progress/reviewed")
def mark_reviewed():
    services().tracking.mark_reviewed(current_launch(), current_tenant(), request.form.get("event_id", ""),
                                      signed_version=request.form.get("signed_version", ""))
    return redirect(url_for("tracking.show", _anchor="changes"), code=303)


@bp.post("/progress/action")
def add_action():
    action_id = new_handle()
    outcome = services().tracking.add_action_for(current_launch(), current_tenant(), request.form.get("event_id", ""),
                                                 base_version=base_version_of(request.form), action_id=action_id)
    if isinstance(outcome, Conflict):
        return _conflict(outcome)
    return redirect(url_for("review.show", _anchor=f"item-{action_id}"), code=303)


@bp.post("/progress/revision")
def open_revision():
    outcome = services().tracking.open_revision(current_launch(), current_tenant(),
                                                base_version=base_version_of(request.form))
    if isinstance(outcome, Conflict):
        return _conflict(outcome)
    return redirect(url_for("review.show"), code=303)


def _conflict(conflict: Conflict):
    return render_template("tracking/conflict.html", conflict=conflict), 409


_BACK = {"summary": "summary.show", "progress": "tracking.show", "about": "about.show"}


@bp.post("/family-requests/<request_id>")
def close_family_request(request_id: str):
    """A professional answers one of the family's requests."""
    services().family.close(current_launch(), current_tenant(), request_id, request.form.get("status", ""),
                            request.form.get("reply", ""))
    return redirect(url_for(_BACK.get(request.form.get("back", ""), "tracking.show")), code=303)
