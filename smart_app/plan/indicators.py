"""Outcome indicators the seeds name, per patient, over time: progress against each goal, ED visits
and admissions per 12 months before and since the plan, and actions completed on time.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. No clock: callers pass
`today`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from smart_app.plan.dates import one_year_before
from smart_app.plan.model import (
    Achievement,
    ActionStatus,
    GoalLifecycle,
    NegotiatedAction,
    Plan,
    PlanVersion,
)
from smart_app.plan.summary import EncounterItem, EncounterKind, SummaryItem

DAYS_PER_12_MONTHS = 365

# ---------------------------------------------------------------------------------------------------
# Progress against each goal
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoalPoint:
    """A goal's standing as saved in one plan version."""

    at: datetime
    version: int
    achievement: Achievement
    lifecycle: GoalLifecycle


@dataclass(frozen=True, slots=True)
class GoalProgress:
    """One goal over time: a point each time its achievement or lifecycle changed, oldest first."""

    goal_id: str
    text: str  # the latest wording
    points: tuple[GoalPoint, ...]

    @property
    def latest(self) -> GoalPoint:
        return self.points[-1]


def progress_by_goal(versions: Iterable[PlanVersion]) -> tuple[GoalProgress, ...]:
    """Each goal's achievement over the saved versions, goals in the order they first appeared."""
    texts: dict[str, str] = {}
    points: dict[str, list[GoalPoint]] = {}
    for version in sorted(versions, key=lambda v: v.version):
        for goal in version.plan.goals:
            texts[goal.goal_id] = goal.text
            history = points.setdefault(goal.goal_id, [])
            point = GoalPoint(version.saved_at, version.version, goal.achievement, goal.lifecycle)
            if not history or (history[-1].achievement, history[-1].lifecycle) != (
                point.achievement,
                point.lifecycle,
            ):
                history.append(point)
    return tuple(GoalProgress(goal_id, texts[goal_id], tuple(history)) for goal_id, history in points.items())


# ---------------------------------------------------------------------------------------------------
# Hospital use before and since the plan
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HospitalUseRates:
    """ED visits and admissions in the 12 months before the plan started and since, with rates.

    Windows: "before" is the year up to and including the plan's start day (a visit on the signing
    day happened before the plan could act); "since" is the day after the start up to today. A rate
    is the count scaled to 12 months of its window; None when the window has no days yet.
    """

    ed_before: int
    admissions_before: int
    ed_since: int
    admissions_since: int
    before_days: int
    since_days: int

    @property
    def ed_per_12m_before(self) -> float | None:
        return _per_12_months(self.ed_before, self.before_days)

    @property
    def admissions_per_12m_before(self) -> float | None:
        return _per_12_months(self.admissions_before, self.before_days)

    @property
    def ed_per_12m_since(self) -> float | None:
        return _per_12_months(self.ed_since, self.since_days)

    @property
    def admissions_per_12m_since(self) -> float | None:
        return _per_12_months(self.admissions_since, self.since_days)

    def rates(self) -> tuple[float | None, float | None, float | None, float | None]:
        """(ED before, admissions before, ED since, admissions since), each per 12 months."""
        return (
            self.ed_per_12m_before,
            self.admissions_per_12m_before,
            self.ed_per_12m_since,
            self.admissions_per_12m_since,
        )


def hospital_use_before_and_since(
    encounters: Iterable[SummaryItem], plan_start: date, today: date
) -> HospitalUseRates:
    """Counts and 12-month rates of ED visits and admissions, before the plan and since it started."""
    year_before = one_year_before(plan_start)
    stays = [(e, e.start) for e in encounters if isinstance(e, EncounterItem) and e.start is not None]
    before = [e for e, start in stays if year_before < start <= plan_start]
    since = [e for e, start in stays if plan_start < start <= today]
    return HospitalUseRates(
        ed_before=_count(before, EncounterKind.EMERGENCY),
        admissions_before=_count(before, EncounterKind.INPATIENT),
        ed_since=_count(since, EncounterKind.EMERGENCY),
        admissions_since=_count(since, EncounterKind.INPATIENT),
        before_days=(plan_start - year_before).days,
        since_days=max((today - plan_start).days, 0),
    )


def _count(encounters: Iterable[EncounterItem], kind: EncounterKind) -> int:
    return sum(1 for e in encounters if e.kind is kind)


def _per_12_months(count: int, days: int) -> float | None:
    return None if days <= 0 else round(count * DAYS_PER_12_MONTHS / days, 1)


# ---------------------------------------------------------------------------------------------------
# Actions completed on time
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionsOnTime:
    """How the plan's actions went. Cancelled actions count nowhere.

    An action is done on time when it became DONE on or before its due date; one with no due date
    is on time when done. When it became done is, in order of preference:
    1. the saved time of the version where it last turned DONE (the history of versions);
    2. else the time of its latest progress note (someone wrote "done" when closing it);
    3. else unknown: counted in `done_undated`, neither on time nor late.
    """

    done_on_time: int
    done_late: int
    open_overdue: int
    open_on_track: int = 0
    done_undated: int = 0


def actions_on_time(plan: Plan, history: Sequence[PlanVersion], *, today: date) -> ActionsOnTime:
    """Counts of the current plan's actions: done on time, done late, open and overdue."""
    on_time = late = overdue = on_track = undated = 0
    for action in plan.actions:
        if action.status is ActionStatus.CANCELLED:
            continue
        if action.status is not ActionStatus.DONE:
            if action.due is not None and action.due < today:
                overdue += 1
            else:
                on_track += 1
            continue
        done_on = when_done(action, history)
        if action.due is None:
            on_time += 1
        elif done_on is None:
            undated += 1
        elif done_on <= action.due:
            on_time += 1
        else:
            late += 1
    return ActionsOnTime(on_time, late, overdue, on_track, undated)


def when_done(action: NegotiatedAction, history: Sequence[PlanVersion]) -> date | None:
    """The day a DONE action last became done (see ActionsOnTime for the rule)."""
    became_done: datetime | None = None
    was_done = False
    for version in sorted(history, key=lambda v: v.version):
        saved = version.plan.action(action.action_id)
        done = saved is not None and saved.status is ActionStatus.DONE
        if done and not was_done:
            became_done = version.saved_at
        was_done = done
    if became_done is not None and was_done:
        return became_done.date()
    if action.progress:
        return max(note.at for note in action.progress).date()
    return None
