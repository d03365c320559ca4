"""Plan snapshots survive a JSON round trip exactly, and older code reads newer snapshots."""

import json
from datetime import date

from hypothesis import HealthCheck, given, settings

from smart_app.plan.model import Owner, Role, Stance
from smart_app.plan.snapshot import SCHEMA, plan_from_json, plan_to_json
from tests.plan_builders import a_goal, a_plan, a_position, a_signoff, an_action, plans

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def through_json(plan):
    return plan_from_json(json.loads(json.dumps(plan_to_json(plan))))


@PROPERTY_SETTINGS
@given(plans())
def test_any_plan_survives_a_json_round_trip(plan):
    assert through_json(plan) == plan


def test_a_snapshot_is_plain_json_with_a_schema_number():
    plan = a_plan(a_goal("g1", target_date=date(2026, 12, 1)),
                  an_action("a1", owner=Owner(Role.COMMUNITY, "Acme"), goal_id="g1"),
                  a_position("a1", Role.CLINICIAN, Stance.DECLINE), a_signoff())
    data = json.loads(json.dumps(plan_to_json(plan)))
    assert data["schema"] == SCHEMA
    assert data["plan"]["goals"][0]["target_date"] == "2026-12-01"
    assert data["plan"]["actions"][0]["owner"] == {"role": "community", "name": "Acme", "reference": ""}
    assert data["plan"]["positions"][0]["stance"] == "decline"


def test_unknown_keys_from_newer_code_are_ignored():
    data = json.loads(json.dumps(plan_to_json(a_plan(a_goal("g1"), an_action("a1")))))
    data["plan"]["goals"][0]["source_ref"] = "Goal/7"
    data["plan"]["something_new"] = [1, 2]
    assert plan_from_json(data) == a_plan(a_goal("g1"), an_action("a1"))


def test_a_snapshot_saved_before_people_and_resolutions_were_recorded_still_loads():
    older = {"schema": 1, "plan": {
        "goals": [{"goal_id": "g1", "text": "Sleep"}],
        "actions": [{"action_id": "a1", "text": "Pump", "owner": {"role": "coordinator", "name": "Jordan Lee"}}],
        "positions": [{"subject_id": "a1", "party": "clinician", "stance": "comment", "by": "Dr Sam Ortiz",
                       "at": "2026-06-01T09:30:00+00:00", "comment": "Declined: x. Resolved by Jordan Lee: y"}],
        "signoffs": [{"role": "coordinator", "name": "Jordan Lee", "at": "2026-06-01T09:30:00+00:00"}],
        "state": "in-review"}}
    plan = plan_from_json(older)
    assert plan.actions[0].owner == Owner(Role.COORDINATOR, "Jordan Lee", reference="")
    assert (plan.positions[0].by_user, plan.signoffs[0].user, plan.resolutions) == ("", "", ())
