"""The sandbox as the SMART front door of another FHIR server (`upstream_fhir`): the independent engine.

The token, scopes and compartment stay the sandbox's; search, validation and status codes are the
engine's; every URL of the engine comes back under the sandbox's base.
"""

from __future__ import annotations

import pytest

from sandbox import SandboxConfig
from sandbox.__main__ import config_from_args, parse_args
from sandbox.upstream import put_resources, rebased, refusals
from tests.sandbox.conftest import BASE, WRITE_SCOPES, small_record
from tests.support import path_of

pytestmark = pytest.mark.engine

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def config(engine) -> SandboxConfig:
    """The small record both in the sandbox (its chart and launch directory) and in the engine."""
    base = engine.fresh()
    record = small_record()
    assert refusals(record, put_resources(base, record)) == []
    return SandboxConfig(resources=record, upstream_fhir=base)


def a_careplan(patient: str) -> dict:
    return {"resourceType": "CarePlan", "status": "active", "intent": "plan",
            "subject": {"reference": f"Patient/{patient}"}}


def test_without_a_valid_token_nothing_is_answered(client):
    assert client.get("/fhir/Observation?patient=Patient/p1").status_code == 401
    assert client.get("/fhir/Observation?patient=Patient/p1",
                      headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_a_search_is_the_engines_and_its_pages_come_back_under_the_sandbox(client, launch):
    headers = launch().headers
    first = client.get("/fhir/Observation?patient=Patient/p1&_count=3", headers=headers).json
    assert first["total"] == 7 and len(first["entry"]) == 3
    assert all(link["url"].startswith(f"{BASE}/Observation?") for link in first["link"])
    assert all(entry["fullUrl"].startswith(f"{BASE}/Observation/") for entry in first["entry"])
    seen, page = [], first
    while True:
        seen += [e["resource"]["id"] for e in page["entry"]]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = client.get(path_of(following[0]), headers=headers).json
    assert sorted(seen) == [f"o{n}" for n in range(7)]


def test_a_search_must_name_the_patient_in_context(client, launch):
    headers = launch().headers
    assert client.get("/fhir/Observation?code=weight", headers=headers).status_code == 403
    assert client.get("/fhir/Condition?patient=Patient/p2", headers=headers).status_code == 403
    assert client.get("/fhir/Condition?subject=Patient/p1", headers=headers).status_code == 200


def test_scopes_are_checked_for_every_request(client, launch):
    headers = launch().headers  # read scopes, no Encounter
    assert client.get("/fhir/Encounter?patient=Patient/p1", headers=headers).status_code == 403
    refused = client.post("/fhir/CarePlan", json=a_careplan("p1"), headers=headers)
    assert refused.status_code == 403 and "create of CarePlan" in refused.json["issue"][0]["diagnostics"]


def test_a_read_outside_the_patient_in_context_is_withheld(client, launch):
    headers = launch().headers
    assert client.get("/fhir/Condition/c9", headers=headers).status_code == 403
    mine = client.get("/fhir/Condition/c1", headers=headers)
    assert mine.status_code == 200 and mine.headers["ETag"].startswith('W/"')


def test_writes_stay_in_the_patient_in_context_and_carry_the_engines_answer(client, launch):
    headers = launch(scope=WRITE_SCOPES).headers
    assert client.post("/fhir/CarePlan", json=a_careplan("p2"), headers=headers).status_code == 403
    created = client.post("/fhir/CarePlan", json=a_careplan("p1"), headers=headers)
    assert created.status_code == 201 and created.headers["Location"].startswith(f"{BASE}/CarePlan/")
    plan, stale = created.json, created.headers["ETag"]
    updated = client.put(f"/fhir/CarePlan/{plan['id']}", json=plan | {"status": "on-hold"},
                         headers=headers | {"If-Match": stale})
    assert updated.status_code == 200
    refused = client.put(f"/fhir/CarePlan/{plan['id']}", json=plan | {"status": "revoked"},
                         headers=headers | {"If-Match": stale})
    assert refused.status_code == 412  # the engine's answer to a stale version


def test_a_bundle_is_checked_entry_by_entry_and_by_the_sandboxs_own_limits(client, launch):
    headers = launch(scope=WRITE_SCOPES).headers
    entries = [{"resource": a_careplan(p), "request": {"method": "POST", "url": "CarePlan"}} for p in ("p1", "p2")]
    refused = client.post("/fhir", json={"resourceType": "Bundle", "type": "transaction", "entry": entries},
                          headers=headers)
    assert refused.status_code == 403 and refused.json["issue"][0]["diagnostics"].startswith("entry 2:")
    client.post("/_sandbox/config", json={"max_transaction_entries": 1})
    too_many = client.post("/fhir", json={"resourceType": "Bundle", "type": "transaction",
                                          "entry": [entries[0], entries[0]]}, headers=headers)
    assert too_many.status_code == 413


def test_metadata_is_the_engines_with_the_sandboxs_smart_endpoints_and_write_policy(client):
    statement = client.get("/fhir/metadata").json
    assert "Medplum" in statement["software"]["name"]
    oauth = statement["rest"][0]["security"]["extension"][0]["extension"]
    assert {"url": "authorize", "valueUri": "http://localhost/auth/authorize"} in oauth
    codes = {r["type"]: {i["code"] for i in r["interaction"]} for r in statement["rest"][0]["resource"]}
    assert "create" in codes["CarePlan"] and "create" not in codes["Observation"]
    assert "search-type" in codes["Observation"]


def test_the_sandboxs_search_settings_are_refused_in_front_of_an_engine(client):
    refused = client.post("/_sandbox/config", json={"include_supported": False})
    assert refused.status_code == 400 and "upstream" in refused.json["error"]
    assert client.post("/_sandbox/config", json={"latency_ms": 0}).status_code == 200


def test_resources_added_through_the_controls_land_in_the_engine(client, launch):
    changed = next(r for r in small_record() if r["id"] == "c1") | {"code": {"text": "changed in the EHR"}}
    added = client.post("/_sandbox/resources", json=[changed])
    assert added.status_code == 200 and added.json[0]["versionId"]
    read = client.get("/fhir/Condition/c1", headers=launch().headers).json
    assert read["code"]["text"] == "changed in the EHR"


def test_an_injected_fault_answers_in_place_of_the_engine(client, launch):
    headers = launch().headers
    client.post("/_sandbox/config", json={"faults": [{"path_regex": "^/fhir/Observation", "status": 503}]})
    assert client.get("/fhir/Observation?patient=Patient/p1", headers=headers).status_code == 503
    assert client.get("/fhir/Observation?patient=Patient/p1", headers=headers).status_code == 200


def test_only_the_engines_base_is_rebased():
    theirs, ours = "http://127.0.0.1:9/fhir", "http://localhost:8200/fhir"
    assert rebased({"a": [f"{theirs}/Goal/1", f"{theirs}?x=1", theirs, "http://127.0.0.1:9/fhirx", "Goal/1", 3]},
                   theirs, ours) == {"a": [f"{ours}/Goal/1", f"{ours}?x=1", ours, "http://127.0.0.1:9/fhirx",
                                           "Goal/1", 3]}


def test_the_command_line_puts_the_sandbox_in_front_of_an_upstream():
    args = parse_args(["--upstream-fhir", "http://127.0.0.1:8300/fhir"])
    assert config_from_args(args).upstream_fhir == "http://127.0.0.1:8300/fhir"
    assert config_from_args(parse_args([])).upstream_fhir is None
