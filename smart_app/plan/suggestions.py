"""Candidate goals and actions from the EHR, for the coordinator to accept into the plan or ignore.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

Existing EHR Goals become candidate goals; open referrals and other ServiceRequests become candidate
actions, with a guessed owner (a referral: the coordinator follows it up; a home or community
service: the community provider). Items the plan already holds are not suggested again. The plan
model has no link back to the EHR item yet, so "already holds" means the same wording (ignoring case
and spacing); the coordinator's ignored suggestions are passed in by their `key`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from . import negotiation
from .i18n import format_date
from .model import Achievement, GoalLifecycle, Owner, Plan, Role
from .summary import GoalItem, MedicalSummary, ServiceItem, item_key

T = TypeVar("T")


class SuggestionKind(StrEnum):
    GOAL = "goal"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A goal or action the EHR already knows about, ready to be added to the plan."""

    key: str  # item_key of the EHR item: remember it to ignore the suggestion
    kind: SuggestionKind
    text: str
    detail: str  # where it comes from, in one line: "Referral · active · requested 3 Jun 2026"
    source_ref: str  # "Goal/123", "ServiceRequest/456"; "" when the EHR sent no id
    expressed_by: str = ""  # goals
    target_date: date | None = None  # goals
    lifecycle: GoalLifecycle = GoalLifecycle.PROPOSED  # goals
    achievement: Achievement = Achievement.IN_PROGRESS  # goals
    owner: Owner | None = None  # actions: a guess the coordinator can change


# FHIR Goal.lifecycleStatus values worth proposing, and what they become in the plan.
_GOAL_LIFECYCLE = {
    "proposed": GoalLifecycle.PROPOSED,
    "planned": GoalLifecycle.PROPOSED,
    "accepted": GoalLifecycle.PROPOSED,
    "active": GoalLifecycle.ACTIVE,
    "on-hold": GoalLifecycle.ON_HOLD,
    "unknown": GoalLifecycle.PROPOSED,
}
_OPEN_SERVICE = frozenset({"active", "on-hold", "unknown"})
_COMMUNITY_WORDS = ("home", "community", "nursing", "respite", "hospice", "equipment", "dme", "school")


def suggest(summary: MedicalSummary, plan: Plan, *, ignored: frozenset[str] = frozenset()) -> tuple[Suggestion, ...]:
    """Goals, then actions, from the EHR that the plan lacks and the coordinator has not ignored."""
    goals = [goal_suggestion(g) for g in _of_type(summary.section("goals").active, GoalItem)
             if g.status in _GOAL_LIFECYCLE]
    actions = [action_suggestion(s) for s in _of_type(summary.section("services").active, ServiceItem)
               if s.status in _OPEN_SERVICE]
    held_goals = {_folded(g.text) for g in plan.goals}
    held_actions = {_folded(a.text) for a in plan.actions}
    fresh = [s for s in goals if _folded(s.text) not in held_goals]
    fresh += [s for s in actions if not {_folded(s.text), _folded(_raw_label(s))} & held_actions]
    return tuple(s for s in fresh if s.key not in ignored)


def goal_suggestion(item: GoalItem) -> Suggestion:
    return Suggestion(
        key=item_key(item),
        kind=SuggestionKind.GOAL,
        text=item.label,
        detail=" · ".join(p for p in ("Goal in the EHR", item.status.replace("-", " "),
                                      f"by {item.expressed_by}" if item.expressed_by else "",
                                      f"due {format_date(item.due, short=True)}" if item.due else "") if p),
        source_ref=item.source.reference,
        expressed_by=item.expressed_by,
        target_date=item.due,
        lifecycle=_GOAL_LIFECYCLE.get(item.status, GoalLifecycle.PROPOSED),
        achievement=_achievement(item.achievement),
    )


def action_suggestion(item: ServiceItem) -> Suggestion:
    owner = guess_owner(item)
    text = f"Follow up referral: {item.label}" if owner.role is Role.COORDINATOR and _is_referral(item) else item.label
    return Suggestion(
        key=item_key(item),
        kind=SuggestionKind.ACTION,
        text=text,
        detail=" · ".join(p for p in (item.category or "Service request", item.status.replace("-", " "),
                                      f"requested {format_date(item.requested, short=True)}" if item.requested else "",
                                      item.performer) if p),
        source_ref=item.source.reference,
        owner=owner,
    )


def guess_owner(item: ServiceItem) -> Owner:
    """Referrals are followed up by the coordinator; home and community services by their provider."""
    if _is_referral(item):
        return Owner(Role.COORDINATOR)
    words = f"{item.category} {item.label}".casefold()
    if any(w in words for w in _COMMUNITY_WORDS):
        return Owner(Role.COMMUNITY, item.performer)
    return Owner(Role.COORDINATOR)


def accept_suggestion(plan: Plan, actor: negotiation.Actor, now: datetime, suggestion: Suggestion,
                      new_id: str) -> Plan:
    """The plan with the suggestion added as a goal or action (same rules as adding one by hand)."""
    if suggestion.kind is SuggestionKind.GOAL:
        return negotiation.add_goal(
            plan, actor, now,
            goal_id=new_id,
            text=suggestion.text,
            expressed_by=suggestion.expressed_by,
            target_date=suggestion.target_date,
            lifecycle=suggestion.lifecycle,
        )
    return negotiation.add_action(
        plan, actor, now, action_id=new_id, text=suggestion.text, owner=suggestion.owner or Owner(Role.COORDINATOR)
    )


def _is_referral(item: ServiceItem) -> bool:
    return "referral" in item.category.casefold() or "referral" in item.label.casefold()


def _raw_label(suggestion: Suggestion) -> str:
    return suggestion.text.removeprefix("Follow up referral: ")


def _achievement(text: str) -> Achievement:
    folded = "-".join(text.casefold().split())
    return next((a for a in Achievement if a.value == folded), Achievement.IN_PROGRESS)


def _of_type(items: Iterable[object], kind: type[T]) -> list[T]:
    return [i for i in items if isinstance(i, kind)]


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())
