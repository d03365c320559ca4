"""Negotiating the plan: who may change what, each party's position, sign-off and revisions.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

Every command takes the plan, the acting person and the time, and returns a new Plan, or raises
NegotiationError with a message safe to show the user. Nothing here reads a clock or makes ids:
commands that create something take its id.

Rules in one place:
- Who may do what is the PERMISSIONS table; `why_not` adds the rules that depend on the plan (its
  state, who owns an action, open disagreements) and is what every command checks.
- A change to what was negotiated (wording, owner, dates, links) clears the other parties' AGREE
  positions on that item (they agreed to something else) and every sign-off. Adding, removing or
  reordering items, or a new family priority, clears sign-offs too. Tracking (action status, goal
  lifecycle and achievement, progress notes) and positions clear neither.
- DECLINE and AMEND positions stay open until the party takes a new position, the coordinator
  accepts the amendment (or rewords the item exactly as proposed) or records how it was resolved,
  or the item is removed. Signing waits for every one of them. A resolution is the coordinator's own
  record next to the position: the position keeps its author's stance and words.
- A signature is a person: the actor's identity (fhirUser) signs at most once per revision, whatever
  role they chose, and only in a role that identity may sign for (plan.people). Which roles must sign
  is the site's (`signers`, default coordinator and clinician).
- A signed plan is frozen; `open_revision` starts a new draft from it.

`why_not` takes a Role (what the role may do: for pages) or the Actor (also who the person is: what
every command checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from enum import Enum, StrEnum

from .dates import add_months
from .model import (
    ROLE_LABELS,
    Achievement,
    ActionStatus,
    Goal,
    GoalKind,
    GoalLifecycle,
    NegotiatedAction,
    Owner,
    Plan,
    PlanState,
    Position,
    ProgressNote,
    Resolution,
    Role,
    SignOff,
    Stance,
)
from .people import DEFAULT_SIGNERS, may_act_as, may_sign_as, roles_text

MAX_TEXT = 1000
REQUIRED_SIGNERS: tuple[Role, ...] = DEFAULT_SIGNERS
SIGNED_MESSAGE = "This plan is signed. Open a new revision to change it."
OPEN_STANCES = frozenset({Stance.DECLINE, Stance.AMEND})
PARTY_ORDER: tuple[Role, ...] = tuple(Role)


class NegotiationError(ValueError):
    """A rule forbids the change. str(err) is shown to the user."""


class Command(StrEnum):
    ADD_GOAL = "add-goal"
    EDIT_GOAL = "edit-goal"
    REMOVE_GOAL = "remove-goal"
    MOVE_GOAL = "move-goal"
    ADD_ACTION = "add-action"
    EDIT_ACTION = "edit-action"
    REMOVE_ACTION = "remove-action"
    MOVE_ACTION = "move-action"
    ADD_PROGRESS_NOTE = "add-progress-note"
    TAKE_POSITION = "take-position"
    ACCEPT_AMENDMENT = "accept-amendment"
    RESOLVE_POSITION = "resolve-position"
    SET_FAMILY_PRIORITY = "set-family-priority"
    SUBMIT_FOR_REVIEW = "submit-for-review"
    SIGN = "sign"
    OPEN_REVISION = "open-revision"
    MARK_REVIEWED = "mark-reviewed"  # a health event since signing was looked at


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class ItemKind(StrEnum):
    GOAL = "goal"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person acting, in the role they chose. `user` is who they are (the launch's fhirUser,
    "Practitioner/123"); `ehr_roles` the roles the EHR says they hold (None: it does not say)."""

    role: Role
    name: str
    user: str = ""
    ehr_roles: frozenset[Role] | None = None


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # "leave this field as it is" in edit_goal / edit_action

_COORDINATOR = frozenset({Role.COORDINATOR})
PROFESSIONALS = frozenset(set(Role) - {Role.FAMILY})
# The family, signed in through the patient portal, takes its own positions and marks its own actions
# done; the coordinator can still record what the family said in clinic. A family act on a signed plan
# opens the next revision: the signed version never changes.
_WITH_FAMILY = PROFESSIONALS | {Role.FAMILY}

