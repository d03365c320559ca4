"""The first screen: what a physician asks in thirty seconds, each part as sure as the section it comes from."""

from __future__ import annotations

from datetime import date

from smart_app.plan.at_a_glance import LOADING, at_a_glance, high_alert_class
from smart_app.plan.curation import ItemCuration
from smart_app.plan.fhir_text import Code
from smart_app.plan.model import Role, Stance
from smart_app.plan.record import SectionState
from smart_app.plan.summary import MedicationItem, Source, summarize_section
from tests.builders import (
    a_care_team,
    a_condition,
    a_device,
    a_medication_request,
    a_participant,
    a_practitioner,
    a_practitioner_role,
    a_section,
    an_allergy,
    an_encounter,
)
from tests.plan_builders import a_goal, a_plan, a_position, an_action

TODAY = date(2026, 3, 16)
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def section(key, *resources, state=SectionState.COMPLETE):
    return summarize_section(a_section(key, *resources, state=state), today=TODAY)


def coded(text, code, **fields):
    return a_condition(text, code={"text": text, "coding": [{"system": ICD, "code": code}]}, **fields)


def care_team(*people):
    """(given, family, role, phone) each: the CareTeam with its PractitionerRoles and Practitioners."""
    resources, participants = [], []
    for given, family, role, phone in people:
        practitioner = a_practitioner(given, family, phone=phone or None)
        practitioner_role = a_practitioner_role(practitioner, specialty=None, code=role, id=f"role-{family}")
        resources += [practitioner, practitioner_role]
        participants.append(a_participant(practitioner_role, role=role))
    return section("care_team", a_care_team(*participants), *resources)


SECTIONS = {
    "allergies": section("allergies", an_allergy("Penicillin", reactions=("Rash",), criticality="low"),
                         an_allergy("Latex", reactions=("Urticaria",), criticality="high")),
    "conditions": section("conditions", coded("Gastroesophageal reflux disease", "K21.9"),
                          coded("Tracheostomy status", "Z93.0"), coded("Epilepsy", "G40.909"),
                          coded("No accessible transport", "Z59.82", category="health-concern"),
                          coded("Chronic constipation", "K59.00"), coded("Spastic cerebral palsy", "G80.0"),
                          coded("Scoliosis", "M41.40"), coded("Dependence on ventilator", "Z99.11")),
    "medications": section("medications", a_medication_request("Levetiracetam 100 mg/mL oral solution"),
                           a_medication_request("Midazolam 5 mg/mL nasal spray", dose_text="for seizures > 5 min"),
                           a_medication_request("Omeprazole 2 mg/mL suspension")),
    "equipment": section("equipment", a_device("Enteral feeding pump"), a_device("Tilt-in-space wheelchair"),
                         a_device("Home mechanical ventilator")),
    "care_team": care_team(("Ana", "Rivera", "Mother and primary caregiver", "555-0140"),
                           ("Amara", "Okafor", "Primary care pediatrician", "555-0101"),
                           ("Jordan", "Lee", "Care coordinator", "555-0127")),
    "encounters": section("encounters", an_encounter("EMER", start="2026-01-14"),
                          an_encounter("EMER", start="2024-12-01"), an_encounter("IMP", start="2025-02-02",
                                                                                   end="2025-02-08")),
}


def texts(part):
    return [(line.label, line.detail) for line in part.lines]


def test_sofias_questions_are_answered_from_complete_sections():
    glance = at_a_glance(SECTIONS, today=TODAY, plan=None)
    assert texts(glance.part("allergies")) == [("Latex", "high · Urticaria"), ("Penicillin", "low · Rash")]
    assert glance.part("allergies").lines[0].flag == "high"
    problems = glance.part("problems")
    assert [label for label, _ in texts(problems)] == [
        "Epilepsy", "Spastic cerebral palsy", "Dependence on ventilator", "Tracheostomy status",
        "Chronic constipation"]  # then, as the summary lists them: alphabetically
    assert (problems.more, problems.summary) == (2, "7 diagnoses · 1 social needs or health concerns")
    assert "No accessible transport" not in str(texts(problems))
    medications = glance.part("medications")
    assert texts(medications) == [("Levetiracetam 100 mg/mL oral solution", "anticonvulsant"),
                                  ("Midazolam 5 mg/mL nasal spray", "rescue medication")]
    assert medications.summary == "3 active · 2 high-alert"
    assert texts(glance.part("equipment")) == [  # breathing first, then feeding, then the rest as listed
        ("Home mechanical ventilator", ""), ("Enteral feeding pump", ""), ("Tilt-in-space wheelchair", "")]
    assert texts(glance.part("contacts")) == [("Care coordinator", "Dr. Jordan Lee · 555-0127"),
                                              ("Primary care", "Dr. Amara Okafor · 555-0101")]  # not the caregiver
    assert texts(glance.part("hospital")) == [("Last ED visit", "14 Jan 2026 (1 in 12 months)"),
                                              ("Last admission", "2 Feb 2025 (0 in 12 months)")]
    assert texts(glance.part("plan")) == [("No plan started yet", "")]
    assert all(p.state == "complete" and not p.status for p in glance.parts)


