"""Suggestions from the EHR: existing Goals and open referrals/services become candidate goals and
actions the coordinator can accept into the plan or ignore."""

from datetime import date

import pytest

from smart_app.plan import negotiation as n
from smart_app.plan.model import GoalLifecycle, Owner, Role
from smart_app.plan.suggestions import SuggestionKind, accept_suggestion, suggest
from smart_app.plan.summary import summarize
from tests import builders as b
from tests.plan_builders import CLINICIAN, COORDINATOR, NOW, a_goal, a_plan, an_action

TODAY = date(2026, 6, 1)


def summary_of(goals=(), services=()):
    return summarize(b.a_record(goals=tuple(goals), services=tuple(services)), today=TODAY)


def test_ehr_goals_become_candidate_goals_with_their_target_date_and_status():
    summary = summary_of(goals=[b.a_goal("Walk with a walker", id="goal-1", due="2026-12-01")])
    (suggestion,) = suggest(summary, a_plan())
    assert (suggestion.kind, suggestion.text, suggestion.source_ref, suggestion.key) == (
        SuggestionKind.GOAL, "Walk with a walker", "Goal/goal-1", "Goal/goal-1")
    assert suggestion.target_date == date(2026, 12, 1) and suggestion.lifecycle is GoalLifecycle.ACTIVE
    assert "due 1 Dec 2026" in suggestion.detail


def test_finished_or_rejected_ehr_goals_are_not_suggested():
    summary = summary_of(goals=[b.a_goal("Done", status="completed"), b.a_goal("No", status="rejected"),
                                b.a_goal("Oops", status="entered-in-error")])
    assert suggest(summary, a_plan()) == ()


def test_an_open_referral_becomes_an_action_for_the_coordinator_to_follow_up():
    summary = summary_of(services=[b.a_service_request("Physical therapy", id="sr-1")])  # SNOMED referral
    (suggestion,) = suggest(summary, a_plan())
    assert (suggestion.kind, suggestion.text, suggestion.owner) == (
        SuggestionKind.ACTION, "Follow up referral: Physical therapy", Owner(Role.COORDINATOR))
    assert suggestion.detail.startswith("Referral · active")


def test_a_home_service_becomes_an_action_for_the_community_provider():
    service = b.a_service_request("Home nursing 40 hours a week", category=None,
                                  performerType={"text": "Home Health Co"})
    (suggestion,) = suggest(summary_of(services=[service]), a_plan())
    assert suggestion.owner == Owner(Role.COMMUNITY, "Home Health Co")
    assert suggestion.text == "Home nursing 40 hours a week"


def test_completed_or_revoked_services_are_not_suggested():
    summary = summary_of(services=[b.a_service_request("Old PT", status="completed"),
                                   b.a_service_request("Cancelled PT", status="revoked")])
    assert suggest(summary, a_plan()) == ()


def test_items_already_in_the_plan_by_wording_are_not_suggested_again():
    summary = summary_of(goals=[b.a_goal("Walk with a walker")],
                         services=[b.a_service_request("Physical therapy"), b.a_service_request("Speech therapy")])
    plan = a_plan(a_goal("g1", "walk with  a Walker"), an_action("a1", "Physical therapy"))
    assert [s.text for s in suggest(summary, plan)] == ["Follow up referral: Speech therapy"]


def test_ignored_suggestions_stay_ignored():
    summary = summary_of(goals=[b.a_goal("Walk", id="goal-1"), b.a_goal("Talk", id="goal-2")])
    assert [s.text for s in suggest(summary, a_plan(), ignored=frozenset({"Goal/goal-1"}))] == ["Talk"]


def test_accepting_suggestions_adds_them_under_the_given_ids():
    summary = summary_of(goals=[b.a_goal("Walk with a walker", due="2026-12-01")],
                         services=[b.a_service_request("Physical therapy")])
    goal, action = suggest(summary, a_plan())
    plan = accept_suggestion(a_plan(), COORDINATOR, NOW, goal, "g1")
    plan = accept_suggestion(plan, COORDINATOR, NOW, action, "a1")
    assert (plan.goal("g1").text, plan.goal("g1").target_date) == ("Walk with a walker", date(2026, 12, 1))
    assert (plan.action("a1").text, plan.action("a1").owner) == (
        "Follow up referral: Physical therapy", Owner(Role.COORDINATOR))
    assert suggest(summary, plan) == ()


def test_only_the_coordinator_accepts_suggestions():
    (goal,) = suggest(summary_of(goals=[b.a_goal("Walk")]), a_plan())
    with pytest.raises(n.NegotiationError, match="care coordinator"):
        accept_suggestion(a_plan(), CLINICIAN, NOW, goal, "g1")
