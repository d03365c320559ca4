"""The family in the loop: what the patient or a parent, signed in through the portal, asks of the care
team, and what changed in the shared plan since they last looked.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

The family acts in two ways:
- on the plan itself (their position on a goal or action, their own action marked done): these are
  plan commands (plan.negotiation), saved like every other writer's and merged with them;
- requests to the care team that are not plan content: a question for the next visit, "I need help"
  on one of their actions, a proposed change to About us. A professional closes each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from . import i18n
from .model import ActionStatus, Plan, Position, Role, Stance
from .people import FAMILY_TYPES, resource_type

MAX_REQUEST = 1000


class RequestKind(StrEnum):
    QUESTION = "question"  # for the next visit
    NEED_HELP = "need-help"  # on one of the family's own actions
    ABOUT_CHANGE = "about-change"  # a proposed new answer to one About us question
    ACCESS = "access"  # a parent asking to see an adolescent's plan (the site says "ask")


class RequestStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"  # a question answered, a "need help" handled
    ACCEPTED = "accepted"  # an About us change applied, access granted
    DECLINED = "declined"  # to be talked over instead; access not granted


# What a professional may answer to each kind of request.
CLOSING: dict[RequestKind, frozenset[RequestStatus]] = {
    RequestKind.QUESTION: frozenset({RequestStatus.ANSWERED}),
    RequestKind.NEED_HELP: frozenset({RequestStatus.ANSWERED}),
    RequestKind.ABOUT_CHANGE: frozenset({RequestStatus.ACCEPTED, RequestStatus.DECLINED}),
    RequestKind.ACCESS: frozenset({RequestStatus.ACCEPTED, RequestStatus.DECLINED}),
}
# The kinds the family writes on its own page (access requests are made by the launch itself).
FAMILY_WRITTEN = (RequestKind.QUESTION, RequestKind.NEED_HELP, RequestKind.ABOUT_CHANGE)


class FamilyRequestError(ValueError):
    """str(err) is shown to the person who asked."""


@dataclass(frozen=True, slots=True)
class FamilyRequest:
    request_id: str
    kind: RequestKind
    subject_id: str  # the action (need help), the About us question (about change), or ""
    text: str  # the family's words
    by_name: str
    by_user: str
    at: datetime
    status: RequestStatus = RequestStatus.OPEN
    reply: str = ""
    closed_by: str = ""
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is RequestStatus.OPEN


def family_words(text: str, what: str = "your message") -> str:
    """The family's words, trimmed; FamilyRequestError when empty or too long."""
    words = "\n".join(" ".join(line.split()) for line in str(text or "").strip().splitlines()).strip()
    if not words:
        raise FamilyRequestError(f"Write {what} first.")
    if len(words) > MAX_REQUEST:
        raise FamilyRequestError(f"That is too long (at most {MAX_REQUEST} characters).")
    return words


def check_closing(request: FamilyRequest, status: RequestStatus) -> None:
    if not request.is_open:
        raise FamilyRequestError("This request was already answered.")
    if status not in CLOSING[request.kind]:
        raise FamilyRequestError("That answer does not fit this request.")


# ---------------------------------------------------------------------------------------------------
# Who said it
# ---------------------------------------------------------------------------------------------------


def by_family_member(position: Position) -> bool:
    """A position the family took itself (signed in as the patient or a parent), not one recorded for
    them by the coordinator."""
    return resource_type(position.by_user) in FAMILY_TYPES


def family_position(plan: Plan, subject_id: str) -> Position | None:
    return next((p for p in plan.positions if p.subject_id == subject_id and p.party is Role.FAMILY), None)


def open_family_asks(plan: Plan | None, requests: Iterable[FamilyRequest]) -> int:
    """What the family is waiting on: open requests, and their own open "change" or "disagree" positions
    on the plan. A reason to review the plan (plan.review_cycle)."""
    asks = sum(1 for r in requests if r.is_open and r.kind is not RequestKind.ACCESS)
    if plan is not None:
        asks += sum(1 for p in plan.positions if p.party is Role.FAMILY and by_family_member(p)
                    and p.stance in (Stance.AMEND, Stance.DECLINE))
    return asks


# ---------------------------------------------------------------------------------------------------
# What changed since their last visit
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeLine:
    kind: str  # new-goal | changed-goal | removed-goal | new-action | changed-action | removed-action | done
    text: str  # the item's wording, as the family sees it now (or last saw it, when removed)


def changes_since_visit(seen: Plan | None, shared: Plan, statuses: dict[str, ActionStatus] | None = None
                        ) -> tuple[ChangeLine, ...]:
    """What is new or different in the shared plan since the version the family last saw. `statuses`
    are the actions' statuses now (tracking goes on between signings): an action done since is said."""
    if seen is None:
        return ()
    lines: list[ChangeLine] = []
    before_goals = {g.goal_id: g for g in seen.goals}
    now_goals = {g.goal_id: g for g in shared.goals}
    for goal in shared.goals:
        earlier = before_goals.get(goal.goal_id)
        if earlier is None:
            lines.append(ChangeLine("new-goal", goal.text))
        elif (earlier.text, earlier.target_date) != (goal.text, goal.target_date):
            lines.append(ChangeLine("changed-goal", goal.text))
    lines += [ChangeLine("removed-goal", g.text) for g in seen.goals if g.goal_id not in now_goals]
    before_actions = {a.action_id: a for a in seen.actions}
    now_actions = {a.action_id: a for a in shared.actions}
    statuses = statuses or {}
    for action in shared.actions:
        earlier = before_actions.get(action.action_id)
        status_now = statuses.get(action.action_id, action.status)
        if earlier is None:
            lines.append(ChangeLine("new-action", action.text))
            continue
        if (earlier.text, earlier.owner, earlier.due) != (action.text, action.owner, action.due):
            lines.append(ChangeLine("changed-action", action.text))
        if status_now is ActionStatus.DONE and earlier.status is not ActionStatus.DONE:
            lines.append(ChangeLine("done", action.text))
    lines += [ChangeLine("removed-action", a.text) for a in seen.actions if a.action_id not in now_actions]
    return tuple(lines)


def change_label(kind: str, lang: str) -> str:
    return i18n.family_labels(lang)[f"change_{kind.replace('-', '_')}"]


__all__: Sequence[str] = (
    "CLOSING", "FAMILY_WRITTEN", "ChangeLine", "FamilyRequest", "FamilyRequestError", "RequestKind",
    "RequestStatus", "by_family_member", "change_label", "changes_since_visit", "check_closing",
    "family_position", "family_words", "open_family_asks",
)
