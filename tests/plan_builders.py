"""Builders and Hypothesis strategies for Shared Plan of Care values (the pure plan model).

A test states only what matters: `a_plan(a_goal("g1"), an_action("a1", goal_id="g1"),
a_position("a1", stance=Stance.DECLINE, reason="Too soon"), state=PlanState.IN_REVIEW)`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from smart_app.plan.model import (
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
from smart_app.plan.negotiation import Actor

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
# Each person with their identity (the launch's fhirUser, relative to the FHIR base).
COORDINATOR = Actor(Role.COORDINATOR, "Jordan Lee", "Practitioner/jordan-lee")
CLINICIAN = Actor(Role.CLINICIAN, "Dr Sam Ortiz", "Practitioner/sam-ortiz")
SPECIALIST = Actor(Role.SPECIALIST, "Dr Priya Nair", "PractitionerRole/priya-nair-neurology")
COMMUNITY = Actor(Role.COMMUNITY, "Home Health Co", "Practitioner/home-health")
SCHOOL_NURSE = Actor(Role.SCHOOL_NURSE, "Pat Kim", "Practitioner/pat-kim")
FAMILY = Actor(Role.FAMILY, "Ana Rivera", "RelatedPerson/ana-rivera")

_NAMES = {
    Role.COORDINATOR: COORDINATOR.name,
    Role.CLINICIAN: CLINICIAN.name,
    Role.SPECIALIST: SPECIALIST.name,
    Role.COMMUNITY: COMMUNITY.name,
    Role.SCHOOL_NURSE: SCHOOL_NURSE.name,
    Role.FAMILY: COORDINATOR.name,  # the coordinator records the family's positions
}


def a_goal(goal_id: str = "g1", text: str = "Sleep through the night without pump alarms", **fields: Any) -> Goal:
    return Goal(goal_id=goal_id, text=text, **fields)


def an_action(
    action_id: str = "a1",
    text: str = "Arrange feeding-pump replacement",
    *,
    owner: Owner | Role = Role.COORDINATOR,
    **fields: Any,
) -> NegotiatedAction:
    return NegotiatedAction(
        action_id=action_id, text=text, owner=owner if isinstance(owner, Owner) else Owner(owner), **fields
    )


def a_position(
    subject_id: str = "a1",
    party: Role = Role.CLINICIAN,
    stance: Stance = Stance.AGREE,
    *,
    by: str | None = None,
    at: datetime = NOW,
    **fields: Any,
) -> Position:
    if stance is Stance.AMEND:
        fields.setdefault("proposed_change", "Arrange feeding-pump replacement this week")
    if stance is Stance.DECLINE:
        fields.setdefault("reason", "The vendor needs a new prescription first")
    if stance is Stance.COMMENT:
        fields.setdefault("comment", "Check with the DME vendor")
    return Position(subject_id=subject_id, party=party, stance=stance, by=by or _NAMES[party], at=at, **fields)


def a_signoff(role: Role = Role.COORDINATOR, name: str | None = None, at: datetime = NOW, user: str = "") -> SignOff:
    """A sign-off; without `user`, one saved before sign-offs recorded who signed."""
    return SignOff(role=role, name=name or _NAMES[role], at=at, user=user)


def a_resolution(subject_id: str = "a1", party: Role = Role.CLINICIAN, *, position_at: datetime = NOW,
                 note: str = "Agreed on the phone", by: str | None = None, at: datetime = NOW) -> Resolution:
    return Resolution(subject_id=subject_id, party=party, position_at=position_at, note=note,
                      by=by or COORDINATOR.name, at=at, by_user=COORDINATOR.user)


Part = Goal | NegotiatedAction | Position | Resolution | SignOff


def a_plan(*parts: Part, **fields: Any) -> Plan:
    """A plan of the given goals, actions, positions, resolutions and sign-offs (in the order given),
    plus fields."""
    return Plan(
        goals=tuple(p for p in parts if isinstance(p, Goal)),
        actions=tuple(p for p in parts if isinstance(p, NegotiatedAction)),
        positions=tuple(p for p in parts if isinstance(p, Position)),
        signoffs=tuple(p for p in parts if isinstance(p, SignOff)),
        resolutions=tuple(p for p in parts if isinstance(p, Resolution)),
        **fields,
    )


def a_plan_in_review(*parts: Part, **fields: Any) -> Plan:
    return a_plan(*parts, state=PlanState.IN_REVIEW, **fields)


# ---------------------------------------------------------------------------------------------------
# Hypothesis strategies. Ids come from small pools so two generated plans share items: their diff
# then holds changes and reorders, not only additions and removals.
# ---------------------------------------------------------------------------------------------------

GOAL_IDS = ("g1", "g2", "g3")
ACTION_IDS = ("a1", "a2", "a3", "a4")

texts = st.sampled_from(("", "Sleep", "Weekly PT", "Pump")) | st.text(max_size=20)
short_texts = st.sampled_from(("", "Ana Rivera (mother)", "Dr Ortiz", "Home Health Co", "ok"))
dates = st.integers(min_value=0, max_value=4000).map(lambda d: date(2024, 1, 1) + timedelta(days=d))
moments = st.integers(min_value=0, max_value=10**8).map(
    lambda s: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
)
condition_refs = st.lists(st.sampled_from(("Condition/cp", "Condition/gtube", "Condition/sz")), max_size=2,
                          unique=True).map(tuple)


def owners() -> st.SearchStrategy[Owner]:
    return st.builds(Owner, role=st.sampled_from(Role), name=short_texts,
                     reference=st.sampled_from(("", "Practitioner/dr-ortiz", "Organization/home-health")))


def progress_notes() -> st.SearchStrategy[ProgressNote]:
    return st.builds(ProgressNote, text=texts, author=short_texts, at=moments)


def goals(goal_id: str) -> st.SearchStrategy[Goal]:
    return st.builds(
        Goal,
        goal_id=st.just(goal_id),
        text=texts,
        kind=st.sampled_from(GoalKind),
        expressed_by=short_texts,
        target_date=st.none() | dates,
        lifecycle=st.sampled_from(GoalLifecycle),
        achievement=st.sampled_from(Achievement),
        condition_refs=condition_refs,
    )


def actions(action_id: str) -> st.SearchStrategy[NegotiatedAction]:
    return st.builds(
        NegotiatedAction,
        action_id=st.just(action_id),
        text=texts,
        owner=owners(),
        goal_id=st.none() | st.sampled_from(GOAL_IDS),
        due=st.none() | dates,
        status=st.sampled_from(ActionStatus),
        condition_refs=condition_refs,
        progress=st.lists(progress_notes(), max_size=1).map(tuple),
    )


def positions(subject_id: str, party: Role) -> st.SearchStrategy[Position]:
    return st.builds(
        Position,
        subject_id=st.just(subject_id),
        party=st.just(party),
        stance=st.sampled_from(Stance),
        by=short_texts,
        at=moments,
        proposed_change=st.sampled_from(("", "Twice a week")),
        reason=st.sampled_from(("", "Too soon")),
        comment=st.sampled_from(("", "Ask the vendor")),
        by_user=st.sampled_from(("", "Practitioner/dr-ortiz")),
    )


def resolutions(subject_id: str, party: Role) -> st.SearchStrategy[Resolution]:
    return st.builds(Resolution, subject_id=st.just(subject_id), party=st.just(party), position_at=moments,
                     note=st.sampled_from(("Agreed on the phone", "Kept weekly")), by=short_texts, at=moments,
                     by_user=st.sampled_from(("", "Practitioner/jordan-lee")))


def signoffs(role: Role) -> st.SearchStrategy[SignOff]:
    """A sign-off for the role, by a person of its own (unique keys), or an older one without identity."""
    return st.builds(SignOff, role=st.just(role), name=short_texts, at=moments,
                     user=st.sampled_from(("", f"Practitioner/{role.value}")))


@st.composite
def _keyed(draw: st.DrawFn, keys: tuple[Any, ...], build: Any) -> tuple[Any, ...]:
    """Values for a random subset of keys, in a random order: unique keys, as a plan has."""
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
    return tuple(draw(build(*k) if isinstance(k, tuple) else build(k)) for k in chosen)


POSITION_KEYS = tuple((s, p) for s in GOAL_IDS[:2] + ACTION_IDS[:2] for p in (Role.CLINICIAN, Role.FAMILY))


def plans() -> st.SearchStrategy[Plan]:
    """Any plan: goals, actions, positions, resolutions and sign-offs with unique keys, any state and
    fields."""
    return st.builds(
        Plan,
        goals=_keyed(GOAL_IDS, goals),
        actions=_keyed(ACTION_IDS, actions),
        positions=_keyed(POSITION_KEYS, positions),
        state=st.sampled_from(PlanState),
        signoffs=_keyed(tuple(Role)[:3], signoffs),
        family_priority=st.sampled_from(("", "Fewer hospital stays")) | texts,
        revision=st.integers(min_value=1, max_value=4),
        next_review=st.none() | dates,
        signed_at=st.none() | moments,
        resolutions=_keyed(POSITION_KEYS[:4], resolutions),
    )
