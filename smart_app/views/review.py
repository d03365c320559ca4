"""Goals and negotiated actions: the editor, the side-by-side review, sign-off, history.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import redirect, render_template, request, url_for

from ..errors import InvalidInput
from ..plan import suggestions
from ..plan.model import ROLE_LABELS, PlanState, Role
from ..plan.negotiation import Actor
from ..plan.people import user_reference
from ..plan.record import SourceRecord
from ..plan.summary import summarize
from ..planning import Conflict, change_plan
from ..security import new_handle
from ..web import app_state, current_launch, current_tenant, launch_blueprint
from . import plan_forms, plan_pages, tracking

bp = launch_blueprint("review", __name__)

ACTING_ROLES = (Role.COORDINATOR, Role.CLINICIAN, Role.SPECIALIST, Role.SCHOOL_NURSE, Role.COMMUNITY)


@bp.get("/plan")
def show():
    launch = current_launch()
    if launch.acting_role is None or request.args.get("choose"):
        remembered = launch.acting_role or app_state().sessions.remembered_role(launch)
        if remembered is None or request.args.get("choose"):
            return render_template("review/choose_role.html", roles=[(r.value, ROLE_LABELS[r]) for r in ACTING_ROLES],
                                   current=remembered)
        app_state().sessions.set_acting_role(launch, remembered)
        return redirect(url_for("review.show"), code=303)
    plans = app_state().plans
    current = plans.current(launch.iss, launch.patient_id)
    if current is None:
        return render_template("review/empty.html", acting_label=ROLE_LABELS[Role(launch.acting_role)],
                               may_start=launch.acting_role == Role.COORDINATOR.value)
    previous = plans.version(current.plan_id, current.version - 1) if current.version > 1 else None
    page = plan_pages.plan_page(current, previous, actor_role=Role(launch.acting_role), today=date.today())
    offered = _suggestions(current.plan) if "add-goal" in page.can else ()
    return render_template("review/show.html", page=page, roles=[(r.value, ROLE_LABELS[r]) for r in Role],
                           suggestions=tuple(plan_pages.suggestion_row(x) for x in offered))


@bp.post("/plan/role")
def choose_role():
    role = request.form.get("role", "")
    if role not in {r.value for r in ACTING_ROLES}:
        raise InvalidInput("Choose the role you are working in.")
    app_state().sessions.set_acting_role(current_launch(), role)
    return redirect(url_for("review.show"), code=303)


@bp.post("/plan")
def change():
    launch = current_launch()
    if launch.acting_role is None:
        raise InvalidInput("Choose the role you are working in first.")
    if request.form.get("command") == "accept-suggestion":
        command, plan_change, phrase = "accept-suggestion", _accepted_suggestion(request.form.get("key", "")), \
            "added a goal or action suggested by the EHR"
    else:
        command, plan_change, phrase = plan_forms.change_from_form(request.form, new_handle,
                                                                   review_months=current_tenant().review_months)
    actor = Actor(role=Role(launch.acting_role), name=_user_name(), user=user_reference(launch.fhir_user, launch.iss))
    state = app_state()
    outcome = change_plan(state.plans, state.audit, launch, actor, base_version=plan_forms.base_version_of(request.form),
                          change=plan_change, note=f"{actor.name} ({ROLE_LABELS[actor.role]}) {phrase}",
                          action=command)
    if isinstance(outcome, Conflict):
        return render_template("review/conflict.html", conflict=outcome, fields=_resubmittable(request.form)), 409
    if command == "sign" and outcome.plan.state is PlanState.SIGNED:  # the last signature: keep the record
        tracking.record_signing(launch, outcome)
    anchor = request.form.get("goal_id") or request.form.get("action_id") or request.form.get("subject_id")
    return redirect(url_for("review.show", _anchor=f"item-{anchor}" if anchor else None), code=303)


@bp.post("/plan/suggestions/ignore")
def ignore_suggestion():
    launch = current_launch()
    key = request.form.get("key", "")
    if not key or len(key) > 300:
        raise InvalidInput("That suggestion could not be found.")
    app_state().curation.ignore_suggestion(launch.iss, launch.patient_id, key, by=_user_name(), at=datetime.now(UTC))
    return redirect(url_for("review.show", _anchor="suggestions"), code=303)


def _suggestions(plan) -> tuple[suggestions.Suggestion, ...]:
    """Goals and open referrals in the EHR that the plan lacks and the coordinator has not ignored."""
    launch, state = current_launch(), app_state()
    fetched = {f.key: f for f in state.ehr.summary_sections(launch, current_tenant(), today=date.today(),
                                                            keys=("goals", "services"))}
    summary = summarize(SourceRecord(launch.patient_id, fetched), today=date.today())
    return suggestions.suggest(summary, plan, ignored=state.curation.ignored_suggestions(launch.iss, launch.patient_id))


def _accepted_suggestion(key: str):
    launch = current_launch()
    current = app_state().plans.current(launch.iss, launch.patient_id)
    found = next((x for x in _suggestions(current.plan) if x.key == key), None) if current else None
    if found is None:
        raise InvalidInput("That suggestion is no longer offered (it may already be in the plan).")
    item_id = new_handle()
    return lambda plan, actor, now: suggestions.accept_suggestion(plan, actor, now, found, item_id)


@bp.get("/plan/history")
def history():
    launch = current_launch()
    plans = app_state().plans
    current = plans.current(launch.iss, launch.patient_id)
    entries = plan_pages.history_entries(plans.history(current.plan_id)) if current else ()
    return render_template("review/history.html", entries=entries)


def _user_name() -> str:
    launch = current_launch()
    name = app_state().ehr.user_name(launch, current_tenant())
    return name or ROLE_LABELS[Role(launch.acting_role)]


# Fields a person typed, shown again on the conflict page so nothing is lost.
_TYPED = {"text": "Wording", "proposed_change": "Proposed wording", "reason": "Reason", "comment": "Comment",
          "note": "Note", "expressed_by": "In whose words", "owner_name": "Owner's name", "target_date": "Target date",
          "due": "Due date"}


def _resubmittable(form) -> list[tuple[str, str, str, bool]]:
    """(name, label, value, typed) for every posted field but the CSRF token and the stale version."""
    return [(name, _TYPED.get(name, name), value, name in _TYPED)
            for name, value in form.items(multi=True) if name not in ("csrf_token", "base_version")]
