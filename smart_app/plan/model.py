"""The Shared Plan of Care: goals, negotiated actions, each party's position, sign-offs.

Layer: pure core (smart_app.plan). Imports: stdlib only. Values are frozen; change them with
`dataclasses.replace` (or the rules in plan.negotiation, which also check who may do what).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Role(StrEnum):
    """Who takes part in the plan. The coordinator and the primary-care clinician sign it."""

    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"  # the primary-care provider leading the medical home
    FAMILY = "family"
    SPECIALIST = "specialist"
    SCHOOL_NURSE = "school-nurse"
    COMMUNITY = "community"  # home nursing, therapies, community services


ROLE_LABELS: dict[Role, str] = {
    Role.COORDINATOR: "Care coordinator",
    Role.CLINICIAN: "Primary care clinician",
    Role.FAMILY: "Family",
    Role.SPECIALIST: "Specialist",
    Role.SCHOOL_NURSE: "School nurse",
    Role.COMMUNITY: "Community provider",
}


class GoalKind(StrEnum):
    FAMILY = "family"  # personal goals, in the family's own words
    CLINICAL = "clinical"


class GoalLifecycle(StrEnum):  # a subset of FHIR Goal.lifecycleStatus
    PROPOSED = "proposed"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Achievement(StrEnum):  # FHIR goal-achievement
    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no-change"
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not-achieved"


class ActionStatus(StrEnum):  # tracking of a negotiated action (maps to Task.businessStatus)
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class Stance(StrEnum):
    AGREE = "agree"
    AMEND = "amend"  # agrees with a proposed change
    DECLINE = "decline"  # with a reason
    COMMENT = "comment"


class PlanState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in-review"
    SIGNED = "signed"


@dataclass(frozen=True, slots=True)
class Owner:
    """Who is responsible for an action: a role, and a person or organisation when known."""

    role: Role
    name: str = ""
    reference: str = ""  # the care-team member's FHIR reference ("Practitioner/7"), when chosen from the team


@dataclass(frozen=True, slots=True)
class ProgressNote:
    text: str
    author: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Goal:
    goal_id: str
    text: str
    kind: GoalKind = GoalKind.CLINICAL
    expressed_by: str = ""  # "Ana Rivera (mother)": whose words these are
    target_date: date | None = None
    lifecycle: GoalLifecycle = GoalLifecycle.PROPOSED
    achievement: Achievement = Achievement.IN_PROGRESS
    condition_refs: tuple[str, ...] = ()  # "Condition/123" from the summary


@dataclass(frozen=True, slots=True)
class NegotiatedAction:
    action_id: str
    text: str
    owner: Owner
    goal_id: str | None = None
    due: date | None = None
    status: ActionStatus = ActionStatus.NOT_STARTED
    condition_refs: tuple[str, ...] = ()
    progress: tuple[ProgressNote, ...] = ()


@dataclass(frozen=True, slots=True)
class Position:
    """One party's position on one goal or action (its `subject_id`)."""

    subject_id: str
    party: Role
    stance: Stance
    by: str  # the person who took it
    at: datetime
    proposed_change: str = ""  # for AMEND: the wording they would accept
    reason: str = ""  # for DECLINE
    comment: str = ""
    by_user: str = ""  # the identity (fhirUser reference) of whoever took it


@dataclass(frozen=True, slots=True)
class Resolution:
    """How the coordinator settled an open DECLINE or AMEND, in their own words and under their name.

    It belongs to one position: the party's on `subject_id` taken at `position_at`. That position keeps
    its author's stance and words; a new position from the party is not covered by this resolution.
    """

    subject_id: str
    party: Role
    position_at: datetime
    note: str
    by: str
    at: datetime
    by_user: str = ""


@dataclass(frozen=True, slots=True)
class SignOff:
    """A person's signature for a role. `user` is their identity: one identity signs once per revision."""

    role: Role
    name: str
    at: datetime
    user: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """One version's content. Order of goals and actions is their order on the page."""

    goals: tuple[Goal, ...] = ()
    actions: tuple[NegotiatedAction, ...] = ()
    positions: tuple[Position, ...] = ()
    state: PlanState = PlanState.DRAFT
    signoffs: tuple[SignOff, ...] = ()
    family_priority: str = ""  # "what matters most to us right now", in the family's words
    revision: int = 1  # increases each time a signed plan is reopened
    next_review: date | None = None
    signed_at: datetime | None = None
    resolutions: tuple[Resolution, ...] = ()

    def goal(self, goal_id: str) -> Goal | None:
        return next((g for g in self.goals if g.goal_id == goal_id), None)

    def action(self, action_id: str) -> NegotiatedAction | None:
        return next((a for a in self.actions if a.action_id == action_id), None)


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """An immutable saved version of a plan."""

    plan_id: str
    version: int
    plan: Plan
    saved_by: str
    saved_at: datetime
    note: str = ""  # what this save did, in words ("Clinician amended 'Weekly PT'")