PERMISSIONS: dict[Command, frozenset[Role]] = {
    Command.ADD_GOAL: _COORDINATOR,
    Command.EDIT_GOAL: _COORDINATOR,
    Command.REMOVE_GOAL: _COORDINATOR,
    Command.MOVE_GOAL: _COORDINATOR,
    Command.ADD_ACTION: _COORDINATOR,
    Command.EDIT_ACTION: _WITH_FAMILY,  # other than the coordinator: only actions their role owns
    Command.REMOVE_ACTION: _COORDINATOR,
    Command.MOVE_ACTION: _COORDINATOR,
    Command.ADD_PROGRESS_NOTE: PROFESSIONALS,  # other than coordinator and clinician: own actions only
    Command.TAKE_POSITION: _WITH_FAMILY,  # the coordinator: the family's position, or a comment
    Command.ACCEPT_AMENDMENT: _COORDINATOR,
    Command.RESOLVE_POSITION: _COORDINATOR,
    Command.SET_FAMILY_PRIORITY: _COORDINATOR,
    Command.SUBMIT_FOR_REVIEW: _COORDINATOR,
    Command.SIGN: frozenset(REQUIRED_SIGNERS),  # each for their own role
    Command.OPEN_REVISION: frozenset({Role.COORDINATOR, Role.CLINICIAN, Role.FAMILY}),
    Command.MARK_REVIEWED: PROFESSIONALS,
}

# What may be done to a signed (frozen) plan: reopen it, and look at what happened since.
ON_SIGNED_PLANS = frozenset({Command.OPEN_REVISION, Command.MARK_REVIEWED})

_PHRASES: dict[Command, str] = {
    Command.ADD_GOAL: "add goals",
    Command.EDIT_GOAL: "change goals",
    Command.REMOVE_GOAL: "remove goals",
    Command.MOVE_GOAL: "reorder goals",
    Command.ADD_ACTION: "add actions",
    Command.EDIT_ACTION: "change actions",
    Command.REMOVE_ACTION: "remove actions",
    Command.MOVE_ACTION: "reorder actions",
    Command.ADD_PROGRESS_NOTE: "add progress notes",
    Command.TAKE_POSITION: "record positions",
    Command.ACCEPT_AMENDMENT: "accept proposed changes",
    Command.RESOLVE_POSITION: "resolve disagreements",
    Command.SET_FAMILY_PRIORITY: "record the family's priority",
    Command.SUBMIT_FOR_REVIEW: "send the plan for review",
    Command.SIGN: "sign the plan",
    Command.OPEN_REVISION: "open a new revision",
    Command.MARK_REVIEWED: "mark health events reviewed",
}

# Editing an action they own, others may change these; the coordinator assigns and links actions.
_OWNER_EDITABLE = frozenset({"text", "due", "status", "condition_refs"})
NEGOTIATED_GOAL_FIELDS = frozenset({"text", "kind", "expressed_by", "target_date", "condition_refs"})
NEGOTIATED_ACTION_FIELDS = frozenset({"text", "owner", "goal_id", "due", "condition_refs"})
_ID_FIELD = {Goal: "goal_id", NegotiatedAction: "action_id"}


# ---------------------------------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------------------------------


def why_not(who: Role | Actor, command: Command, plan: Plan, subject_id: str | None = None, *,
            signers: Sequence[Role] = REQUIRED_SIGNERS) -> str | None:
    """Why this role (or this person, given the Actor) may not run this command on this plan now
    (None when it may). `signers` are the roles that must sign at this site."""
    actor = who if isinstance(who, Actor) else None
    role = actor.role if actor else who
    if plan.state is PlanState.SIGNED and command not in ON_SIGNED_PLANS:
        return SIGNED_MESSAGE
    permitted = frozenset(signers) if command is Command.SIGN else PERMISSIONS[command]
    if role not in permitted:
        return f"Only the {_roles_text(permitted)} can {_PHRASES[command]}."
    return (
        _identity_rule(actor, command)
        or _state_rule(command, plan)
        or _owner_rule(role, command, plan, subject_id)
        or _signing_rule(role, actor, command, plan)
    )


def allowed(who: Role | Actor, command: Command, plan: Plan, subject_id: str | None = None, *,
            signers: Sequence[Role] = REQUIRED_SIGNERS) -> bool:
    return why_not(who, command, plan, subject_id, signers=signers) is None


