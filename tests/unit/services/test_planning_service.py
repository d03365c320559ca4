"""The planning service: roles, compare-and-swap saves, signing with its snapshot, suggestions."""

from datetime import timedelta

import pytest

from smart_app.errors import InvalidInput
from smart_app.plan import negotiation as n
from smart_app.plan.model import GoalKind, Owner, PlanState, Role
from smart_app.plan.record import SectionState
from smart_app.services.planning import Conflict
from tests.support import TODAY
from tests.unit.services.conftest import with_role


def save(services, launch, tenant, base, command, *args, phrase="changed the plan", **kwargs):
    planning = services.planning
    actor = planning.actor(launch, tenant)
    return planning.change(launch, tenant, actor, base_version=base,
                           change=lambda plan, actor, now: command(plan, actor, now, *args, **kwargs),
                           note=planning.change_phrase(actor, phrase), action="test")


def signed_plan(services, coordinator, clinician, tenant):
    v1 = save(services, coordinator, tenant, None, n.add_goal, goal_id="g1", text="Sleep through the night",
              kind=GoalKind.FAMILY)
    v2 = save(services, coordinator, tenant, v1.version, n.add_action, action_id="a1", text="Replace the pump",
              owner=Owner(Role.COORDINATOR, "Jordan Lee"), goal_id="g1", due=TODAY + timedelta(days=30))
    v3 = save(services, coordinator, tenant, v2.version, n.submit_for_review)
    v4 = save(services, coordinator, tenant, v3.version, n.sign)
    return save(services, clinician, tenant, v4.version, n.sign)


def test_a_save_on_the_version_seen_lands_and_a_stale_one_is_a_conflict(services, coordinator, tenant):
    first = save(services, coordinator, tenant, None, n.add_goal, goal_id="g1", text="Walk with a walker")
    second = save(services, coordinator, tenant, first.version, n.edit_goal, "g1", text="Walk 10 m with a walker")
    stale = save(services, coordinator, tenant, first.version, n.edit_goal, "g1", text="Mine")
    assert (first.version, second.version) == (1, 2)
    assert isinstance(stale, Conflict) and stale.latest.version == 2
    assert stale.their_changes and "Walk 10 m with a walker" in " ".join(stale.their_changes)
    assert services.planning.current(coordinator).plan.goal("g1").text == "Walk 10 m with a walker"


def test_a_broken_rule_is_a_user_error_and_saves_nothing(services, coordinator, clinician, tenant):
    first = save(services, coordinator, tenant, None, n.add_goal, goal_id="g1", text="Walk")
    with pytest.raises(InvalidInput, match="Only the care coordinator can add goals"):
        save(services, clinician, tenant, first.version, n.add_goal, goal_id="g2", text="Run")
    assert services.planning.current(coordinator).version == 1


def test_the_save_that_completes_the_signatures_keeps_the_records_snapshot(services, coordinator, clinician, tenant):
    signed = signed_plan(services, coordinator, clinician, tenant)
    assert signed.plan.state is PlanState.SIGNED
    taken = services.planning.snapshots.snapshot(signed.plan_id, signed.version)
    assert taken is not None and taken.signed_on == TODAY
    conditions = taken.snapshot.section("conditions")  # the tracked sections as they were at the signing
    assert conditions.state is SectionState.COMPLETE and conditions.items
    before = services.planning.snapshots.snapshot(signed.plan_id, signed.version - 1)
    assert before is None  # the first signature alone does not freeze the record


def test_sections_the_ehr_could_not_give_at_signing_are_kept_as_unknown_not_empty(services, coordinator, clinician,
                                                                                   tenant, ehr):
    ehr.failing.update({"Condition", "Encounter"})
    signed = signed_plan(services, coordinator, clinician, tenant)
    assert signed.plan.state is PlanState.SIGNED
    taken = services.planning.snapshots.snapshot(signed.plan_id, signed.version).snapshot
    assert taken.section("conditions").state is SectionState.FAILED
    assert taken.section("medications").state is SectionState.COMPLETE and taken.section("medications").items


def test_a_role_is_chosen_from_the_list_remembered_and_audited(services, coordinator, tenant, audit, sessions):
    launch = with_role(coordinator, None)
    with pytest.raises(InvalidInput):
        services.planning.actor(launch, tenant)  # no role yet
    with pytest.raises(InvalidInput):
        services.planning.choose_role(launch, "family")  # the coordinator records the family's voice
    assert services.planning.choose_role(launch, "clinician") is Role.CLINICIAN
    rows = [e for e in audit.for_patient(launch.iss, launch.patient_id) if e["action"] == "role-choice"]
    assert [r["detail"]["role"] for r in rows] == ["clinician"]


def test_who_may_act_comes_from_the_negotiation_rules(services, coordinator, tenant):
    specialist = services.planning.actor(with_role(coordinator, "specialist"), tenant)
    with pytest.raises(InvalidInput, match="open a new revision"):
        services.planning.require(specialist, n.Command.OPEN_REVISION)


def test_suggestions_leave_out_what_the_coordinator_ignored(services, coordinator, tenant):
    first = save(services, coordinator, tenant, None, n.add_goal, goal_id="g1", text="Walk")
    offered = services.planning.suggestions(coordinator, tenant, first.plan)
    assert offered
    services.planning.ignore_suggestion(coordinator, tenant, offered[0].key)
    again = services.planning.suggestions(coordinator, tenant, first.plan)
    assert offered[0].key not in {s.key for s in again} and len(again) == len(offered) - 1
