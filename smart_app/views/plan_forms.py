"""Plan forms: one posted form -> one pure negotiation command. Bad input -> InvalidInput (400).

Layer: HTTP in (views). The rules themselves live in plan.negotiation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from ..errors import InvalidInput
from ..plan import negotiation as n
from ..plan.model import Achievement, ActionStatus, GoalKind, GoalLifecycle, Owner, Plan, Role, Stance
from ..services.planning import PlanChange

Form = Mapping[str, str]
NewId = Callable[[], str]


def _text(form: Form, name: str) -> str:
    return (form.get(name) or "").strip()


def _date(form: Form, name: str) -> date | None:
    value = _text(form, name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Enter dates as year-month-day, for example 2027-03-31.") from None


def _enum(kind, form: Form, name: str, default=None):
    value = _text(form, name)
    if not value and default is not None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"That is not a valid choice for {name.replace('_', ' ')}.") from None


def _owner(form: Form) -> Owner:
    return Owner(role=_enum(Role, form, "owner_role"), name=_text(form, "owner_name"))


def _goal_link(form: Form) -> str | None:
    return _text(form, "goal_id") or None


def _add_goal(form: Form, new_id: NewId, base: Plan) -> PlanChange:
    return _call(n.add_goal, goal_id=new_id(), text=_text(form, "text"),
                   kind=_enum(GoalKind, form, "kind", GoalKind.CLINICAL), expressed_by=_text(form, "expressed_by"),
                   target_date=_date(form, "target_date"),
                   lifecycle=_enum(GoalLifecycle, form, "lifecycle", GoalLifecycle.PROPOSED))


def _edit_goal(form: Form, new_id: NewId, base: Plan) -> PlanChange:
    goal_id = _text(form, "goal_id")
    values = {"text": _text(form, "text"), "kind": _enum(GoalKind, form, "kind", GoalKind.CLINICAL),
              "expressed_by": _text(form, "expressed_by"), "target_date": _date(form, "target_date"),
              "lifecycle": _enum(GoalLifecycle, form, "lifecycle", GoalLifecycle.PROPOSED),
              "achievement": _enum(Achievement, form, "achievement", Achievement.IN_PROGRESS)}
    return _call(n.edit_goal, goal_id, **_changed(base.goal(goal_id), values))


def _add_action(form: Form, new_id: NewId, base: Plan) -> PlanChange:
    return _call(n.add_action, action_id=new_id(), text=_text(form, "text"), owner=_owner(form),
                   goal_id=_goal_link(form), due=_date(form, "due"))


def _edit_action(form: Form, new_id: NewId, base: Plan) -> PlanChange:
    action_id = _text(form, "action_id")
    fields = {"text": _text(form, "text"), "due": _date(form, "due"),
              "status": _enum(ActionStatus, form, "status", ActionStatus.NOT_STARTED)}
    if "owner_role" in form:  # owners of an action may edit its tracking fields but not reassign it
        fields.update(owner=_owner(form), goal_id=_goal_link(form))
    return _call(n.edit_action, action_id, **_changed(base.action(action_id), fields))


def _changed(item, values: dict) -> dict:
    """Only the fields the user changed from the version they saw: a colleague's change to another field
    of the same item stands (negotiation.edited_fields). An item not in that version: as posted."""
    return n.edited_fields(item, values) if item is not None else values


def _take_position(form: Form, new_id: NewId, base: Plan) -> PlanChange:
    party = _text(form, "party")
    return _call(n.take_position, _text(form, "subject_id"), _enum(Stance, form, "stance"),
                   proposed_change=_text(form, "proposed_change"), reason=_text(form, "reason"),
                   comment=_text(form, "comment"), party=Role(party) if party in set(Role) else None)


def _call(command, *args, **kwargs):
    """Adapt `command(plan, actor, now, *args, **kwargs)` to the PlanChange signature."""
    def change(plan, actor, now):
        return command(plan, actor, now, *args, **kwargs)
    return change


def _simple(command, *names: str, enums: Mapping[str, type] | None = None):
    def build(form: Form, new_id: NewId, base: Plan) -> PlanChange:
        values = [_enum(enums[name], form, name) if enums and name in enums else _text(form, name) for name in names]
        return _call(command, *values)
    return build


def _start(form: Form, new_id: NewId, base: Plan) -> PlanChange:
    return lambda plan, actor, now: plan


# command -> (form parser, a short phrase for the version note)
COMMANDS: dict[str, tuple[Callable[[Form, NewId, Plan], PlanChange], str]] = {
    "start-plan": (_start, "started the plan"),
    "add-goal": (_add_goal, "added a goal"),
    "edit-goal": (_edit_goal, "edited a goal"),
    "remove-goal": (_simple(n.remove_goal, "goal_id"), "removed a goal"),
    "move-goal": (_simple(n.move_goal, "goal_id", "direction", enums={"direction": n.Direction}), "reordered goals"),
    "add-action": (_add_action, "added an action"),
    "edit-action": (_edit_action, "edited an action"),
    "remove-action": (_simple(n.remove_action, "action_id"), "removed an action"),
    "move-action": (_simple(n.move_action, "action_id", "direction", enums={"direction": n.Direction}),
                    "reordered actions"),
    "add-progress-note": (_simple(n.add_progress_note, "action_id", "text"), "added a progress note"),
    "take-position": (_take_position, "recorded a position"),
    "accept-amendment": (_simple(n.accept_amendment, "subject_id", "party", enums={"party": Role}),
                         "accepted a proposed change"),
    "resolve-position": (_simple(n.resolve_position, "subject_id", "party", "note", enums={"party": Role}),
                         "resolved a disagreement"),
    "set-family-priority": (_simple(n.set_family_priority, "text"), "set the family's priority"),
    "submit-for-review": (_simple(n.submit_for_review), "sent the plan for review"),
    "sign": (_simple(n.sign), "signed the plan"),
    "open-revision": (_simple(n.open_revision), "opened a new revision"),
}


def change_from_form(form: Form, new_id: NewId, *, base: Plan, review_months: int = 6,
                     signers: Sequence[Role] = n.REQUIRED_SIGNERS) -> tuple[str, PlanChange, str]:
    """(command, the change, its phrase) for a plan form posted on the version `base`; signing uses the
    site's review interval and the roles that must sign there."""
    command = _text(form, "command")
    if command not in COMMANDS:
        raise InvalidInput("That change to the plan is not recognised.")
    parse, phrase = COMMANDS[command]
    if command == "sign":
        return command, _call(n.sign, review_months=review_months, signers=signers), phrase
    return command, parse(form, new_id, base), phrase


def base_version_of(form: Form) -> int | None:
    value = _text(form, "base_version")
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput("This form is out of date. Reload the page.")
    return int(value)