def _identity_rule(actor: Actor | None, command: Command) -> str | None:
    """What the person is (per the EHR) against the role they chose; signing also needs an identity."""
    if actor is None:
        return None
    rule = may_sign_as if command is Command.SIGN else may_act_as
    return rule(actor.user, actor.role, actor.ehr_roles)


def _state_rule(command: Command, plan: Plan) -> str | None:
    if command is Command.OPEN_REVISION and plan.state is not PlanState.SIGNED:
        return "Only a signed plan can be reopened as a new revision."
    if command is Command.SUBMIT_FOR_REVIEW:
        if plan.state is not PlanState.DRAFT:
            return "This plan is already in review."
        if not plan.goals:
            return "Add at least one goal before sending the plan for review."
    if command is Command.SIGN and plan.state is not PlanState.IN_REVIEW:
        return "Send the plan for review before signing it."
    return None


def _owner_rule(role: Role, command: Command, plan: Plan, subject_id: str | None) -> str | None:
    free = {Command.EDIT_ACTION: {Role.COORDINATOR}, Command.ADD_PROGRESS_NOTE: {Role.COORDINATOR, Role.CLINICIAN}}
    if command not in free or role in free[command] or subject_id is None:
        return None
    action = plan.action(subject_id)
    if action is not None and action.owner.role is not role:
        return "You can only update actions your role is responsible for."
    return None


def _signing_rule(role: Role, actor: Actor | None, command: Command, plan: Plan) -> str | None:
    if command is not Command.SIGN:
        return None
    if any(s.role is role for s in plan.signoffs):
        return f"The {ROLE_LABELS[role].lower()} has already signed this revision."
    if actor is not None:
        earlier = next((s for s in plan.signoffs if s.user == actor.user), None)
        if earlier is not None:
            return (f"You have already signed this revision as the {ROLE_LABELS[earlier.role].lower()}; "
                    "each person signs once.")
    open_items = _unique(d.subject_text for d in disagreements(plan))
    if open_items:
        listed = ", ".join(f"'{_short(t)}'" for t in open_items[:3]) + (" and more" if len(open_items) > 3 else "")
        return f"Resolve the open disagreements before signing: {listed}."
    return None


def missing_signers(plan: Plan, signers: Sequence[Role] = REQUIRED_SIGNERS) -> tuple[Role, ...]:
    """The required roles that have not signed this revision yet, in signing order."""
    signed = {s.role for s in plan.signoffs}
    return tuple(r for r in signers if r not in signed)


def _require(actor: Actor, command: Command, plan: Plan, subject_id: str | None = None, *,
             signers: Sequence[Role] = REQUIRED_SIGNERS) -> None:
    reason = why_not(actor, command, plan, subject_id, signers=signers)
    if reason:
        raise NegotiationError(reason)


# ---------------------------------------------------------------------------------------------------
# Goals
# ---------------------------------------------------------------------------------------------------


def add_goal(
    plan: Plan,
    actor: Actor,
    now: datetime,
    *,
    goal_id: str,
    text: str,
    kind: GoalKind = GoalKind.CLINICAL,
    expressed_by: str = "",
    target_date: date | None = None,
    lifecycle: GoalLifecycle = GoalLifecycle.PROPOSED,
    condition_refs: tuple[str, ...] = (),
) -> Plan:
    """The plan with a new goal at the end."""
    _require(actor, Command.ADD_GOAL, plan)
    _require_new_id(plan, goal_id)
    goal = Goal(
        goal_id=goal_id,
        text=_wording(text, "goal"),
        kind=kind,
        expressed_by=_optional(expressed_by, "name"),
        target_date=target_date,
        lifecycle=lifecycle,
        condition_refs=tuple(condition_refs),
    )
    return replace(plan, goals=(*plan.goals, goal), signoffs=())


