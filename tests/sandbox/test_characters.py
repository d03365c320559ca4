"""The sandbox's bundled synthetic patients: valid FHIR R4, self-consistent, real code systems,
and rich enough that every section of the Shared Plan of Care has something to show."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from sandbox.data.characters import (
    CHILD_ID,
    COORDINATOR_USER_ID,
    PATIENT_IDS,
    PHYSICIAN_USER_ID,
    TEEN_ID,
    build_resources,
)
from sandbox.data.large import build_large_patient

TODAY = date(2026, 3, 15)
PROBLEM_LIST = ("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")
HEALTH_CONCERN = ("http://hl7.org/fhir/us/core/CodeSystem/condition-category", "health-concern")
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NUCC = "http://nucc.org/provider-taxonomy"
REAL_CODE_SYSTEMS = {
    SNOMED,
    ICD10CM,
    NUCC,
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://loinc.org",
    "urn:ietf:bcp:47",
    "http://unitsofmeasure.org",
}
REAL_CODE_SYSTEM_PREFIXES = ("http://terminology.hl7.org/CodeSystem/", "http://hl7.org/fhir/us/core/CodeSystem/")


@pytest.fixture(scope="module")
def bundled() -> list[dict]:
    return build_resources(TODAY)


@pytest.fixture(scope="module")
def large() -> list[dict]:
    return build_large_patient(TODAY)


# --- helpers ------------------------------------------------------------------------------------


def walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def references(resource: dict) -> Iterator[str]:
    for node in walk(resource):
        if isinstance(node.get("reference"), str):
            yield node["reference"]


def belongs_to(resource: dict, patient_id: str) -> bool:
    target = f"Patient/{patient_id}"
    owner = resource.get("subject") or resource.get("patient") or {}
    return owner.get("reference") == target or (resource["resourceType"] == "Patient" and resource["id"] == patient_id)


def of_type(resources: list[dict], resource_type: str, patient_id: str) -> list[dict]:
    return [r for r in resources if r["resourceType"] == resource_type and belongs_to(r, patient_id)]


def codes(concept: dict | None) -> set[tuple[str, str]]:
    return {(c.get("system"), c.get("code")) for c in (concept or {}).get("coding", ())}


def status(concept: dict | None) -> str | None:
    return next((c["code"] for c in (concept or {}).get("coding", ())), None)


def by_id(resources: list[dict]) -> dict[str, dict]:
    return {f"{r['resourceType']}/{r['id']}": r for r in resources}


def days_ago(encounter: dict) -> int:
    return (TODAY - date.fromisoformat(encounter["period"]["start"][:10])).days


def encounter_class(encounter: dict) -> str:
    return encounter["class"]["code"]


# --- the record as a whole ----------------------------------------------------------------------


def test_every_bundled_resource_validates_as_fhir_r4b(bundled):
    for r in bundled:
        get_fhir_model_class(r["resourceType"]).model_validate(r)


def test_the_validator_would_catch_a_malformed_resource(bundled):
    condition = next(r for r in bundled if r["resourceType"] == "Condition")
    with pytest.raises(ValueError):
        get_fhir_model_class("Condition").model_validate({**condition, "clinicalStatus": "active"})


def test_resource_ids_are_unique_within_each_type(bundled, large):
    keys = Counter((r["resourceType"], r["id"]) for r in bundled + large)
    assert [k for k, n in keys.items() if n > 1] == []


def test_every_reference_resolves_to_a_bundled_resource(bundled, large):
    resources = by_id(bundled + large)
    dangling = {
        ref for r in bundled + large for ref in references(r) if not ref.startswith("#") and ref not in resources
    }
    assert dangling == set()


def test_contained_references_point_at_a_contained_resource(bundled):
    for r in bundled:
        contained = {f"#{c['id']}" for c in r.get("contained", ())}
        assert {ref for ref in references(r) if ref.startswith("#")} <= contained


def test_every_resource_has_an_id_and_a_last_updated_instant_not_in_the_future(bundled, large):
    for r in bundled + large:
        assert r["id"]
        updated = r["meta"]["lastUpdated"]
        assert updated.endswith("Z") and date.fromisoformat(updated[:10]) <= TODAY


def test_only_real_code_systems_are_used(bundled, large):
    systems = {n["system"] for r in bundled + large for n in walk(r) if "system" in n and "code" in n}
    unknown = {s for s in systems if s not in REAL_CODE_SYSTEMS and not s.startswith(REAL_CODE_SYSTEM_PREFIXES)}
    assert unknown == set()


def test_the_record_is_plain_json(bundled):
    assert json.loads(json.dumps(bundled)) == bundled


def test_dates_move_with_today_so_windows_never_age_out(bundled):
    later = build_resources(TODAY + timedelta(days=400))
    child_now, child_later = (next(r for r in rs if r["id"] == CHILD_ID) for rs in (bundled, later))
    assert date.fromisoformat(child_later["birthDate"]) - date.fromisoformat(child_now["birthDate"]) == timedelta(
        days=400
    )


def test_building_twice_gives_the_same_record(bundled):
    assert build_resources(TODAY) == bundled


def test_birthdays_on_29_february_do_not_break_the_build():
    patients = [r for r in build_resources(date(2028, 2, 29)) if r["resourceType"] == "Patient"]
    assert len(patients) == len(PATIENT_IDS)


# --- the patients -------------------------------------------------------------------------------


def test_there_are_at_least_three_patients_child_with_medical_complexity_first(bundled):
    patients = {r["id"]: r for r in bundled if r["resourceType"] == "Patient"}
    assert len(PATIENT_IDS) >= 3 and set(PATIENT_IDS) == set(patients)
    assert PATIENT_IDS[0] == CHILD_ID
    born = date.fromisoformat(patients[CHILD_ID]["birthDate"])
    assert 7 <= (TODAY - born).days // 365 <= 9


def test_each_patient_has_name_gender_mrn_address_phone_and_language(bundled):
    for pid in PATIENT_IDS:
        (p,) = of_type(bundled, "Patient", pid)
        assert p["name"][0]["family"] and p["gender"] and p["address"] and p["telecom"]
        assert any(
            ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR") in codes(i.get("type")) for i in p["identifier"]
        )
        assert p["communication"][0]["language"]["coding"][0]["system"] == "urn:ietf:bcp:47"


def test_the_childs_guardian_is_a_patient_contact_and_both_parents_are_related_persons(bundled):
    (child,) = of_type(bundled, "Patient", CHILD_ID)
    assert child["contact"][0]["telecom"]
    relations = {status(rp["relationship"][0]) for rp in of_type(bundled, "RelatedPerson", CHILD_ID)}
    assert {"MTH", "FTH"} <= relations


def test_chart_users_include_a_physician_and_a_care_coordinator(bundled):
    resources = by_id(bundled)
    assert f"Practitioner/{PHYSICIAN_USER_ID}" in resources
    assert f"Practitioner/{COORDINATOR_USER_ID}" in resources


# --- the child with medical complexity ----------------------------------------------------------


def child_conditions(bundled: list[dict], category: tuple[str, str]) -> list[dict]:
    return [c for c in of_type(bundled, "Condition", CHILD_ID) if any(category in codes(cat) for cat in c["category"])]


def test_the_child_has_ten_or_more_active_confirmed_problems_coded_in_icd10_and_snomed(bundled):
    active = [
        c
        for c in child_conditions(bundled, PROBLEM_LIST)
        if status(c.get("clinicalStatus")) == "active" and status(c["verificationStatus"]) == "confirmed"
    ]
    assert len(active) >= 10
    assert all(c["code"]["text"] and any(s == ICD10CM for s, _ in codes(c["code"])) for c in active)
    assert sum(any(s == SNOMED for s, _ in codes(c["code"])) for c in active) >= 10


def test_the_child_has_health_concerns_in_the_us_core_category(bundled):
    concerns = child_conditions(bundled, HEALTH_CONCERN)
    assert 1 <= len(concerns) <= 3 and all(status(c["clinicalStatus"]) == "active" for c in concerns)


def test_the_child_has_a_resolved_condition_and_a_recognisable_entered_in_error_one(bundled):
    conditions = of_type(bundled, "Condition", CHILD_ID)
    assert any(status(c.get("clinicalStatus")) == "resolved" and c.get("abatementDateTime") for c in conditions)
    (wrong,) = [c for c in conditions if status(c["verificationStatus"]) == "entered-in-error"]
    assert "entered in error" in wrong["code"]["text"]
    assert "clinicalStatus" not in wrong  # FHIR con-5


def test_the_child_has_ten_or_more_active_medication_orders_coded_in_rxnorm(bundled):
    orders = [
        m for m in of_type(bundled, "MedicationRequest", CHILD_ID) if m["status"] == "active" and m["intent"] == "order"
    ]
    assert len(orders) >= 10
    coded = [m for m in orders if "medicationCodeableConcept" in m]
    assert len(coded) > len(orders) / 2
    assert all(
        c["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
        for m in coded
        for c in m["medicationCodeableConcept"]["coding"]
    )


def test_the_childs_medications_include_referenced_contained_stopped_and_entered_in_error_orders(bundled):
    orders = of_type(bundled, "MedicationRequest", CHILD_ID)
    resources = by_id(bundled)
    referenced = [m["medicationReference"]["reference"] for m in orders if "medicationReference" in m]
    assert any(ref in resources and resources[ref]["resourceType"] == "Medication" for ref in referenced)
    assert any(m.get("contained") and m["medicationReference"]["reference"] == "#med1" for m in orders)
    assert {"stopped", "entered-in-error"} <= {m["status"] for m in orders}
    assert of_type(bundled, "MedicationStatement", CHILD_ID)


def test_the_child_has_two_active_allergies_with_reactions_and_one_inactive(bundled):
    allergies = of_type(bundled, "AllergyIntolerance", CHILD_ID)
    active = [a for a in allergies if status(a["clinicalStatus"]) == "active"]
    assert len(active) == 2 and all(a["reaction"][0]["manifestation"] for a in active)
    assert any(status(a["clinicalStatus"]) == "inactive" for a in allergies)


def test_the_childs_surgeries_include_gastrostomy_tracheostomy_and_spinal_fusion(bundled):
    procedures = of_type(bundled, "Procedure", CHILD_ID)
    assert all(p["status"] == "completed" for p in procedures)
    assert {(SNOMED, "54956002"), (SNOMED, "48387007"), (SNOMED, "55705006")} <= set().union(
        *(codes(p["code"]) for p in procedures)
    )


def test_the_child_has_home_equipment_a_device_use_statement_and_a_device_request(bundled):
    devices = of_type(bundled, "Device", CHILD_ID)
    assert len(devices) >= 5 and all(d["status"] == "active" and codes(d["type"]) for d in devices)
    names = " ".join(d["type"]["text"].lower() for d in devices)
    for thing in ("tracheostomy", "ventilator", "feeding pump", "wheelchair", "suction"):
        assert thing in names
    assert of_type(bundled, "DeviceUseStatement", CHILD_ID)
    assert of_type(bundled, "DeviceRequest", CHILD_ID)


def test_the_childs_longitudinal_care_team_has_specialists_with_nucc_specialty_and_phone(bundled):
    (team,) = of_type(bundled, "CareTeam", CHILD_ID)
    assert ("http://loinc.org", "LA28865-6") in codes(team["category"][0]) and team["status"] == "active"
    resources = by_id(bundled)
    roles = [
        resources[p["member"]["reference"]]
        for p in team["participant"]
        if p["member"]["reference"].startswith("PractitionerRole/")
    ]
    specialties = {code for role in roles for s in role["specialty"] for system, code in codes(s) if system == NUCC}
    assert len(specialties - {"163W00000X"}) >= 5  # physicians and other specialists, nurses aside
    for role in roles:
        assert role["telecom"][0]["system"] == "phone"
        assert resources[role["practitioner"]["reference"]]["resourceType"] == "Practitioner"
        assert resources[role["organization"]["reference"]]["resourceType"] == "Organization"


def test_the_childs_care_team_includes_a_care_coordinator_and_the_mother(bundled):
    (team,) = of_type(bundled, "CareTeam", CHILD_ID)
    roles = {code for p in team["participant"] for r in p["role"] for _, code in codes(r)}
    assert "768820003" in roles
    assert any(p["member"]["reference"].startswith("RelatedPerson/") for p in team["participant"])


def test_the_child_had_two_ed_visits_and_an_admission_in_the_last_year_and_an_older_ed_visit(bundled):
    encounters = of_type(bundled, "Encounter", CHILD_ID)
    ed = [days_ago(e) for e in encounters if encounter_class(e) == "EMER"]
    assert sum(d <= 365 for d in ed) >= 2 and any(365 < d <= 730 for d in ed)
    admissions = [e for e in encounters if encounter_class(e) == "IMP" and days_ago(e) <= 365]
    assert admissions and all(e["period"]["end"] > e["period"]["start"] for e in admissions)


def test_the_childs_clinic_visits_over_24_months_name_a_practitioner_and_a_provider(bundled):
    resources = by_id(bundled)
    visits = [e for e in of_type(bundled, "Encounter", CHILD_ID) if encounter_class(e) == "AMB"]
    assert all(days_ago(e) <= 730 for e in visits)
    seen = {e["participant"][0]["individual"]["reference"] for e in visits}
    assert len(seen) >= 5 and all(resources[ref]["resourceType"] == "Practitioner" for ref in seen)
    assert all(e["serviceProvider"]["reference"] in resources for e in visits)


def test_the_child_has_active_referrals_and_home_services(bundled):
    requests = of_type(bundled, "ServiceRequest", CHILD_ID)
    active = [s for s in requests if s["status"] == "active"]
    assert len(active) >= 3 and all((SNOMED, "3457005") in codes(s["category"][0]) for s in requests)


def test_the_child_has_active_goals_a_care_plan_and_an_advance_care_plan(bundled):
    assert all(g["lifecycleStatus"] == "active" for g in of_type(bundled, "Goal", CHILD_ID))
    (plan,) = of_type(bundled, "CarePlan", CHILD_ID)
    assert ("http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "assess-plan") in codes(plan["category"][0])
    (document,) = of_type(bundled, "DocumentReference", CHILD_ID)
    assert ("http://loinc.org", "42348-3") in codes(document["category"][0])


# --- the other patients -------------------------------------------------------------------------


def test_the_other_patients_have_smaller_records_with_their_own_care_teams(bundled):
    sizes = {pid: sum(belongs_to(r, pid) for r in bundled) for pid in PATIENT_IDS}
    assert all(sizes[pid] < sizes[CHILD_ID] for pid in PATIENT_IDS[1:])
    teams = {
        pid: {p["member"]["reference"] for p in of_type(bundled, "CareTeam", pid)[0]["participant"]}
        for pid in PATIENT_IDS
    }
    assert teams[TEEN_ID] != teams[CHILD_ID]


def test_hostile_text_sits_in_the_teens_record_to_exercise_escaping(bundled):
    text = json.dumps([r for r in bundled if belongs_to(r, TEEN_ID)])
    assert "<script>alert(1)</script>" in text


# --- the large patient --------------------------------------------------------------------------


def test_the_large_patient_has_at_least_5000_resources_and_builds_quickly():
    started = time.perf_counter()
    resources = build_large_patient(TODAY)
    assert time.perf_counter() - started < 2.0
    counts = Counter(r["resourceType"] for r in resources)
    assert len(resources) >= 5000
    assert counts["MedicationRequest"] == 2000 and counts["Encounter"] == 2000 and counts["Condition"] == 300


def test_every_large_patient_resource_validates_as_fhir_r4b(large):
    for r in large:
        get_fhir_model_class(r["resourceType"]).model_validate(r)


def test_the_large_patient_belongs_to_its_own_id():
    resources = build_large_patient(TODAY, patient_id="big", medication_orders=50, encounters=10, conditions=5, other=6)
    assert all(belongs_to(r, "big") for r in resources)


def test_every_large_patient_order_is_an_active_order_so_the_summary_fetches_it(large):
    orders = [r for r in large if r["resourceType"] == "MedicationRequest"]
    assert len(orders) == 2000
    assert {(o["status"], o["intent"]) for o in orders} == {("active", "order")}


def test_every_large_patient_encounter_started_within_the_last_24_months(large):
    starts = [date.fromisoformat(r["period"]["start"][:10]) for r in large if r["resourceType"] == "Encounter"]
    assert len(starts) == 2000
    assert all(TODAY - timedelta(days=730) < start <= TODAY for start in starts)
