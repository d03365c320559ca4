"""The signed plan as FHIR: golden CarePlan/Goal/Task/CareTeam/Provenance, strict validity, and a
round trip back to the same plan (issue 5)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from smart_app.plan.careplan import (
    CAREPLAN_KEY,
    FilingContext,
    InEhr,
    build_careplan,
    build_careteam,
    build_goal,
    build_provenance,
    build_task,
    build_transaction,
    filed_with,
    goal_key,
    plan_from_fhir,
    planned_writes,
    task_key,
    urn_for,
)
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
    PlanVersion,
    Position,
    ProgressNote,
    Role,
    SignOff,
    Stance,
)
from smart_app.plan.narrative import NarrativeParts, SummaryBlock, plan_narrative
from smart_app.writeback.validation import (
    InvalidResource,
    WrongPatient,
    check_xhtml,
    validate_resource,
)
from tests.support import assert_bidi_contained

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden"
SIGNED_AT = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 15, 31, 5, tzinfo=UTC)


def a_signed_plan() -> PlanVersion:
    goals = (
        Goal("g1", "Sleep through the night without pump alarms", GoalKind.FAMILY, "Ana Rivera (mother)",
             date(2026, 12, 1), GoalLifecycle.ACTIVE, Achievement.IN_PROGRESS, ("Condition/gtube-dep-1",)),
        Goal("g2", "No emergency visits for breathing problems", GoalKind.CLINICAL, "",
             date(2026, 11, 1), GoalLifecycle.ACTIVE, Achievement.IMPROVING, ("Condition/cp-1",)),
    )
    actions = (
        NegotiatedAction("a1", "Arrange feeding-pump replacement",
                         Owner(Role.COORDINATOR, "Maya Chen", "Practitioner/maya-chen"), "g1",
                         date(2026, 7, 15), ActionStatus.IN_PROGRESS, ("Condition/gtube-dep-1",),
                         (ProgressNote("DME vendor contacted; awaiting prior auth", "Maya Chen",
                                       datetime(2026, 6, 20, 9, 0, tzinfo=UTC)),)),
        NegotiatedAction("a2", "Keep a night log of alarms for two weeks",
                         Owner(Role.FAMILY, "Ana Rivera", "RelatedPerson/mother-1"), "g1",
                         date(2026, 6, 30)),
        NegotiatedAction("a3", "Pulmonology review of the asthma action plan", Owner(Role.SPECIALIST), "g2",
                         date(2026, 8, 1), condition_refs=("Condition/cp-1", "Condition/asthma-1")),
        NegotiatedAction("a4", "Share the plan with the school nurse", Owner(Role.SCHOOL_NURSE, "Pat Lee")),
    )
    plan = Plan(
        goals=goals, actions=actions, state=PlanState.SIGNED,
        positions=(Position("a1", Role.CLINICIAN, Stance.AGREE, "Dr Okafor", SIGNED_AT),),
        signoffs=(SignOff(Role.COORDINATOR, "Maya Chen", datetime(2026, 6, 1, 15, 0, tzinfo=UTC),
                          "Practitioner/maya-chen"),
                  SignOff(Role.CLINICIAN, "Dr Grace Okafor", SIGNED_AT, "Practitioner/pcp-1")),
        family_priority="Sofia sleeping at home, not in hospital",
        revision=1, next_review=date(2026, 12, 1), signed_at=SIGNED_AT,
    )
    return PlanVersion("plan-7f3a", 4, plan, "Dr Grace Okafor", SIGNED_AT)


def a_context(**overrides) -> FilingContext:
    summary = (SummaryBlock("Conditions", ("Cerebral palsy", "G-tube dependence")),)
    fields = {
        "patient_id": "sofia-rivera", "now": NOW, "author": "Practitioner/pcp-1",
        "references": {Role.CLINICIAN: "Practitioner/pcp-1"}, "family_reference": "RelatedPerson/mother-1",
        "narrative": NarrativeParts(summary=summary),
    }
    return FilingContext(**(fields | overrides))


def golden(name: str, value) -> None:
    """Compare with tests/fixtures/golden/<name>; SPOC_UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN / name
    if os.environ.get("SPOC_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert value == json.loads(path.read_text(encoding="utf-8")), f"{name} differs from its golden file"


def built_resources() -> dict[str, dict]:
    version, ctx = a_signed_plan(), a_context()
    plan = version.plan
    return {
        "careplan": build_careplan(version, ctx),
        "goal-family": build_goal(plan.goals[0], version, ctx),
        "task-coordinator": build_task(plan.actions[0], version, ctx),
        "task-family": build_task(plan.actions[1], version, ctx),
        "careteam": build_careteam(version, ctx),
        "provenance": build_provenance(version, ctx, ["urn:uuid:1", "urn:uuid:2"]),
    }


@pytest.mark.parametrize("name", ["careplan", "goal-family", "task-coordinator", "task-family", "careteam",
                                  "provenance"])
def test_a_fixed_plan_builds_the_golden_resource(name):
    golden(f"{name}.json", built_resources()[name])


def test_the_transaction_bundle_matches_its_golden_file():
    golden("transaction.json", build_transaction(a_signed_plan(), a_context()))


def test_every_built_resource_validates_strictly_under_r4b():
    for resource in (w.resource for w in planned_writes(a_signed_plan(), a_context())):
        validate_resource(resource, patient_id="sofia-rivera")


def test_the_careplan_carries_the_three_categories_and_signed_period():
    careplan = built_resources()["careplan"]
    codes = [c["coding"][0]["code"] for c in careplan["category"]]
    assert codes == ["assess-plan", "734163000", "shared-plan-of-care"]
    assert careplan["status"] == "active" and careplan["intent"] == "plan"
    assert careplan["period"] == {"start": "2026-06-01", "end": "2026-12-01"}
    assert [a["reference"] for a in careplan["addresses"]] == ["Condition/gtube-dep-1", "Condition/cp-1",
                                                              "Condition/asthma-1"]


def test_the_narrative_has_all_three_parts_and_is_safe_xhtml():
    div = build_careplan(a_signed_plan(), a_context())["text"]["div"]
    check_xhtml(div)
    for heading in ("About us", "Medical summary", "Goals and negotiated actions", "Sign-off"):
        assert f"<h3>{heading}</h3>" in div
    assert "Cerebral palsy" in div and "Arrange feeding-pump replacement" in div
    assert "In the words of Ana Rivera (mother)" in div


def test_hostile_plan_text_is_escaped_in_the_narrative():
    version = a_signed_plan()
    hostile = replace(version, plan=replace(version.plan, family_priority="<script>alert(1)</script>"))
    div = plan_narrative(hostile.plan)
    check_xhtml(div)
    assert "<script>" not in div and "&lt;script&gt;" in div


SPOOF = "\u202egnp.exe"  # reads "exe.png" where the override is let loose


def a_plan_with_text(text: str) -> Plan:
    """The signed plan with `text` in every place the narrative shows the family's or a clinician's words."""
    plan = a_signed_plan().plan
    return replace(
        plan, family_priority=f"Home {text}",
        goals=(replace(plan.goals[0], text=f"Sleep {text}", expressed_by=f"Ana {text}"), *plan.goals[1:]),
        actions=(replace(plan.actions[0], text=f"Pump {text}", owner=Owner(Role.COORDINATOR, f"Maya {text}")),
                 *plan.actions[1:]),
        signoffs=(SignOff(Role.COORDINATOR, f"Maya {text}", SIGNED_AT),))


def narrative_parts_with_text(text: str) -> NarrativeParts:
    return NarrativeParts(about_us=(("What we enjoy", f"Music {text}"),), patient=f"Sofia {text} · born 2018-08-20",
                          summary=(SummaryBlock("Conditions", (f"Asthma {text}",)),))


def test_control_characters_never_make_the_narrative_unfileable():
    """Text stored before the doors cleaned it (or that slipped past them) still makes well-formed XHTML."""
    div = plan_narrative(a_plan_with_text("\x00\x1b[2J\x07\ufffe\ud800end"), narrative_parts_with_text("\x00"))
    check_xhtml(div)
    assert "Sleep [2Jend" in div and "Asthma " in div


def test_a_bidi_override_in_any_text_is_closed_and_isolated_in_the_narrative():
    div = plan_narrative(a_plan_with_text(SPOOF), narrative_parts_with_text(SPOOF))
    check_xhtml(div)
    assert_bidi_contained(div, "narrative")
    for shown in ("Sleep", "Pump", "Ana", "Maya", "Home", "Asthma", "Music"):
        assert f"\u2068{shown} {SPOOF}\u202c\u2069" in div, shown
    assert f"Family goal: \u2068Sleep {SPOOF}\u202c\u2069" in div
    assert f"\u2069, {SIGNED_AT.date().isoformat()}" in div  # the date stays outside the name's isolate


def test_a_narrative_that_is_not_xhtml_is_refused_naming_the_text_where_it_broke():
    div = plan_narrative(a_signed_plan().plan).replace("Keep a night log", "Keep a \x00night log")
    with pytest.raises(InvalidResource, match="near “.*Keep a night log of alarms for two"):
        check_xhtml(div, what="The CarePlan narrative")


def test_an_invalid_goal_or_task_is_refused_naming_it():
    version, ctx = a_signed_plan(), a_context()
    goal = build_goal(version.plan.goals[0], version, ctx)
    goal["lifecycleStatus"] = 7
    with pytest.raises(InvalidResource, match="The Goal “Sleep through the night without pump alarms”"):
        validate_resource(goal, patient_id="sofia-rivera")
    task = build_task(version.plan.actions[0], version, ctx)
    task["description"] = task["description"] + " " + "x" * 200
    task["intent"] = "wish"
    with pytest.raises(InvalidResource, match="The Task “Arrange feeding-pump replacement x+…”"):
        validate_resource(task, patient_id="sofia-rivera")


def test_an_absent_about_us_reads_as_not_recorded():
    plan = replace(a_signed_plan().plan, family_priority="")
    assert "Not recorded in the app yet." in plan_narrative(plan).split("<h3>Medical summary</h3>")[0]


def test_new_resources_are_conditional_creates_on_our_identifier():
    writes = planned_writes(a_signed_plan(), a_context())
    creates = [w for w in writes if w.method == "POST"]
    assert len(creates) == 1 + 2 + 1 + 4  # care team, goals, care plan, tasks
    for write in creates:
        (name, value), = parse_qsl(write.if_none_exist)
        assert name == "identifier" and value.startswith("urn:spoc:") and write.full_url.startswith("urn:uuid:")
    careplan = next(w for w in writes if w.key == CAREPLAN_KEY)
    assert careplan.resource["goal"][0]["reference"] == urn_for("plan-7f3a", goal_key("g1"))


def test_the_provenance_has_a_fixed_id_so_a_retry_writes_it_once():
    first = planned_writes(a_signed_plan(), a_context())[-1]
    again = planned_writes(a_signed_plan(), a_context())[-1]
    assert first.method == "PUT" and first.url == again.url == "Provenance/spoc-plan-7f3a-v4"


def test_resources_already_in_the_ehr_are_updated_with_if_match():
    ctx = a_context(in_ehr={CAREPLAN_KEY: InEhr("CarePlan/cp9", "3"), task_key("a1"): InEhr("Task/t1", "2")})
    writes = {w.key: w for w in planned_writes(a_signed_plan(), ctx)}
    assert (writes[CAREPLAN_KEY].method, writes[CAREPLAN_KEY].url, writes[CAREPLAN_KEY].if_match) == \
        ("PUT", "CarePlan/cp9", 'W/"3"')
    assert writes[CAREPLAN_KEY].resource["id"] == "cp9"
    assert writes[task_key("a1")].resource["basedOn"] == [{"reference": "CarePlan/cp9"}]
    assert writes[task_key("a2")].method == "POST"


def test_a_resource_about_another_patient_is_refused_before_sending():
    resource = build_goal(a_signed_plan().plan.goals[0], a_signed_plan(), a_context(patient_id="someone-else"))
    with pytest.raises(WrongPatient):
        validate_resource(resource, patient_id="sofia-rivera")


def test_an_invalid_resource_is_refused_with_a_readable_message():
    careplan = build_careplan(a_signed_plan(), a_context()) | {"status": "signed"}
    with pytest.raises(InvalidResource, match="unknown status code 'signed'"):
        validate_resource(careplan, patient_id="sofia-rivera")
    with pytest.raises(InvalidResource, match="not valid FHIR"):
        validate_resource(careplan | {"status": "active", "colour": "blue"}, patient_id="sofia-rivera")


def test_reading_the_resources_back_gives_the_signed_plan():
    version = a_signed_plan()
    writes = planned_writes(version, a_context())
    ids = {w.full_url: f"{w.resource['resourceType']}/id{n}" for n, w in enumerate(writes) if w.full_url}
    stored = {}
    for n, write in enumerate(writes):  # what a server holds: urn references resolved, ids given
        text = json.dumps(write.resource)
        for urn, reference in ids.items():
            text = text.replace(urn, reference)
        stored[write.key] = {"id": f"id{n}", **json.loads(text)}
    plan = plan_from_fhir(stored["careplan"], [r for k, r in stored.items() if k.startswith("goal:")],
                          [r for k, r in stored.items() if k.startswith("task:")], stored["provenance:v4"])
    assert plan == replace(version.plan, positions=())
    assert plan.actions[2].condition_refs == ("Condition/cp-1", "Condition/asthma-1")


# -- issue 15: statuses after sign-off, references, each person once, revisions end what they drop -------


def a_plan_naming_one_person_twice() -> PlanVersion:
    """The clinician signs as "Dr. Amara Okafor MD" and owns an action as "Dr. Amara Okafor"; the
    coordinator signed twice (a re-sign after a reopen); one goal is still proposed."""
    version = a_signed_plan()
    plan = version.plan
    okafor = "Practitioner/amara-okafor"
    return replace(version, plan=replace(
        plan,
        goals=(replace(plan.goals[0], lifecycle=GoalLifecycle.PROPOSED), *plan.goals[1:]),
        actions=(*plan.actions, NegotiatedAction("a5", "Review seizure medicines", Owner(Role.CLINICIAN,
                                                                                       "Dr. Amara Okafor"))),
        signoffs=(plan.signoffs[0], replace(plan.signoffs[0], at=SIGNED_AT),
                  SignOff(Role.CLINICIAN, "Dr. Amara Okafor MD", SIGNED_AT, okafor))))


def test_the_writes_after_sign_off_match_their_golden_file():
    """Goal active once both signed, owners and signers as references, each person once in the CareTeam,
    one agent and one signature per signer."""
    version = a_plan_naming_one_person_twice()
    writes = planned_writes(version, a_context(references={}, family_reference=""))
    by_key = {w.key: w.resource for w in writes}
    golden("after-sign-off.json", {"goal": by_key["goal:g1"], "careteam": by_key["careteam"],
                                   "provenance": by_key["provenance:v4"], "task": by_key["task:a2"]})
    assert by_key["goal:g1"]["lifecycleStatus"] == "active"
    members = [p["member"] for p in by_key["careteam"]["participant"]]
    assert [m.get("display") for m in members].count("Dr. Amara Okafor MD") == 1
    assert not any(m.get("display") == "Dr. Amara Okafor" for m in members)
    assert {"reference": "Practitioner/amara-okafor", "display": "Dr. Amara Okafor MD"} in members
    provenance = by_key["provenance:v4"]
    assert [s["who"] for s in provenance["signature"]] == [a["who"] for a in provenance["agent"]] == [
        {"reference": "Practitioner/maya-chen", "display": "Maya Chen"},
        {"reference": "Practitioner/amara-okafor", "display": "Dr. Amara Okafor MD"}]
    for resource in by_key.values():
        validate_resource(resource, patient_id="sofia-rivera")


def test_a_revision_ends_what_it_dropped_with_a_provenance_that_says_why():
    first = a_signed_plan()
    revised = replace(first, version=5, plan=replace(first.plan, revision=2, goals=first.plan.goals[:1],
                                                     actions=first.plan.actions[:2]))
    in_ehr = {CAREPLAN_KEY: InEhr("CarePlan/cp1", "3"), "careteam": InEhr("CareTeam/ct1", "1"),
              **{goal_key(g.goal_id): InEhr(f"Goal/{g.goal_id}", "1") for g in first.plan.goals},
              **{task_key(a.action_id): InEhr(f"Task/{a.action_id}", "2") for a in first.plan.actions}}
    writes = planned_writes(revised, a_context(in_ehr=in_ehr, previous=first.plan))
    by_key = {w.key: w for w in writes}
    assert by_key["goal:g2"].resource["lifecycleStatus"] == "cancelled" and by_key["goal:g2"].if_match == 'W/"1"'
    assert [by_key[k].resource["status"] for k in ("task:a3", "task:a4")] == ["cancelled", "cancelled"]
    assert by_key["task:a3"].method == "PUT" and by_key["task:a3"].url == "Task/a3"
    ended = by_key["provenance:v5-ended"].resource
    golden("provenance-ended.json", ended)
    assert [t["reference"] for t in ended["target"]] == ["Goal/g2", "Task/a3", "Task/a4"]
    assert "revision 2" in ended["reason"][0]["text"]
    assert {t["reference"] for t in by_key["provenance:v5"].resource["target"]}.isdisjoint({"Goal/g2", "Task/a3"})
    for write in writes:
        validate_resource(write.resource, patient_id="sofia-rivera")


def test_nothing_is_ended_on_a_first_filing_or_for_items_never_filed():
    first = a_signed_plan()
    assert not [w for w in planned_writes(first, a_context()) if w.key.endswith("-ended")]
    revised = replace(first, plan=replace(first.plan, actions=first.plan.actions[:3]))
    writes = planned_writes(revised, a_context(previous=first.plan))  # nothing was filed: nothing to end
    assert "task:a4" not in {w.key for w in writes}


def test_what_was_filed_merges_the_last_filing_with_the_attempts_that_stopped_after_it():
    first = a_signed_plan().plan
    added = NegotiatedAction("a5", "Added in v2", Owner(Role.COORDINATOR, "Maya Chen"))
    second = replace(first, actions=(replace(first.actions[0], text="Reworded in v2"), added), revision=2)
    merged = filed_with([first, second])
    assert [a.action_id for a in merged.actions] == ["a1", "a2", "a3", "a4", "a5"]
    assert merged.actions[0].text == "Reworded in v2" and merged.revision == 2
    assert filed_with([]) is None