def edit_goal(
    plan: Plan,
    actor: Actor,
    now: datetime,
    goal_id: str,
    *,
    text: str | _Keep = KEEP,
    kind: GoalKind | _Keep = KEEP,
    expressed_by: str | _Keep = KEEP,
    target_date: date | None | _Keep = KEEP,
    lifecycle: GoalLifecycle | _Keep = KEEP,
    achievement: Achievement | _Keep = KEEP,
    condition_refs: tuple[str, ...] | _Keep = KEEP,
) -> Plan:
    """The plan with the goal changed; fields left as KEEP stay as they are."""
    _require(actor, Command.EDIT_GOAL, plan)
    goal = _goal(plan, goal_id)
    changes = _given(
        text=text if text is KEEP else _wording(text, "goal"),
        kind=kind,
        expressed_by=expressed_by if expressed_by is KEEP else _optional(expressed_by, "name"),
        target_date=target_date,
        lifecycle=lifecycle,
        achievement=achievement,
        condition_refs=condition_refs if condition_refs is KEEP else tuple(condition_refs),
    )
    updated = replace(goal, **changes)
    if updated == goal:
        return plan
    edited = replace(plan, goals=tuple(updated if g.goal_id == goal_id else g for g in plan.goals))
    if _changed_fields(goal, updated) & NEGOTIATED_GOAL_FIELDS:
        return _after_content_change(edited, goal_id, actor.role)
    return edited


def remove_goal(plan: Plan, actor: Actor, now: datetime, goal_id: str) -> Plan:
    """The plan without the goal and positions on it; its actions stay, no longer linked to a goal."""
    _require(actor, Command.REMOVE_GOAL, plan)
    _goal(plan, goal_id)
    return _tidy(replace(
        plan,
        goals=tuple(g for g in plan.goals if g.goal_id != goal_id),
        actions=tuple(replace(a, goal_id=None) if a.goal_id == goal_id else a for a in plan.actions),
        positions=tuple(p for p in plan.positions if p.subject_id != goal_id),
        signoffs=(),
    ))


def move_goal(plan: Plan, actor: Actor, now: datetime, goal_id: str, direction: Direction) -> Plan:
    """The plan with the goal one place up or down (unchanged when already at that end)."""
    _require(actor, Command.MOVE_GOAL, plan)
    _goal(plan, goal_id)
    ids = [g.goal_id for g in plan.goals]
    moved = _swap(ids, ids.index(goal_id), direction, among=range(len(ids)))
    if moved == ids:
        return plan
    by_id = {g.goal_id: g for g in plan.goals}
    return replace(plan, goals=tuple(by_id[i] for i in moved), signoffs=())


# ---------------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------------


def add_action(
    plan: Plan,
    actor: Actor,
    now: datetime,
    *,
    action_id: str,
    text: str,
    owner: Owner,
    goal_id: str | None = None,
    due: date | None = None,
    condition_refs: tuple[str, ...] = (),
) -> Plan:
    """The plan with a new action at the end."""
    _require(actor, Command.ADD_ACTION, plan)
    _require_new_id(plan, action_id)
    _require_goal_link(plan, goal_id)
    action = NegotiatedAction(
        action_id=action_id,
        text=_wording(text, "action"),
        owner=_owner(owner),
        goal_id=goal_id,
        due=due,
        condition_refs=tuple(condition_refs),
    )
    return replace(plan, actions=(*plan.actions, action), signoffs=())


def edit_action(
    plan: Plan,
    actor: Actor,
    now: datetime,
    action_id: str,
    *,
    text: str | _Keep = KEEP,
    owner: Owner | _Keep = KEEP,
    goal_id: str | None | _Keep = KEEP,
    due: date | None | _Keep = KEEP,
    status: ActionStatus | _Keep = KEEP,
    condition_refs: tuple[str, ...] | _Keep = KEEP,
) -> Plan:
    """The plan with the action changed; fields left as KEEP stay as they are."""
    _require(actor, Command.EDIT_ACTION, plan, action_id)
    action = _action(plan, action_id)
    if goal_id is not KEEP:
        _require_goal_link(plan, goal_id)
    changes = _given(
        text=text if text is KEEP else _wording(text, "action"),
        owner=owner if owner is KEEP else _owner(owner),
        goal_id=goal_id,
        due=due,
        status=status,
        condition_refs=condition_refs if condition_refs is KEEP else tuple(condition_refs),
    )
    updated = replace(action, **changes)
    changed = _changed_fields(action, updated)
    if not changed:
        return plan
    if actor.role is Role.FAMILY and changed - {"status"}:
        raise NegotiationError("You can mark your own actions done; ask the care coordinator for other changes.")
    if actor.role is not Role.COORDINATOR and changed - _OWNER_EDITABLE:
        raise NegotiationError("Only the care coordinator can reassign an action or link it to another goal.")
    edited = _with_action(plan, updated)
    if changed & NEGOTIATED_ACTION_FIELDS:
        return _after_content_change(edited, action_id, actor.role)
    return edited


