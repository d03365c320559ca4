"""Scopes asked for and granted (R10, R21), and the token response checks (R17, R18, R23, R24)."""

from datetime import UTC, datetime, timedelta

import pytest

from smart_app.errors import LaunchError
from smart_app.launch.context import context_from
from smart_app.launch.scopes import grants, requested_scopes

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_v2_scopes_only_when_the_server_advertises_permission_v2():
    v2 = requested_scopes(kind="ehr", write_mode="note", v2=True).split()
    v1 = requested_scopes(kind="ehr", write_mode="note", v2=False).split()
    assert "patient/Condition.rs" in v2 and "patient/DocumentReference.cu" in v2
    assert "patient/Condition.read" in v1 and "patient/DocumentReference.write" in v1
    assert not any(s.endswith(".rs") or s.endswith(".cu") for s in v1)


def test_no_wildcard_resource_scopes_are_requested():
    for v2 in (True, False):
        for mode in ("careplan", "note", "none"):
            assert not [s for s in requested_scopes(kind="ehr", write_mode=mode, v2=v2).split() if "/*." in s]


def test_ehr_launch_asks_for_launch_and_standalone_for_launch_patient():
    assert requested_scopes(kind="ehr", write_mode="none", v2=True).split()[0] == "launch"
    standalone = requested_scopes(kind="standalone", write_mode="none", v2=True).split()
    assert "launch/patient" in standalone and "launch" not in standalone


def test_granted_scopes_are_read_in_v1_and_v2_syntax():
    assert grants("patient/DocumentReference.write", "DocumentReference", "create")
    assert grants("patient/DocumentReference.cruds", "DocumentReference", "create")
    assert grants("patient/*.read", "Condition", "search")
    assert not grants("patient/DocumentReference.rs", "DocumentReference", "create")
    assert not grants("patient/Condition.read", "DocumentReference", "read")
    assert not grants("launch openid fhirUser", "Patient", "read")


def token(**overrides):
    response = {"access_token": "at", "token_type": "Bearer", "expires_in": 300, "scope": "launch patient/Patient.rs",
                "patient": "p1"}
    response.update(overrides)
    return {k: v for k, v in response.items() if v is not None}


def test_a_good_token_response_gives_the_launch_context():
    context = context_from(token(encounter="e1", need_patient_banner=False, refresh_token="rt"),
                           requested_scope="x", now=NOW)
    assert context.patient_id == "p1" and context.encounter_id == "e1"
    assert context.expires_at == NOW + timedelta(seconds=300)
    assert context.need_patient_banner is False and context.refresh_token == "rt"


@pytest.mark.parametrize("bad", [token(token_type="MAC"), token(token_type=None), token(access_token=None),
                                 token(access_token=""), token(patient=None), "not json", None])
def test_token_responses_without_bearer_token_or_patient_are_refused(bad):
    with pytest.raises(LaunchError):
        context_from(bad, requested_scope="x", now=NOW)


def test_token_type_is_case_insensitive():
    assert context_from(token(token_type="bearer"), requested_scope="x", now=NOW).access_token == "at"


def test_banner_is_shown_unless_the_ehr_says_not_to_and_unknown_intent_is_harmless():
    context = context_from(token(intent="something-new"), requested_scope="x", now=NOW)
    assert context.need_patient_banner is True and context.intent == "something-new"


def test_absent_scope_means_granted_as_requested():
    assert context_from(token(scope=None), requested_scope="launch a b", now=NOW).scope == "launch a b"


@pytest.mark.parametrize("patient", ["a,b", "a" * 65, "p 1", "p1/_history/2", "Patient/p1", "p1\n", "ä1", 7])
def test_a_patient_that_is_not_a_fhir_id_refuses_the_launch(patient):
    with pytest.raises(LaunchError) as refused:  # "a,b" would be an OR search on a lenient server
        context_from(token(patient=patient), requested_scope="x", now=NOW)
    assert refused.value.relaunch_hint


@pytest.mark.parametrize("encounter", ["e1,e2", "e" * 65, "Encounter/e1", ""])
def test_an_encounter_that_is_not_a_fhir_id_is_dropped_and_the_launch_goes_on(encounter):
    context = context_from(token(encounter=encounter), requested_scope="x", now=NOW)
    assert context.patient_id == "p1" and context.encounter_id is None


def test_ids_of_64_letters_digits_dots_and_hyphens_are_kept():
    fhir_id = "A-b.9" + "x" * 59
    context = context_from(token(patient=fhir_id, encounter=fhir_id), requested_scope="x", now=NOW)
    assert context.patient_id == context.encounter_id == fhir_id
