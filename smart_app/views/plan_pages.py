"""Goals and negotiated actions: the editor, the side-by-side review, sign-off, history.

Layer: HTTP in (views). Parse, call the planning service, render.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from ..plan.model import ROLE_LABELS, Role
from ..security import new_handle
from ..services.planning import ACTING_ROLES, Conflict
from ..web import current_launch, current_tenant, launch_blueprint, services
from . import plan_forms, plan_models

bp = launch_blueprint("review", __name__)


@bp.get("/plan")
def show():
    launch, planning = current_launch(), services().planning
    role = planning.acting_role(launch)
    if role is None or request.args.get("choose"):
        return render_template("review/choose_role.html", roles=[(r.value, ROLE_LABELS[r]) for r in ACTING_ROLES],
                               current=planning.remembered_role(launch))
    current = planning.current(launch)
    if current is None:
        return render_template("review/empty.html", acting_label=ROLE_LABELS[role],
                               may_start=role is Role.COORDINATOR)
    page = plan_models.plan_page(current, planning.previous(current), actor=planning.actor(launch, current_tenant()),
                                 today=planning.clock.today(), signers=current_tenant().signer_roles)
    offered = planning.suggestions(launch, current_tenant(), current.plan) if "add-goal" in page.can else ()
    return render_template("review/show.html", page=page, roles=[(r.value, ROLE_LABELS[r]) for r in Role],
                           suggestions=tuple(plan_models.suggestion_row(x) for x in offered))


@bp.post("/plan/role")
def choose_role():
    services().planning.choose_role(current_launch(), request.form.get("role", ""))
    return redirect(url_for("review.show"), code=303)


@bp.post("/plan")
def change():
    launch, tenant, planning = current_launch(), current_tenant(), services().planning
    actor = planning.actor(launch, tenant)
    if request.form.get("command") == "accept-suggestion":
        command, phrase = "accept-suggestion", "added a goal or action suggested by the EHR"
        plan_change = planning.accepted_suggestion(launch, tenant, request.form.get("key", ""), new_handle())
    else:
        base = planning.base_plan(launch, plan_forms.base_version_of(request.form))
        command, plan_change, phrase = plan_forms.change_from_form(request.form, new_handle, base=base,
                                                                   review_months=tenant.review_months,
                                                                   signers=tenant.signer_roles)
    outcome = planning.change(launch, tenant, actor, base_version=plan_forms.base_version_of(request.form),
                              change=plan_change, note=planning.change_phrase(actor, phrase), action=command,
                              keep_mine=request.form.get("keep_mine") == "1")
    if isinstance(outcome, Conflict):
        return render_template("review/conflict.html", conflict=outcome, fields=_resubmittable(request.form)), 409
    anchor = request.form.get("goal_id") or request.form.get("action_id") or request.form.get("subject_id")
    return redirect(url_for("review.show", _anchor=f"item-{anchor}" if anchor else None), code=303)


@bp.post("/plan/suggestions/ignore")
def ignore_suggestion():
    services().planning.ignore_suggestion(current_launch(), current_tenant(), request.form.get("key", ""))
    return redirect(url_for("review.show", _anchor="suggestions"), code=303)


@bp.get("/plan/history")
def history():
    revisions = plan_models.history_view(services().planning.history(current_launch()))
    return render_template("review/history.html", revisions=revisions)


# Fields a person typed, shown again on the conflict page so nothing is lost.
_TYPED = {"text": "Wording", "proposed_change": "Proposed wording", "reason": "Reason", "comment": "Comment",
          "note": "Note", "expressed_by": "In whose words", "owner_name": "Owner's name", "target_date": "Target date",
          "due": "Due date"}


def _resubmittable(form) -> list[tuple[str, str, str, bool]]:
    """(name, label, value, typed) for every posted field but the CSRF token and the stale version."""
    return [(name, _TYPED.get(name, name), value, name in _TYPED)
            for name, value in form.items(multi=True) if name not in ("csrf_token", "keep_mine")]