def remove_action(plan: Plan, actor: Actor, now: datetime, action_id: str) -> Plan:
    """The plan without the action and the positions on it."""
    _require(actor, Command.REMOVE_ACTION, plan)
    _action(plan, action_id)
    return _tidy(replace(
        plan,
        actions=tuple(a for a in plan.actions if a.action_id != action_id),
        positions=tuple(p for p in plan.positions if p.subject_id != action_id),
        signoffs=(),
    ))


def move_action(plan: Plan, actor: Actor, now: datetime, action_id: str, direction: Direction) -> Plan:
    """The plan with the action one place up or down among the actions of the same goal."""
    _require(actor, Command.MOVE_ACTION, plan)
    action = _action(plan, action_id)
    ids = [a.action_id for a in plan.actions]
    siblings = [i for i, a in enumerate(plan.actions) if a.goal_id == action.goal_id]
    moved = _swap(ids, ids.index(action_id), direction, among=siblings)
    if moved == ids:
        return plan
    by_id = {a.action_id: a for a in plan.actions}
    return replace(plan, actions=tuple(by_id[i] for i in moved), signoffs=())


def add_progress_note(plan: Plan, actor: Actor, now: datetime, action_id: str, text: str) -> Plan:
    """The plan with a progress note, signed by the actor, added to the action."""
    _require(actor, Command.ADD_PROGRESS_NOTE, plan, action_id)
    action = _action(plan, action_id)
    note = ProgressNote(text=_wording(text, "progress note"), author=actor.name, at=now)
    return _with_action(plan, replace(action, progress=(*action.progress, note)))


def edited_fields(item: Goal | NegotiatedAction, values: Mapping[str, object]) -> dict[str, object]:
    """A posted edit form as edit_goal / edit_action arguments: every field the user left as it was in
    the version they saw (`item`) becomes KEEP, so the save changes only what they changed and a
    colleague's change to another field of the item stands."""
    editable = {f.name for f in fields(item)} - {_ID_FIELD[type(item)], "progress"}
    unknown = set(values) - editable
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}.")
    return {name: KEEP if _as_stored(value) == getattr(item, name) else value for name, value in values.items()}


