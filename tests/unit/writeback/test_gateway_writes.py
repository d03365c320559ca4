"""The gateway's writes at the HTTP edge (responses): headers, where the resource landed, which writes
may be repeated, and errors that carry the EHR's own words."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from responses import matchers

from smart_app.errors import ForeignUrl
from smart_app.fhir.gateway import FhirGateway, FhirWriteRefused, FhirWriteUnknown

BASE = "https://ehr.example/fhir"
GOAL = {"resourceType": "Goal", "lifecycleStatus": "active", "subject": {"reference": "Patient/p1"}}


def a_gateway() -> tuple[FhirGateway, list[float]]:
    sleeps: list[float] = []
    return FhirGateway(BASE, lambda: "secret-token", sleep=sleeps.append), sleeps


def outcome(text: str) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": text}]}


@responses.activate
def test_a_conditional_create_sends_if_none_exist_and_takes_the_id_from_location_when_the_body_is_empty():
    responses.post(f"{BASE}/Goal", status=201, body="",
                   headers={"Location": f"{BASE}/Goal/g9/_history/1", "ETag": 'W/"1"'},
                   match=[matchers.header_matcher({"If-None-Exist": "identifier=urn%3Aspoc%3Agoal%7Cp.g1",
                                                   "Authorization": "Bearer secret-token"})])
    gateway, _ = a_gateway()
    answer = gateway.create(GOAL, if_none_exist="identifier=urn%3Aspoc%3Agoal%7Cp.g1")
    assert (answer.status, answer.resource, answer.location, answer.etag) == (201, None, "Goal/g9/_history/1", 'W/"1"')


@responses.activate
def test_an_update_sends_if_match_and_a_412_is_refused_with_the_ehr_words():
    responses.put(f"{BASE}/Goal/g9", status=412, json=outcome("version conflict"),
                  match=[matchers.header_matcher({"If-Match": 'W/"1"'})])
    gateway, _ = a_gateway()
    with pytest.raises(FhirWriteRefused) as refused:
        gateway.update({**GOAL, "id": "g9"}, if_match='W/"1"')
    assert refused.value.status == 412 and refused.value.said == "version conflict"
    assert "Someone changed the Goal in the EHR" in str(refused.value)


@responses.activate
def test_a_plain_create_is_never_repeated_but_a_conditional_one_is_after_503():
    responses.post(f"{BASE}/Goal", status=503, json=outcome("busy"))
    responses.post(f"{BASE}/Goal", status=503, json=outcome("busy"))
    responses.post(f"{BASE}/Goal", status=201, json={**GOAL, "id": "g1", "meta": {"versionId": "1"}})
    gateway, sleeps = a_gateway()
    with pytest.raises(FhirWriteRefused):
        gateway.create(GOAL)
    assert len(responses.calls) == 1 and sleeps == []
    assert gateway.create(GOAL, if_none_exist="identifier=x%7Cy").resource["id"] == "g1"
    assert len(responses.calls) == 3 and len(sleeps) == 1


@responses.activate
def test_a_transaction_with_an_unconditional_create_is_not_repeated():
    responses.post(BASE, status=503, json=outcome("busy"))
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": GOAL, "request": {"method": "POST", "url": "Goal"}}]}
    gateway, _ = a_gateway()
    with pytest.raises(FhirWriteRefused) as refused:
        gateway.transaction(bundle)
    assert refused.value.status == 503 and len(responses.calls) == 1
    assert json.loads(responses.calls[0].request.body)["type"] == "transaction"


@responses.activate
def test_no_answer_to_a_write_is_unknown_not_failed():
    responses.post(f"{BASE}/Goal", body=requests.Timeout())
    gateway, _ = a_gateway()
    with pytest.raises(FhirWriteUnknown, match="Trying again is safe"):
        gateway.create(GOAL, if_none_exist="identifier=x%7Cy")


@responses.activate
def test_a_write_forgets_cached_reads_so_the_next_read_asks_again():
    responses.get(f"{BASE}/Goal/g1", json={**GOAL, "id": "g1"})
    responses.put(f"{BASE}/Goal/g1", json={**GOAL, "id": "g1"})
    gateway, _ = a_gateway()
    gateway.read("Goal/g1")
    gateway.read("Goal/g1")
    gateway.update({**GOAL, "id": "g1"})
    gateway.read("Goal/g1")
    assert [c.request.method for c in responses.calls] == ["GET", "PUT", "GET"]


def test_nothing_is_written_to_another_server_or_without_a_valid_id():
    gateway, _ = a_gateway()
    with pytest.raises(ForeignUrl):
        FhirGateway("https://ehr.example/fhir", lambda: "t")._write("POST", "https://evil.example/fhir", GOAL, {},
                                                                      repeatable=False)
    with pytest.raises(Exception, match="valid id"):
        gateway.update({**GOAL, "id": "../x"})
