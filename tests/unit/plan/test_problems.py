"""Conditions: diagnoses by clinical weight; social needs and health concerns never among them."""

from __future__ import annotations

from smart_app.plan import problems
from smart_app.plan.fhir_text import Code
from smart_app.plan.summary import ConditionItem, ConditionStatus, Source

ICD = problems.ICD10CM
SCT = problems.SNOMED


def a_condition(label: str, *codes: tuple[str, str], category: str = "problem-list-item") -> ConditionItem:
    return ConditionItem(label=label, codes=tuple(Code(system, code) for system, code in codes), onset=None,
                         onset_text="", status=ConditionStatus.ACTIVE, category=category,
                         source=Source("Condition", f"Condition/{label[:8]}"))


# Sofia's problem list as the sandbox files it (codes from sandbox/data/characters.py).
CP = a_condition("Spastic quadriplegic cerebral palsy", (ICD, "G80.0"), (SCT, "128188000"))
EPILEPSY = a_condition("Epilepsy", (ICD, "G40.909"))
GASTROSTOMY = a_condition("Gastrostomy status (G-tube fed)", (ICD, "Z93.1"))
TRACH = a_condition("Tracheostomy status", (ICD, "Z93.0"))
RESPIRATORY_FAILURE = a_condition("Chronic respiratory failure with hypercapnia", (ICD, "J96.12"))
VENTILATOR = a_condition("Dependence on home mechanical ventilation", (ICD, "Z99.11"))
GERD = a_condition("Gastroesophageal reflux disease", (ICD, "K21.9"))
BLADDER = a_condition("Neurogenic bladder", (ICD, "N31.9"))
CONSTIPATION = a_condition("Chronic constipation", (ICD, "K59.00"))
CAREGIVER = a_condition("Caregiver strain: night nursing hours unfilled", (ICD, "Z63.6"), category="health-concern")
TRANSPORT = a_condition("No accessible transport to specialty visits", (ICD, "Z59.82"), category="health-concern")
WORRY = a_condition("Family worried about school nursing", category="health-concern")

ALPHABETICAL = sorted([CAREGIVER, CONSTIPATION, CP, EPILEPSY, GASTROSTOMY, GERD, BLADDER, TRANSPORT, TRACH,
                       RESPIRATORY_FAILURE, VENTILATOR, WORRY], key=lambda c: c.label)


def labels(items) -> list[str]:
    return [i.label for i in items]


def test_complex_chronic_conditions_and_technology_come_first_by_organ_system():
    ranked = problems.ranked(ALPHABETICAL)
    assert labels(ranked[:5]) == [
        "Epilepsy", "Spastic quadriplegic cerebral palsy",  # neurologic
        "Chronic respiratory failure with hypercapnia",  # respiratory: the disease, then its devices
        "Dependence on home mechanical ventilation", "Tracheostomy status",
    ]
    assert labels(ranked[5:7]) == ["Gastrostomy status (G-tube fed)", "Neurogenic bladder"]
    assert set(labels(ranked[7:])) == {"Chronic constipation", "Gastroesophageal reflux disease"}


def test_social_needs_are_never_diagnoses_whatever_the_ehr_filed_them_under():
    assert problems.group(CAREGIVER) == problems.group(TRANSPORT) == problems.SOCIAL_NEEDS
    filed_as_problem = a_condition("Food insecurity", (ICD, "Z59.41"))
    sdoh = a_condition("Housing unstable", category="sdoh")
    assert problems.group(filed_as_problem) == problems.group(sdoh) == problems.SOCIAL_NEEDS
    assert problems.group(WORRY) == problems.HEALTH_CONCERNS
    ranked = labels(problems.ranked([*ALPHABETICAL, filed_as_problem, sdoh]))
    for not_a_diagnosis in (CAREGIVER, TRANSPORT, WORRY, filed_as_problem, sdoh):
        assert not_a_diagnosis.label not in ranked


def test_grouped_keeps_every_condition_once_in_page_order():
    groups = problems.grouped(ALPHABETICAL + [a_condition("Otitis media", (ICD, "H66.90"),
                                                          category="encounter-diagnosis"),
                                              a_condition("Asthma", category="")])
    assert [name for name, _ in groups] == [problems.PROBLEM_LIST, problems.VISIT_DIAGNOSES,
                                            problems.OTHER_CONDITIONS, problems.HEALTH_CONCERNS,
                                            problems.SOCIAL_NEEDS]
    assert sum(len(members) for _, members in groups) == len(ALPHABETICAL) + 2
    assert labels(groups[0][1])[0] == "Epilepsy"
    assert labels(groups[4][1]) == [CAREGIVER.label, TRANSPORT.label]


def test_text_only_conditions_are_weighed_by_their_words_and_unknown_codes_fall_back_to_words():
    text_only = a_condition("Tracheostomy dependent since infancy")
    local_code = a_condition("Cystic fibrosis", ("urn:oid:1.2.3", "CF1"))
    assert problems.weight(text_only) == problems.Weight(True, "respiratory", technology=True)
    assert problems.weight(local_code) == problems.Weight(True, "respiratory")
    assert problems.weight(a_condition("Seasonal allergies")) == problems.ORDINARY


def test_the_longest_icd_prefix_decides():
    assert problems.weight(a_condition("Chronic respiratory failure", (ICD, "J96.10"))).complex_chronic
    assert not problems.weight(a_condition("Acute respiratory failure", (ICD, "J96.00"))).complex_chronic
    assert problems.weight(a_condition("Oxygen dependence", (ICD, "Z99.81"))).technology
    assert problems.weight(a_condition("Leukemia", (ICD, "C91.00"))).system == "malignancy"


def test_key_diagnoses_are_the_complex_chronic_ones_or_the_first_five():
    assert labels(problems.main_diagnoses(ALPHABETICAL)) == labels(problems.ranked(ALPHABETICAL)[:7])
    few = [GERD, CONSTIPATION, CAREGIVER]
    assert labels(problems.main_diagnoses(few)) == ["Gastroesophageal reflux disease", "Chronic constipation"]
