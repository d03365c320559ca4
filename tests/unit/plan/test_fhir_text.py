"""The FHIR reading helpers answer with plain values, and never raise, whatever they are given."""

from datetime import date

import pytest

from smart_app.plan.fhir_text import (
    DATA_ABSENT_SYSTEM,
    Code,
    coding_of,
    codings_of,
    data_absent,
    display_of,
    fhir_date,
    field_absent,
    human_name,
    is_entered_in_error,
    period_end,
    period_start,
    reference_of,
    string_of,
    target_of,
    telecom_phone,
    text_of,
)
from tests.builders import DATA_ABSENT_REASON, a_concept, a_condition

JUNK = (None, 0, 1.5, True, "", "text", [], [None, 3], {}, {"coding": "nope"}, {"text": ["a"]}, [[{}]])
HELPERS = (
    text_of,
    codings_of,
    reference_of,
    target_of,
    human_name,
    telecom_phone,
    fhir_date,
    period_start,
    period_end,
    is_entered_in_error,
    data_absent,
    string_of,
)


@pytest.mark.parametrize("junk", JUNK, ids=repr)
@pytest.mark.parametrize("helper", HELPERS, ids=lambda h: h.__name__)
def test_every_helper_answers_junk_without_raising(helper, junk):
    assert helper(junk) in ("", None, False, ()) or isinstance(helper(junk), str | tuple | date | bool)


def test_text_of_prefers_text_then_display_then_code():
    assert text_of({"text": "Asthma", "coding": [{"display": "Asthma (disorder)"}]}) == "Asthma"
    assert (
        text_of({"coding": [{"code": "195967001"}, {"display": "Asthma (disorder)"}]}) == "Asthma (disorder)"
    )
    assert text_of({"coding": [{"system": "http://snomed.info/sct", "code": "195967001"}]}) == "195967001"


def test_text_of_takes_the_first_labelled_concept_of_a_list():
    assert text_of([{}, {"text": "Neurology"}, {"text": "Pediatrics"}]) == "Neurology"


def test_text_of_collapses_whitespace_and_ignores_non_text_values():
    assert text_of({"text": "  Cerebral\n palsy "}) == "Cerebral palsy"
    assert text_of({"text": {"div": "x"}}) == ""


HOSTILE = "Epi\x00lep\x1bsy\x07\ufffe\ud800 \u202egnp.exe"
CLEANED = "Epilepsy \u202egnp.exe\u202c"


def test_every_text_the_ehr_sends_is_cleaned_on_the_way_in():
    assert text_of({"text": HOSTILE}) == CLEANED
    assert text_of({"coding": [{"display": HOSTILE}]}) == CLEANED
    assert text_of(HOSTILE) == CLEANED
    assert string_of(HOSTILE) == CLEANED
    assert display_of({"display": HOSTILE}) == CLEANED
    assert codings_of({"coding": [{"system": "s", "code": "c", "display": HOSTILE}]})[0].display == CLEANED
    assert human_name([{"text": HOSTILE}]) == CLEANED
    assert human_name([{"given": ["Ana\x00"], "family": "Rivera\u202e"}]) == "Ana Rivera\u202e\u202c"
    assert telecom_phone([{"system": "phone", "value": "555\x000199"}]) == "5550199"


def test_a_control_between_words_does_not_leave_a_double_space():
    assert string_of("Cerebral \x00 palsy") == "Cerebral palsy"


def test_text_of_never_offers_a_data_absent_code_as_a_label():
    assert text_of({"coding": [{"system": DATA_ABSENT_SYSTEM, "code": "unknown"}]}) == ""


def test_coding_of_finds_the_code_in_the_asked_system():
    concept = a_concept("Asthma", system="http://snomed.info/sct", code="195967001")
    assert coding_of(concept, "http://snomed.info/sct") == "195967001"
    assert coding_of(concept, "http://hl7.org/fhir/sid/icd-10-cm") == ""


def test_codings_of_keeps_system_code_and_display():
    concept = a_concept(system="http://loinc.org", code="42348-3", display="Advance directives")
    assert codings_of(concept) == (Code("http://loinc.org", "42348-3", "Advance directives"),)


