"""The family in the loop, as plain data: their words, who said what, what they wait on, what changed."""

from dataclasses import replace
from datetime import date

import pytest

from smart_app.plan.family import (
    FamilyRequest,
    FamilyRequestError,
    RequestKind,
    RequestStatus,
    by_family_member,
    changes_since_visit,
    check_closing,
    family_words,
    open_family_asks,
)
from smart_app.plan.model import ActionStatus, Position, Role, Stance
from tests.plan_builders import NOW, a_goal, a_plan, an_action


def a_request(kind=RequestKind.QUESTION, status=RequestStatus.OPEN, **fields) -> FamilyRequest:
    return FamilyRequest(request_id=fields.pop("request_id", "r1"), kind=kind, subject_id="", text="Why?",
                         by_name="Ana", by_user="RelatedPerson/m", at=NOW, status=status, **fields)


def a_position(stance: Stance, by_user: str, subject: str = "a1") -> Position:
    return Position(subject_id=subject, party=Role.FAMILY, stance=stance, by="Ana", at=NOW, by_user=by_user,
                    reason="No" if stance is Stance.DECLINE else "",
                    proposed_change="Other" if stance is Stance.AMEND else "")


def test_the_familys_words_are_trimmed_and_must_say_something():
    assert family_words("  Can we   talk\n about   school? ") == "Can we talk\nabout school?"
    with pytest.raises(FamilyRequestError, match="Write"):
        family_words(" \n ")
    with pytest.raises(FamilyRequestError, match="too long"):
        family_words("x" * 1001)


def test_a_position_is_the_familys_own_when_a_family_identity_took_it():
    assert by_family_member(a_position(Stance.AGREE, "RelatedPerson/m"))
    assert by_family_member(a_position(Stance.AGREE, "Patient/p"))
    assert not by_family_member(a_position(Stance.AGREE, "Practitioner/jordan-lee"))  # recorded in clinic
    assert not by_family_member(a_position(Stance.AGREE, ""))


def test_what_the_family_waits_on_counts_open_requests_and_their_own_open_positions():
    plan = a_plan(an_action("a1"), an_action("a2"), a_position(Stance.DECLINE, "RelatedPerson/m"),
                  a_position(Stance.AMEND, "Practitioner/jordan-lee", "a2"))
    requests = (a_request(), a_request(status=RequestStatus.ANSWERED, request_id="r2"),
                a_request(RequestKind.ACCESS, request_id="r3"))
    assert open_family_asks(plan, requests) == 2  # r1, and their own decline (not one recorded for them)
    assert open_family_asks(None, ()) == 0


def test_each_request_is_closed_once_and_only_with_an_answer_that_fits():
    check_closing(a_request(), RequestStatus.ANSWERED)
    with pytest.raises(FamilyRequestError, match="does not fit"):
        check_closing(a_request(), RequestStatus.ACCEPTED)
    check_closing(a_request(RequestKind.ABOUT_CHANGE), RequestStatus.DECLINED)
    with pytest.raises(FamilyRequestError, match="already answered"):
        check_closing(a_request(status=RequestStatus.ANSWERED), RequestStatus.ANSWERED)


def test_what_changed_since_the_last_visit_in_the_shared_plan():
    seen = a_plan(a_goal("g1", "Sleep"), a_goal("g2", "School"), an_action("a1", "Pump", goal_id="g1"),
                  an_action("a2", "Log", goal_id="g1"), an_action("a3", "Gone", goal_id="g2"))
    now = a_plan(a_goal("g1", "Sleep all night"), a_goal("g3", "Swim"),
                 an_action("a1", "Pump", goal_id="g1", due=date(2027, 1, 5)), an_action("a2", "Log", goal_id="g1"),
                 an_action("a4", "Lessons", goal_id="g3"))
    lines = changes_since_visit(seen, now, {"a2": ActionStatus.DONE})
    assert [(c.kind, c.text) for c in lines] == [
        ("changed-goal", "Sleep all night"), ("new-goal", "Swim"), ("removed-goal", "School"),
        ("changed-action", "Pump"), ("done", "Log"), ("new-action", "Lessons"), ("removed-action", "Gone")]
    assert changes_since_visit(seen, seen) == ()
    assert changes_since_visit(None, now) == ()


def test_an_action_done_before_the_last_visit_is_not_new():
    seen = a_plan(an_action("a1", status=ActionStatus.DONE))
    assert changes_since_visit(seen, replace(seen), {"a1": ActionStatus.DONE}) == ()