def _as_stored(value: object) -> object:
    """A submitted value as the commands store it (trimmed text, a tuple of references, a tidy owner)."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, Owner):
        return replace(value, name=" ".join(value.name.split()))
    return value


# ---------------------------------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------------------------------


def take_position(
    plan: Plan,
    actor: Actor,
    now: datetime,
    subject_id: str,
    stance: Stance,
    *,
    proposed_change: str = "",
    reason: str = "",
    comment: str = "",
    party: Role | None = None,
) -> Plan:
    """The plan with this party's position on the goal or action, replacing their earlier one.

    `party` defaults to the actor's role; the coordinator passes Role.FAMILY to record the family's.
    """
    _require(actor, Command.TAKE_POSITION, plan)
    party = party or actor.role
    _require_may_speak_for(actor, party, stance)
    text = _subject_text(plan, subject_id)
    position = Position(
        subject_id=subject_id,
        party=party,
        stance=stance,
        by=actor.name,
        at=now,
        proposed_change=_wording(proposed_change, "proposed wording") if stance is Stance.AMEND else "",
        reason=_wording(reason, "reason for declining") if stance is Stance.DECLINE else "",
        comment=_wording(comment, "comment") if stance is Stance.COMMENT else _optional(comment, "comment"),
        by_user=actor.user,
    )
    if stance is Stance.AMEND and position.proposed_change == text:
        raise NegotiationError("The proposed wording is the same as the current one.")
    return _with_position(plan, position)


def accept_amendment(plan: Plan, actor: Actor, now: datetime, subject_id: str, party: Role) -> Plan:
    """The plan with the party's proposed wording applied to the item.

    The party's AMEND becomes AGREE (it is their wording now); other parties' AGREE are cleared;
    other open positions and comments stay, for the coordinator to see.
    """
    _require(actor, Command.ACCEPT_AMENDMENT, plan)
    _subject_text(plan, subject_id)
    position = _position(plan, subject_id, party)
    if position is None or position.stance is not Stance.AMEND:
        raise NegotiationError(f"There is no proposed change from the {ROLE_LABELS[party].lower()} on this item.")
    goal = plan.goal(subject_id)
    if goal is not None:
        goals = tuple(replace(g, text=position.proposed_change) if g.goal_id == subject_id else g for g in plan.goals)
        reworded = replace(plan, goals=goals)
    else:
        reworded = _with_action(plan, replace(_action(plan, subject_id), text=position.proposed_change))
    return _after_content_change(reworded, subject_id, actor.role)  # which turns the matched AMEND into AGREE


def resolve_position(plan: Plan, actor: Actor, now: datetime, subject_id: str, party: Role, note: str) -> Plan:
    """The plan with the party's DECLINE or AMEND closed by a resolution: the coordinator's note, under
    the coordinator's name, next to the position, which keeps its author's stance and words."""
    _require(actor, Command.RESOLVE_POSITION, plan)
    _subject_text(plan, subject_id)
    position = _position(plan, subject_id, party)
    if position is None or not is_open(plan, position):
        raise NegotiationError(f"The {ROLE_LABELS[party].lower()} has no open disagreement on this item.")
    resolution = Resolution(subject_id=subject_id, party=party, position_at=position.at,
                            note=_wording(note, "note on how it was resolved"), by=actor.name, at=now,
                            by_user=actor.user)
    return replace(plan, resolutions=(*plan.resolutions, resolution))


def resolution_of(plan: Plan, position: Position) -> Resolution | None:
    """The resolution that closed this very position, if any."""
    return next((r for r in plan.resolutions if (r.subject_id, r.party, r.position_at) == (
        position.subject_id, position.party, position.at)), None)


def is_open(plan: Plan, position: Position) -> bool:
    """A DECLINE or AMEND that no resolution has closed: signing waits for it."""
    return position.stance in OPEN_STANCES and resolution_of(plan, position) is None


def _require_may_speak_for(actor: Actor, party: Role, stance: Stance) -> None:
    if actor.role is Role.COORDINATOR and party is Role.FAMILY:
        return
    if party is not actor.role:
        raise NegotiationError("You can record only your own role's position (the care coordinator also records "
                               "the family's).")
    if actor.role is Role.FAMILY and stance is Stance.COMMENT:
        raise NegotiationError("Agree, ask for a change or disagree; leave questions for the next visit below.")
    if actor.role is Role.COORDINATOR and stance is not Stance.COMMENT:
        raise NegotiationError("The care coordinator changes the wording directly; add a comment instead.")


# ---------------------------------------------------------------------------------------------------
# The plan: family priority, review, sign-off, revisions
# ---------------------------------------------------------------------------------------------------


def set_family_priority(plan: Plan, actor: Actor, now: datetime, text: str) -> Plan:
    """The plan with the family's stated priority, in their words ('' clears it)."""
    _require(actor, Command.SET_FAMILY_PRIORITY, plan)
    priority = _optional(text, "family's priority")
    if priority == plan.family_priority:
        return plan
    return replace(plan, family_priority=priority, signoffs=())


def submit_for_review(plan: Plan, actor: Actor, now: datetime) -> Plan:
    """The draft plan, now in review."""
    _require(actor, Command.SUBMIT_FOR_REVIEW, plan)
    return replace(plan, state=PlanState.IN_REVIEW)


def sign(plan: Plan, actor: Actor, now: datetime, *, review_months: int = 6,
         signers: Sequence[Role] = REQUIRED_SIGNERS) -> Plan:
    """The plan signed by the actor for their role; signed and frozen once every role in `signers`
    has signed.

    The next review defaults to the signing date plus `review_months`.
    """
    _require(actor, Command.SIGN, plan, signers=signers)
    signoff = SignOff(role=actor.role, name=actor.name, at=now, user=actor.user)
    signed = replace(plan, signoffs=(*plan.signoffs, signoff))
    if missing_signers(signed, signers):
        return signed
    return replace(
        signed,
        state=PlanState.SIGNED,
        signed_at=now,
        next_review=plan.next_review or add_months(now.date(), review_months),
    )