def test_a_section_not_read_yet_is_loading_and_a_failed_one_says_so_never_none():
    sections = {**SECTIONS, "allergies": section("allergies", state=SectionState.FAILED)}
    del sections["medications"]
    glance = at_a_glance(sections, today=TODAY, plan=None)
    allergies = glance.part("allergies")
    assert (allergies.state, allergies.lines) == ("failed", ())
    assert "could not be loaded" in allergies.status
    assert glance.part("medications").state == LOADING
    assert glance.part("medications").lines == ()


def test_an_empty_complete_section_is_a_claim_the_reader_is_told_and_incomplete_is_flagged():
    sections = {**SECTIONS, "allergies": section("allergies"),
                "medications": section("medications", a_medication_request("Omeprazole 2 mg/mL suspension"),
                                       state=SectionState.INCOMPLETE)}
    glance = at_a_glance(sections, today=TODAY, plan=None)
    assert glance.part("allergies").status.startswith("The health record lists no allergies")
    medications = glance.part("medications")
    assert medications.summary == "1 active · none high-alert"
    assert medications.state == "incomplete" and medications.status


def test_hidden_items_stay_out_and_a_missing_coordinator_is_said():
    team = care_team(("Amara", "Okafor", "Primary care pediatrician", ""))
    hidden = {"AllergyIntolerance/allergy-latex": ItemCuration("AllergyIntolerance/allergy-latex", hidden=True,
                                                               hidden_reason="duplicate")}
    glance = at_a_glance({**SECTIONS, "care_team": team}, today=TODAY, plan=None, curations=hidden)
    assert [label for label, _ in texts(glance.part("allergies"))] == ["Penicillin"]
    assert texts(glance.part("contacts")) == [("Care coordinator", "not named in the EHR's care team"),
                                              ("Primary care", "Dr. Amara Okafor · no phone in the EHR")]


def test_the_plan_part_counts_open_disagreements_and_overdue_actions():
    plan = a_plan(a_goal("g1"), an_action("a1", goal_id="g1", due=date(2026, 3, 1)),
                  an_action("a2", goal_id="g1", due=date(2026, 4, 1)),
                  a_position("a2", Role.CLINICIAN, Stance.DECLINE, reason="Not yet"))
    glance = at_a_glance(SECTIONS, today=TODAY, plan=plan)
    assert texts(glance.part("plan")) == [("Open disagreements", "1"), ("Overdue actions", "1")]


def test_high_alert_classes_by_ingredient_word_not_substring():
    def med(label, *displays):
        return MedicationItem(label, "", "active", True, tuple(Code("rx", "1", d) for d in displays),
                              Source("MedicationRequest", ""))
    assert high_alert_class(med("Insulin glargine 100 units/mL")) == "insulin"
    assert high_alert_class(med("Enoxaparin 40 mg/0.4 mL")) == "anticoagulant"
    assert high_alert_class(med("Oral solution", "oxycodone hydrochloride")) == "opioid"
    assert high_alert_class(med("Omeprazole")) == ""
    assert high_alert_class(med("Heparinoid cream")) == ""


def test_the_signed_narrative_lists_diagnoses_by_weight_and_social_needs_apart_with_last_hospital_use():
    from smart_app.plan.narrative import HEALTH_CONCERNS_TITLE, narrative_parts
    from smart_app.plan.signed_record import SignedRecord

    record = SignedRecord(read_on=TODAY, header=None, sections=tuple(SECTIONS.values()))
    blocks = {block.title: block for block in narrative_parts(record).summary}
    diagnoses = blocks["Conditions"].lines
    assert diagnoses[:3] == ("Epilepsy", "Spastic cerebral palsy", "Dependence on ventilator")
    assert not any("transport" in line for line in diagnoses)
    assert blocks[HEALTH_CONCERNS_TITLE].lines == ("No accessible transport",)
    assert blocks["Hospital use, last 12 months"].lines == (
        "Emergency department visits: 1 (last on 2026-01-14)", "Hospital admissions: 0 (last on 2025-02-02)")