def test_reference_of_is_type_slash_id_or_empty():
    assert reference_of({"resourceType": "Condition", "id": "c1"}) == "Condition/c1"
    assert reference_of({"resourceType": "Condition"}) == ""
    assert reference_of({"resourceType": ["Condition"], "id": "c1"}) == ""


@pytest.mark.parametrize(
    ("reference", "target"),
    [
        ("Practitioner/p1", "Practitioner/p1"),
        ("https://ehr.example/fhir/Practitioner/p1", "Practitioner/p1"),
        ("Practitioner/p1/_history/3", "Practitioner/p1"),
        ("#med1", "#med1"),
        ("p1", ""),
    ],
)
def test_target_of_shortens_references_to_type_and_id(reference, target):
    assert target_of({"reference": reference}) == target


def test_human_name_prefers_official_and_skips_old_names():
    names = [
        {"use": "old", "given": ["Ada"], "family": "Byron"},
        {"use": "nickname", "text": "Addie"},
        {"use": "official", "prefix": ["Dr."], "given": ["Ada", "King"], "family": "Lovelace"},
    ]
    assert human_name(names) == "Dr. Ada King Lovelace"


def test_human_name_uses_text_when_given():
    assert human_name([{"text": "Ada Lovelace", "family": "Other"}]) == "Ada Lovelace"


def test_telecom_phone_picks_the_best_ranked_phone_and_ignores_email():
    telecoms = [
        {"system": "email", "value": "a@example.org", "rank": 1},
        {"system": "phone", "value": "555-0002", "rank": 2},
        {"system": "phone", "value": "555-0001", "rank": 1},
    ]
    assert telecom_phone(telecoms) == "555-0001"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-06", date(2024, 5, 6)),
        ("2024-05-06T23:30:00-05:00", date(2024, 5, 6)),
        ("2024-05", date(2024, 5, 1)),
        ("2024", date(2024, 1, 1)),
        ("2024-02-30", None),
        ("0000-01-01", None),
        ("yesterday", None),
        (20240506, None),
    ],
)
def test_fhir_date_reads_dates_and_datetimes_and_rejects_the_rest(value, expected):
    assert fhir_date(value) == expected


def test_period_start_and_end_read_a_period():
    period = {"start": "2024-01-02", "end": "2024-03-04T10:00:00Z"}
    assert (period_start(period), period_end(period)) == (date(2024, 1, 2), date(2024, 3, 4))


@pytest.mark.parametrize(
    "resource",
    [
        {"status": "entered-in-error"},
        {"docStatus": "entered-in-error"},
        {"lifecycleStatus": "entered-in-error"},
        a_condition(verification="entered-in-error"),
        a_condition(status="entered-in-error"),
        {"verificationStatus": "entered-in-error"},  # DSTU2-style plain string
        {"clinicalStatus": {"coding": [{"code": "active"}, {"code": "entered-in-error"}]}},
    ],
)
def test_is_entered_in_error_recognises_every_status_form(resource):
    assert is_entered_in_error(resource)


def test_is_entered_in_error_is_false_for_ordinary_resources():
    assert not is_entered_in_error(a_condition(verification="confirmed"))


def test_data_absent_finds_the_extension_anywhere_on_the_element():
    assert (
        data_absent({"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "asked-unknown"}]}) == "unknown"
    )
    assert (
        data_absent({"coding": [{"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}]})
        == "unknown"
    )


def test_data_absent_finds_the_data_absent_code_system():
    assert data_absent({"coding": [{"system": DATA_ABSENT_SYSTEM, "code": "unknown"}]}) == "unknown"


def test_data_absent_says_masked_when_the_ehr_masked_the_value():
    assert data_absent({"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "masked"}]}) == "masked"


def test_data_absent_is_empty_for_present_values():
    assert data_absent({"text": "Asthma"}) == ""


def test_field_absent_reads_the_underscore_companion_of_a_primitive():
    resource = {"_birthDate": {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}}
    assert field_absent(resource, "birthDate") == "unknown"


def test_data_absent_does_not_recurse_without_end():
    deep: dict = {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    for _ in range(5000):
        deep = {"a": deep}
    assert data_absent(deep) == ""
