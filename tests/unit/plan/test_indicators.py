"""Indicators per patient over time: goal progress, hospital use before and since the plan, actions on time."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from smart_app.plan.indicators import (
    actions_on_time,
    hospital_use_before_and_since,
    progress_by_goal,
    when_done,
)
from smart_app.plan.model import (
    Achievement,
    ActionStatus,
    Goal,
    GoalLifecycle,
    NegotiatedAction,
    Owner,
    Plan,
    PlanVersion,
    ProgressNote,
    Role,
)
from smart_app.plan.summary import summarize_section
from tests.builders import a_section, an_encounter

PLAN_START = date(2025, 3, 1)
TODAY = date(2025, 9, 1)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def a_version(number: int, saved: str, plan: Plan) -> PlanVersion:
    return PlanVersion("plan-1", number, plan, saved_by="Jordan Lee", saved_at=at(saved))


def encounters(*built, today=TODAY):
    return summarize_section(a_section("encounters", *built), today=today).active


# --- Goal progress -----------------------------------------------------------------------------------


def test_each_goal_has_a_point_each_time_its_achievement_or_lifecycle_changed():
    walk = Goal("g1", "Walk with a walker", lifecycle=GoalLifecycle.ACTIVE)
    sleep = Goal("g2", "Sleep through the night", lifecycle=GoalLifecycle.ACTIVE)
    versions = [
        a_version(
            3,
            "2025-07-01",
            Plan(
                goals=(
                    replace(
                        walk,
                        achievement=Achievement.ACHIEVED,
                        lifecycle=GoalLifecycle.COMPLETED,
                        text="Walk ten steps with a walker",
                    ),
                    sleep,
                )
            ),
        ),
        a_version(1, "2025-01-01", Plan(goals=(walk,))),
        a_version(2, "2025-04-01", Plan(goals=(replace(walk, achievement=Achievement.IMPROVING), sleep))),
    ]
    walking, sleeping = progress_by_goal(versions)
    assert walking.text == "Walk ten steps with a walker"
    assert [(p.version, p.achievement) for p in walking.points] == [
        (1, Achievement.IN_PROGRESS),
        (2, Achievement.IMPROVING),
        (3, Achievement.ACHIEVED),
    ]
    assert walking.latest.lifecycle is GoalLifecycle.COMPLETED
    assert [p.version for p in sleeping.points] == [2]  # unchanged in version 3: no new point


def test_no_versions_means_no_goal_progress():
    assert progress_by_goal([]) == ()


# --- Hospital use before and since ---------------------------------------------------------------------


def test_ed_visits_and_admissions_are_counted_in_the_year_before_the_plan_and_since():
    rates = hospital_use_before_and_since(
        encounters(
            an_encounter("EMER", start="2024-03-01"),  # exactly 12 months before: outside the year
            an_encounter("EMER", start="2024-03-02"),
            an_encounter("IMP", start="2024-10-10"),
            an_encounter("EMER", start="2025-03-01"),  # the signing day: before the plan could act
            an_encounter("EMER", start="2025-03-02"),
            an_encounter("IMP", start="2025-09-01"),  # today
            an_encounter("IMP", start="2025-09-02"),  # after today: not yet
            an_encounter("AMB", start="2025-05-05"),
        ),
        PLAN_START,
        TODAY,
    )
    assert (rates.ed_before, rates.admissions_before, rates.ed_since, rates.admissions_since) == (2, 1, 1, 1)
    assert (rates.before_days, rates.since_days) == (365, 184)


def test_rates_are_scaled_to_twelve_months_of_each_window():
    rates = hospital_use_before_and_since(
        encounters(
            an_encounter("EMER", start="2024-06-01"),
            an_encounter("EMER", start="2024-07-01"),
            an_encounter("EMER", start="2025-04-01"),
        ),
        PLAN_START,
        TODAY,
    )
    assert rates.rates() == (2.0, 0.0, round(365 / 184, 1), 0.0)


def test_on_the_plans_first_day_there_is_no_rate_since_yet():
    rates = hospital_use_before_and_since(
        encounters(an_encounter("EMER", start="2025-01-01")), PLAN_START, PLAN_START
    )
    assert rates.ed_per_12m_before == 1.0 and rates.ed_per_12m_since is None and rates.since_days == 0


def test_a_plan_starting_on_29_february_looks_back_365_days_excluding_the_first():
    rates = hospital_use_before_and_since(
        encounters(an_encounter("IMP", start="2023-03-01"), an_encounter("IMP", start="2023-03-02"),
                   today=date(2024, 3, 1)),
        date(2024, 2, 29),
        date(2024, 3, 1),
    )
    assert (rates.admissions_before, rates.before_days) == (1, 365)


def test_encounters_without_a_start_date_are_not_counted():
    undated = an_encounter("EMER")
    undated["period"] = {}
    rates = hospital_use_before_and_since(encounters(undated), PLAN_START, TODAY)
    assert (rates.ed_before, rates.ed_since) == (0, 0)


# --- Actions on time -----------------------------------------------------------------------------------

OWNER = Owner(Role.FAMILY, "Ana Rivera")


def an_action(status=ActionStatus.NOT_STARTED, due=date(2025, 5, 1), **fields) -> NegotiatedAction:
    return NegotiatedAction("a1", "Book the hearing test", OWNER, due=due, status=status, **fields)


def history_of(*steps: tuple[str, ActionStatus]) -> list[PlanVersion]:
    return [
        a_version(n, saved, Plan(actions=(an_action(status),))) for n, (saved, status) in enumerate(steps, 1)
    ]


def test_an_action_is_done_when_the_version_that_last_turned_it_done_was_saved():
    history = history_of(
        ("2025-03-01", ActionStatus.NOT_STARTED),
        ("2025-04-01", ActionStatus.DONE),
        ("2025-04-15", ActionStatus.IN_PROGRESS),  # reopened
        ("2025-05-10", ActionStatus.DONE),
        ("2025-06-01", ActionStatus.DONE),
    )
    assert when_done(an_action(ActionStatus.DONE), history) == date(2025, 5, 10)


def test_without_versions_showing_it_done_the_latest_progress_note_dates_it():
    notes = (ProgressNote("booked", "Ana", at("2025-04-01")), ProgressNote("done", "Ana", at("2025-04-20")))
    done = an_action(ActionStatus.DONE, progress=notes)
    assert when_done(done, history_of(("2025-03-01", ActionStatus.IN_PROGRESS))) == date(2025, 4, 20)
    assert when_done(an_action(ActionStatus.DONE), []) is None


@pytest.mark.parametrize(
    "done_on,on_time,late",
    [("2025-04-30", 1, 0), ("2025-05-01", 1, 0), ("2025-05-02", 0, 1)],
)
def test_done_on_or_before_the_due_date_is_on_time(done_on, on_time, late):
    history = history_of(("2025-03-01", ActionStatus.NOT_STARTED), (done_on, ActionStatus.DONE))
    counted = actions_on_time(Plan(actions=(an_action(ActionStatus.DONE),)), history, today=TODAY)
    assert (counted.done_on_time, counted.done_late) == (on_time, late)


def test_open_overdue_cancelled_undated_and_no_deadline_actions_are_counted_apart():
    plan = Plan(
        actions=(
            replace(an_action(ActionStatus.IN_PROGRESS, due=date(2025, 8, 31)), action_id="overdue"),
            replace(an_action(ActionStatus.BLOCKED, due=TODAY), action_id="due-today"),
            replace(an_action(ActionStatus.NOT_STARTED, due=None), action_id="no-date"),
            replace(an_action(ActionStatus.CANCELLED, due=date(2025, 1, 1)), action_id="cancelled"),
            replace(an_action(ActionStatus.DONE, due=None), action_id="done-no-deadline"),
            replace(an_action(ActionStatus.DONE), action_id="done-unknown-when"),
        )
    )
    counted = actions_on_time(plan, [], today=TODAY)
    assert (
        counted.done_on_time,
        counted.done_late,
        counted.open_overdue,
        counted.open_on_track,
        counted.done_undated,
    ) == (1, 0, 1, 2, 1)