def open_revision(plan: Plan, actor: Actor, now: datetime, *, next_review: date | None = None) -> Plan:
    """A new draft from a signed plan: same content, next revision, no positions, resolutions or
    sign-offs."""
    _require(actor, Command.OPEN_REVISION, plan)
    return replace(
        plan,
        state=PlanState.DRAFT,
        revision=plan.revision + 1,
        positions=(),
        resolutions=(),
        signoffs=(),
        signed_at=None,
        next_review=next_review,
    )


# ---------------------------------------------------------------------------------------------------
# What the review page shows
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disagreement:
    """An open DECLINE or AMEND: what it is about, whose it is, and what they want."""

    subject_id: str
    subject_text: str
    party: Role
    stance: Stance
    detail: str  # the proposed wording (AMEND) or the reason (DECLINE)
    by: str


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One goal or action: the coordinator's wording and each party's position, side by side."""

    subject_id: str
    kind: ItemKind
    text: str
    goal_id: str | None  # for an action, the goal it serves; for a goal, its own id
    owner: Owner | None  # actions only
    due: date | None  # an action's due date, a goal's target date
    positions: tuple[Position, ...]  # in PARTY_ORDER
    disagreement: bool  # some party declined or proposed a change that is still open
    changed: bool  # changed since the version the reader compares with
    resolutions: tuple[Resolution, ...] = ()  # of the positions shown, in PARTY_ORDER

    def position(self, party: Role) -> Position | None:
        return next((p for p in self.positions if p.party is party), None)

    def resolution(self, party: Role) -> Resolution | None:
        return next((r for r in self.resolutions if r.party is party), None)


def disagreements(plan: Plan) -> tuple[Disagreement, ...]:
    """Open DECLINE and AMEND positions (not resolved), in page order of their items, then by party."""
    found = []
    for subject_id, text in _items(plan):
        for position in _positions_on(plan, subject_id):
            if is_open(plan, position):
                detail = position.proposed_change if position.stance is Stance.AMEND else position.reason
                found.append(Disagreement(subject_id, text, position.party, position.stance, detail, position.by))
    return tuple(found)


def review_rows(plan: Plan, changed: frozenset[str] = frozenset()) -> tuple[ReviewRow, ...]:
    """Each goal followed by its actions, then actions not linked to a goal; `changed` holds item ids."""
    goal_ids = {g.goal_id for g in plan.goals}
    rows = []
    for goal in plan.goals:
        rows.append(_row(plan, goal.goal_id, ItemKind.GOAL, goal.text, goal.goal_id, None, goal.target_date, changed))
        rows += [_action_row(plan, a, changed) for a in plan.actions if a.goal_id == goal.goal_id]
    rows += [_action_row(plan, a, changed) for a in plan.actions if a.goal_id not in goal_ids]
    return tuple(rows)


def _action_row(plan: Plan, action: NegotiatedAction, changed: frozenset[str]) -> ReviewRow:
    return _row(plan, action.action_id, ItemKind.ACTION, action.text, action.goal_id, action.owner, action.due,
                changed)


def _row(plan: Plan, subject_id: str, kind: ItemKind, text: str, goal_id: str | None, owner: Owner | None,
         due: date | None, changed: frozenset[str]) -> ReviewRow:
    positions = _positions_on(plan, subject_id)
    return ReviewRow(
        subject_id=subject_id,
        kind=kind,
        text=text,
        goal_id=goal_id,
        owner=owner,
        due=due,
        positions=positions,
        disagreement=any(is_open(plan, p) for p in positions),
        changed=subject_id in changed,
        resolutions=tuple(r for p in positions if (r := resolution_of(plan, p)) is not None),
    )


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


def _after_content_change(plan: Plan, subject_id: str, party: Role) -> Plan:
    """Other parties agreed to the old wording, and every sign-off was of the old plan.

    A proposed change that the new wording now matches word for word counts as agreement.
    """
    text = dict(_items(plan))[subject_id]
    kept = []
    for p in plan.positions:
        if p.subject_id != subject_id:
            kept.append(p)
        elif p.stance is Stance.AMEND and p.proposed_change == text:
            kept.append(replace(p, stance=Stance.AGREE, proposed_change=""))
        elif not (p.stance is Stance.AGREE and p.party is not party):
            kept.append(p)
    return _tidy(replace(plan, positions=tuple(kept), signoffs=()))


def _with_action(plan: Plan, action: NegotiatedAction) -> Plan:
    return replace(plan, actions=tuple(action if a.action_id == action.action_id else a for a in plan.actions))


def _with_position(plan: Plan, position: Position) -> Plan:
    """One current position per party per item: a new one takes the old one's place, and a resolution
    of the old one does not carry over."""
    key = (position.subject_id, position.party)
    if _position(plan, *key) is None:
        return replace(plan, positions=(*plan.positions, position))
    return replace(plan, positions=tuple(position if (p.subject_id, p.party) == key else p for p in plan.positions),
                   resolutions=tuple(r for r in plan.resolutions if (r.subject_id, r.party) != key))


def _tidy(plan: Plan) -> Plan:
    """Without the resolutions whose position is gone or no longer open."""
    kept = tuple(r for r in plan.resolutions
                 if (p := _position(plan, r.subject_id, r.party)) is not None and p.stance in OPEN_STANCES)
    return replace(plan, resolutions=kept)


def _position(plan: Plan, subject_id: str, party: Role) -> Position | None:
    return next((p for p in plan.positions if p.subject_id == subject_id and p.party is party), None)


def _positions_on(plan: Plan, subject_id: str) -> tuple[Position, ...]:
    return tuple(sorted((p for p in plan.positions if p.subject_id == subject_id),
                        key=lambda p: PARTY_ORDER.index(p.party)))


def _items(plan: Plan) -> list[tuple[str, str]]:
    return [(g.goal_id, g.text) for g in plan.goals] + [(a.action_id, a.text) for a in plan.actions]


def _goal(plan: Plan, goal_id: str) -> Goal:
    goal = plan.goal(goal_id)
    if goal is None:
        raise NegotiationError("That goal is no longer in the plan.")
    return goal


def _action(plan: Plan, action_id: str) -> NegotiatedAction:
    action = plan.action(action_id)
    if action is None:
        raise NegotiationError("That action is no longer in the plan.")
    return action


def _subject_text(plan: Plan, subject_id: str) -> str:
    text = dict(_items(plan)).get(subject_id)
    if text is None:
        raise NegotiationError("That goal or action is no longer in the plan.")
    return text


def _require_new_id(plan: Plan, item_id: str) -> None:
    if not item_id or not item_id.strip():
        raise NegotiationError("A new goal or action needs an id.")
    if any(i == item_id for i, _ in _items(plan)):
        raise NegotiationError("That goal or action already exists; reload the plan.")


def _require_goal_link(plan: Plan, goal_id: str | None) -> None:
    if goal_id is not None and plan.goal(goal_id) is None:
        raise NegotiationError("That goal is no longer in the plan.")


def _owner(owner: Owner) -> Owner:
    return replace(owner, name=_optional(owner.name, "owner's name"))


def _wording(value: str, what: str) -> str:
    """Trimmed text, required and of bounded length; refused, never truncated."""
    text = _optional(value, what)
    if not text:
        raise NegotiationError(f"Write the {what}.")
    return text


def _optional(value: str, what: str) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > MAX_TEXT:
        raise NegotiationError(f"The {what} is too long (at most {MAX_TEXT} characters).")
    return text


def _given(**values: object) -> dict[str, object]:
    return {name: value for name, value in values.items() if value is not KEEP}


def _changed_fields(before: Goal | NegotiatedAction, after: Goal | NegotiatedAction) -> frozenset[str]:
    return frozenset(f.name for f in fields(before) if getattr(before, f.name) != getattr(after, f.name))


def _swap(ids: list[str], index: int, direction: Direction, among: range | list[int]) -> list[str]:
    """ids with ids[index] swapped with its neighbour among the given positions, if it has one."""
    places = list(among)
    here = places.index(index)
    there = here - 1 if direction is Direction.UP else here + 1
    if not 0 <= there < len(places):
        return ids
    swapped = list(ids)
    i, j = places[here], places[there]
    swapped[i], swapped[j] = swapped[j], swapped[i]
    return swapped


def _roles_text(roles: frozenset[Role]) -> str:
    return "care team" if roles == PROFESSIONALS else roles_text(roles)


def _unique(texts: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for text in texts:
        if text not in seen:
            seen.append(text)
    return seen


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
