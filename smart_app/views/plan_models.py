"""View-models of the goals-and-actions pages: the side-by-side review, sign-off, history, conflicts.

Layer: HTTP in (views). Pure functions from plan values to strings and tuples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..plan import diff as plan_diff
from ..plan import negotiation as n
from ..plan.model import (
    ROLE_LABELS,
    ActionStatus,
    GoalKind,
    NegotiatedAction,
    Plan,
    PlanState,
    PlanVersion,
    Position,
    Role,
    Stance,
)
from ..plan.family import by_family_member
from ..plan.history import history
from ..plan.people import owner_label
from .summary_models import format_date

STATE_LABELS = {PlanState.DRAFT: "Draft", PlanState.IN_REVIEW: "In review", PlanState.SIGNED: "Signed"}
STANCE_LABELS = {Stance.AGREE: "Agrees", Stance.AMEND: "Proposes a change", Stance.DECLINE: "Declines",
                 Stance.COMMENT: "Comment"}
STATUS_LABELS = {ActionStatus.NOT_STARTED: "Not started", ActionStatus.IN_PROGRESS: "In progress",
                 ActionStatus.DONE: "Done", ActionStatus.BLOCKED: "Blocked", ActionStatus.CANCELLED: "Cancelled"}
# Columns beside the coordinator's wording: the clinician and the family always, others when they speak.
CORE_PARTIES = (Role.CLINICIAN, Role.FAMILY)


@dataclass(frozen=True, slots=True)
class PositionCell:
    party: str
    party_label: str
    stance: str  # "" when the party has not taken a position
    stance_label: str
    detail: str  # proposed wording, reason or comment
    by: str
    at: str
    open: bool  # an unresolved amend/decline
    can_take: bool  # the viewer may record this party's position here
    can_resolve: bool  # the viewer (coordinator) may accept or resolve it
    resolution: str = ""  # how the coordinator settled it, in their words and under their name
    recorded: bool = False  # the family's position as the coordinator recorded it, not the family's own act


@dataclass(frozen=True, slots=True)
class ItemCard:
    kind: str  # goal | action
    item_id: str
    text: str
    facts: tuple[str, ...]  # "Family goal", "Target 1 Mar 2027", "Owner: Coordinator (Jordan Lee)"...
    positions: tuple[PositionCell, ...]
    disagreement: bool
    changed: bool
    progress: tuple[str, ...] = ()
    # raw values for the edit form
    goal_id: str = ""
    date_iso: str = ""
    owner_role: str = ""
    owner_name: str = ""
    status: str = ""
    goal_kind: str = ""
    expressed_by: str = ""
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class GoalBlock:
    goal: ItemCard | None  # None for the actions not linked to any goal
    actions: tuple[ItemCard, ...]


@dataclass(frozen=True, slots=True)
class SignoffCell:
    role_label: str
    name: str
    at: str
    signed: bool


@dataclass(frozen=True, slots=True)
class PlanPage:
    version: int
    state: str
    state_label: str
    revision: int
    status_line: str
    family_priority: str
    parties: tuple[str, ...]  # column headings
    blocks: tuple[GoalBlock, ...]
    goal_choices: tuple[tuple[str, str], ...]  # (goal_id, text) for linking an action
    signoffs: tuple[SignoffCell, ...]
    can: frozenset[str]  # the commands the viewer may use now
    open_disagreements: int
    acting_label: str
    changed_since: str  # "Changes since version 3 are marked."
    can_sign: bool = False
    sign_blocker: str = ""


def plan_page(current: PlanVersion, previous: PlanVersion | None, *, actor: n.Actor, today: date,
              signers: tuple[Role, ...] = n.REQUIRED_SIGNERS) -> PlanPage:
    plan = current.plan
    actor_role = actor.role
    changed = (plan_diff.changed_keys(plan_diff.diff(previous.plan, plan)) if previous else frozenset())
    parties = CORE_PARTIES + tuple(r for r in Role if r not in CORE_PARTIES and r is not Role.COORDINATOR
                                   and any(p.party is r for p in plan.positions))
    rows = {row.subject_id: row for row in n.review_rows(plan, changed)}
    can = frozenset(c.value for c in n.Command if n.why_not(actor, c, plan, signers=signers) is None)

    def cells(subject_id: str) -> tuple[PositionCell, ...]:
        return tuple(_cell(rows[subject_id].position(party), party, actor_role, plan, subject_id)
                     for party in parties)

    blocks = []
    goal_ids = {g.goal_id for g in plan.goals}
    for goal in plan.goals:
        card = ItemCard(
            kind="goal", item_id=goal.goal_id, text=goal.text,
            facts=tuple(f for f in (
                "Family goal" if goal.kind is GoalKind.FAMILY else "Clinical goal",
                f"In the words of {goal.expressed_by}" if goal.expressed_by else "",
                f"Target {format_date(goal.target_date)}" if goal.target_date else "",
                goal.lifecycle.value.replace("-", " ").capitalize(),
                goal.achievement.value.replace("-", " ") if goal.achievement else "") if f),
            positions=cells(goal.goal_id), disagreement=rows[goal.goal_id].disagreement,
            changed=goal.goal_id in changed, goal_id=goal.goal_id,
            date_iso=goal.target_date.isoformat() if goal.target_date else "", goal_kind=goal.kind.value,
            expressed_by=goal.expressed_by)
        actions = tuple(_action_card(a, cells, rows, changed, today) for a in plan.actions if a.goal_id == goal.goal_id)
        blocks.append(GoalBlock(card, actions))
    loose = tuple(_action_card(a, cells, rows, changed, today) for a in plan.actions if a.goal_id not in goal_ids)
    if loose:
        blocks.append(GoalBlock(None, loose))
    sign_blocker = n.why_not(actor, n.Command.SIGN, plan, signers=signers) or ""
    return PlanPage(
        version=current.version,
        state=plan.state.value,
        state_label=STATE_LABELS[plan.state],
        revision=plan.revision,
        status_line=_status_line(plan, signers),
        family_priority=plan.family_priority,
        parties=tuple(ROLE_LABELS[p] for p in parties),
        blocks=tuple(blocks),
        goal_choices=tuple((g.goal_id, g.text) for g in plan.goals),
        signoffs=tuple(_signoff(plan, role) for role in signers),
        can=can,
        open_disagreements=len(n.disagreements(plan)),
        acting_label=ROLE_LABELS[actor_role],
        changed_since=f"Changes since version {previous.version} are marked." if previous and changed else "",
        can_sign=n.Command.SIGN.value in can and not sign_blocker,
        sign_blocker=sign_blocker,
    )


def _action_card(action: NegotiatedAction, cells, rows, changed, today: date) -> ItemCard:
    owner = owner_label(action.owner)
    overdue = bool(action.due and action.due < today and action.status not in (ActionStatus.DONE, ActionStatus.CANCELLED))
    return ItemCard(
        kind="action", item_id=action.action_id, text=action.text,
        facts=tuple(f for f in (f"Owner: {owner}", f"Due {format_date(action.due)}" if action.due else "No due date",
                                STATUS_LABELS[action.status]) if f),
        positions=cells(action.action_id), disagreement=rows[action.action_id].disagreement,
        changed=action.action_id in changed,
        progress=tuple(f"{format_date(p.at.date())} · {p.author}: {p.text}" for p in action.progress),
        goal_id=action.goal_id or "", date_iso=action.due.isoformat() if action.due else "",
        owner_role=action.owner.role.value, owner_name=action.owner.name, status=action.status.value,
        overdue=overdue)


def _cell(position: Position | None, party: Role, actor: Role, plan: Plan, subject_id: str) -> PositionCell:
    speaks_for = party is actor or (actor is Role.COORDINATOR and party is Role.FAMILY)
    can_take = speaks_for and n.allowed(actor, n.Command.TAKE_POSITION, plan, subject_id)
    open_ = bool(position and n.is_open(plan, position))
    resolution = n.resolution_of(plan, position) if position else None
    return PositionCell(
        party=party.value, party_label=ROLE_LABELS[party],
        stance=position.stance.value if position else "",
        stance_label=STANCE_LABELS[position.stance] if position else "No position yet",
        detail=(position.proposed_change or position.reason or position.comment) if position else "",
        by=position.by if position else "", at=_when(position.at) if position else "",
        open=open_, can_take=can_take,
        can_resolve=open_ and n.allowed(actor, n.Command.ACCEPT_AMENDMENT, plan, subject_id),
        resolution=(f"Resolved by {resolution.by}, {_when(resolution.at)}: {resolution.note}" if resolution else ""),
        recorded=bool(position and party is Role.FAMILY and not by_family_member(position)))


def _signoff(plan: Plan, role: Role) -> SignoffCell:
    done = next((s for s in plan.signoffs if s.role is role), None)
    return SignoffCell(role_label=ROLE_LABELS[role], name=done.name if done else "",
                       at=_when(done.at) if done else "", signed=done is not None)


def _status_line(plan: Plan, signers: tuple[Role, ...]) -> str:
    if plan.state is PlanState.SIGNED:
        review = f"; next review due {format_date(plan.next_review)}" if plan.next_review else ""
        return f"Signed {format_date(plan.signed_at.date()) if plan.signed_at else ''}{review}. " \
               "This version is frozen: open a new revision to change it."
    if plan.state is PlanState.IN_REVIEW:
        waiting = ", ".join(ROLE_LABELS[r] for r in n.missing_signers(plan, signers))
        return f"In review. Awaiting sign-off from: {waiting}." if waiting else "In review."
    return "Draft. Add goals and the actions agreed for each, then send the plan for review."


def _when(at: datetime) -> str:
    return f"{format_date(at.date())} {at:%H:%M}"


@dataclass(frozen=True, slots=True)
class HistoryStepView:
    version: int
    saved_at: str
    note: str
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RevisionView:
    revision: int
    headline: str  # "Revision 3 · signed 3 Dec 2026 by Jordan Lee (Care coordinator) and …"
    state: str
    steps: tuple[HistoryStepView, ...]  # newest first, folded under the revision


def history_view(versions: list[PlanVersion]) -> tuple[RevisionView, ...]:
    """The plan's history by revision, newest first (plan.history)."""
    return tuple(RevisionView(r.revision, r.headline, r.state.value,
                              tuple(HistoryStepView(step.version, _when(step.saved_at), step.note or step.saved_by,
                                                    step.changes) for step in r.steps))
                 for r in history(versions))


@dataclass(frozen=True, slots=True)
class SuggestionRow:
    key: str
    kind_label: str
    text: str
    detail: str


def suggestion_row(suggestion) -> SuggestionRow:
    return SuggestionRow(key=suggestion.key, kind_label="Goal" if suggestion.kind.value == "goal" else "Action",
                         text=suggestion.text, detail=suggestion.detail)
