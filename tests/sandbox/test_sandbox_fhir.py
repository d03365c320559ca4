"""The sandbox's FHIR endpoint: scope enforcement, search, paging, includes, writes, bundles, faults."""

from __future__ import annotations

import time
import uuid

import pytest

from sandbox import Fault, SandboxConfig, create_sandbox
from tests.sandbox.conftest import BASE, PROBLEM_LIST, WRITE_SCOPES, small_record


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == mode]


def link(bundle: dict, relation: str) -> str | None:
    return next((l["url"] for l in bundle["link"] if l["relation"] == relation), None)


def relative(url: str) -> str:
    return url.removeprefix("http://localhost")


# --- scope enforcement -------------------------------------------------------------------------

def test_a_token_cannot_read_another_patients_resources(client, launch):
    launched = launch("p1")
    assert client.get("/fhir/Condition/c1", headers=launched.headers).status_code == 200
    refused = client.get("/fhir/Condition/c9", headers=launched.headers)
    assert refused.status_code == 403 and refused.json["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/Patient/p2", headers=launched.headers).status_code == 403


def test_searches_must_name_the_tokens_own_patient(client, launch):
    launched = launch("p1")
    assert client.get("/fhir/Condition?patient=p2", headers=launched.headers).status_code == 403
    assert client.get("/fhir/Condition", headers=launched.headers).status_code == 403
    own = client.get("/fhir/Condition?subject=Patient/p1", headers=launched.headers)
    assert own.status_code == 200 and sorted(ids(own.json)) == ["c1", "c2", "c3"]


def test_a_token_cannot_reach_a_type_its_scopes_do_not_grant(client, launch):
    launched = launch("p1", scope="launch patient/Patient.read")
    refused = client.get("/fhir/Condition?patient=p1", headers=launched.headers)
    assert refused.status_code == 403 and "Condition" in refused.json["issue"][0]["diagnostics"]


def test_v2_search_only_scope_allows_search_but_not_read(client, launch):
    launched = launch("p1", scope="launch patient/Condition.s")
    assert client.get("/fhir/Condition?patient=p1", headers=launched.headers).status_code == 200
    assert client.get("/fhir/Condition/c1", headers=launched.headers).status_code == 403


def test_shared_types_are_readable_when_granted(client, launch):
    launched = launch("p1")
    assert client.get("/fhir/Practitioner/dr1", headers=launched.headers).status_code == 200


def test_requests_without_a_bearer_token_get_401_but_metadata_is_open(client):
    assert client.get("/fhir/Patient/p1").status_code == 401
    assert client.get("/fhir/metadata").json["resourceType"] == "CapabilityStatement"


# --- read, search ------------------------------------------------------------------------------

def test_read_carries_etag_and_version_and_unknown_ids_are_404(client, launch):
    launched = launch()
    found = client.get("/fhir/Condition/c1", headers=launched.headers)
    assert found.headers["ETag"] == 'W/"1"' and found.json["meta"]["versionId"] == "1"
    assert found.headers["Content-Type"].startswith("application/fhir+json")
    missing = client.get("/fhir/Condition/nope", headers=launched.headers)
    assert missing.status_code == 404 and missing.json["issue"][0]["diagnostics"]


def test_category_accepts_system_and_code_and_a_comma_means_or(client, launch):
    launched = launch()
    one = client.get(f"/fhir/Condition?patient=p1&category={PROBLEM_LIST}", headers=launched.headers).json
    assert ids(one) == ["c1"]
    both = client.get("/fhir/Condition?patient=p1&category=problem-list-item,health-concern",
                      headers=launched.headers).json
    assert sorted(ids(both)) == ["c1", "c2"]


def test_comma_categories_are_refused_when_the_server_is_configured_like_older_epic(client, launch):
    client.post("/_sandbox/config", json={"reject_comma_category": True})
    refused = client.get("/fhir/Condition?patient=p1&category=problem-list-item,health-concern",
                         headers=launch().headers)
    assert refused.status_code == 400 and refused.json["resourceType"] == "OperationOutcome"


def test_date_prefixes_select_by_the_natural_date(client, launch):
    launched = launch()
    after = client.get("/fhir/Condition?patient=p1&date=ge2021-01-01&date=lt2023", headers=launched.headers).json
    assert ids(after) == ["c2"]


def test_paging_follows_next_links_to_the_end_with_a_total(client, launch):
    launched = launch()
    first = client.get("/fhir/Observation?patient=p1&_count=3&unknown=1", headers=launched.headers).json
    assert first["total"] == 7
    assert link(first, "self") == f"{BASE}/Observation?patient=p1&_count=3"
    seen, page = ids(first), first
    while link(page, "next"):
        assert link(page, "next").startswith(BASE + "/Observation?")
        page = client.get(relative(link(page, "next")), headers=launched.headers).json
        seen += ids(page)
    assert seen == [f"o{n}" for n in range(7)]


def test_page_size_is_capped_by_max_page_size(client, launch):
    client.post("/_sandbox/config", json={"max_page_size": 2})
    page = client.get("/fhir/Observation?patient=p1&_count=50", headers=launch().headers).json
    assert len(ids(page)) == 2 and link(page, "next")


def test_include_adds_referenced_resources_in_include_mode(client, launch):
    launched = launch()
    bundle = client.get("/fhir/MedicationRequest?patient=p1&_include=MedicationRequest:medication",
                        headers=launched.headers).json
    assert ids(bundle) == ["mr1"] and ids(bundle, "include") == ["med1"]
    assert "_include=MedicationRequest%3Amedication" in link(bundle, "self")
    team = client.get("/fhir/CareTeam?patient=p1&_include=CareTeam:participant:Practitioner",
                      headers=launched.headers).json
    assert ids(team, "include") == ["dr1"]


def test_revinclude_provenance_adds_provenance_targeting_matches(client, launch):
    bundle = client.get("/fhir/Condition?patient=p1&_revinclude=Provenance:target", headers=launch().headers).json
    assert ids(bundle, "include") == ["prov1"]


def test_switched_off_includes_are_silently_ignored_and_left_out_of_self(client, launch):
    client.post("/_sandbox/config", json={"include_supported": False})
    bundle = client.get("/fhir/MedicationRequest?patient=p1&_include=MedicationRequest:medication",
                        headers=launch().headers).json
    assert ids(bundle) == ["mr1"] and ids(bundle, "include") == []
    assert link(bundle, "self") == f"{BASE}/MedicationRequest?patient=p1"


def test_a_configured_warning_appears_as_an_outcome_entry(client, launch):
    client.post("/_sandbox/config", json={"outcome_warnings": {"Condition": "may not contain the entire record"}})
    bundle = client.get("/fhir/Condition?patient=p1", headers=launch().headers).json
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1
    assert outcome[0]["resource"]["issue"][0]["severity"] == "warning"
    assert bundle["total"] == 3


# --- writes ------------------------------------------------------------------------------------

def careplan(**extra) -> dict:
    return {"resourceType": "CarePlan", "status": "draft", "intent": "plan",
            "subject": {"reference": "Patient/p1"}, **extra}


def test_create_returns_201_with_location_and_etag(client, launch):
    created = client.post("/fhir/CarePlan", json=careplan(), headers=launch(scope=WRITE_SCOPES).headers)
    assert created.status_code == 201
    assert created.headers["Location"] == f"{BASE}/CarePlan/{created.json['id']}/_history/1"
    assert created.headers["ETag"] == 'W/"1"'


def test_if_match_with_a_stale_version_is_412(client, launch):
    headers = launch(scope=WRITE_SCOPES).headers
    current = client.get("/fhir/CarePlan/cp1", headers=headers).json
    assert client.put("/fhir/CarePlan/cp1", json=current, headers={**headers, "If-Match": 'W/"1"'}).status_code == 200
    stale = client.put("/fhir/CarePlan/cp1", json=current, headers={**headers, "If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/CarePlan/cp1/_history/1", headers=headers).json["meta"]["versionId"] == "1"


def test_conditional_create_returns_the_existing_resource(client, launch):
    headers = {**launch(scope=WRITE_SCOPES).headers, "If-None-Exist": "identifier=urn:spoc|plan-1"}
    again = client.post("/fhir/CarePlan", json=careplan(), headers=headers)
    assert again.status_code == 200 and again.json["id"] == "cp1"


def test_without_conditional_create_every_post_creates_and_the_statement_says_so(client, launch):
    client.post("/_sandbox/config", json={"conditional_create": False})
    headers = {**launch(scope=WRITE_SCOPES).headers, "If-None-Exist": "identifier=urn:spoc|plan-1"}
    again = client.post("/fhir/CarePlan", json=careplan(), headers=headers)
    assert again.status_code == 201 and again.json["id"] != "cp1"
    statement = client.get("/fhir/metadata").json["rest"][0]["resource"]
    assert not any(r.get("conditionalCreate") for r in statement)


def test_an_update_whose_id_differs_from_the_url_is_400(client, launch):
    refused = client.put("/fhir/CarePlan/cp1", json=careplan(id="other"), headers=launch(scope=WRITE_SCOPES).headers)
    assert refused.status_code == 400 and "id" in refused.json["issue"][0]["diagnostics"]


def test_writes_for_another_patient_are_403(client, launch):
    refused = client.post("/fhir/CarePlan", json=careplan(subject={"reference": "Patient/p2"}),
                          headers=launch(scope=WRITE_SCOPES).headers)
    assert refused.status_code == 403


def test_types_outside_write_types_are_read_only(client, launch):
    refused = client.post("/fhir/Condition", json={"resourceType": "Condition", "subject": {"reference": "Patient/p1"}},
                          headers=launch(scope=WRITE_SCOPES).headers)
    assert refused.status_code == 405 and refused.json["resourceType"] == "OperationOutcome"


def test_writes_need_a_write_scope(client, launch):
    assert client.post("/fhir/CarePlan", json=careplan(), headers=launch().headers).status_code == 403


# --- transactions ------------------------------------------------------------------------------

def plan_bundle(kind: str = "transaction") -> dict:
    plan_urn, goal_urn = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    return {"resourceType": "Bundle", "type": kind, "entry": [
        {"fullUrl": goal_urn, "resource": {"resourceType": "Goal", "lifecycleStatus": "active",
                                           "subject": {"reference": "Patient/p1"}, "description": {"text": "sit"}},
         "request": {"method": "POST", "url": "Goal"}},
        {"fullUrl": plan_urn, "resource": careplan(goal=[{"reference": goal_urn}]),
         "request": {"method": "POST", "url": "CarePlan"}},
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}",
         "resource": {"resourceType": "Provenance", "recorded": "2024-05-01T00:00:00Z",
                      "target": [{"reference": plan_urn}], "agent": [{"who": {"reference": "Practitioner/dr1"}}]},
         "request": {"method": "POST", "url": "Provenance"}},
    ]}


def test_a_transaction_rewrites_urn_uuid_references_to_the_new_ids(client, launch):
    headers = launch(scope=WRITE_SCOPES).headers
    result = client.post("/fhir", json=plan_bundle(), headers=headers)
    assert result.status_code == 200 and result.json["type"] == "transaction-response"
    goal_location, plan_location, _ = [e["response"]["location"] for e in result.json["entry"]]
    assert all(e["response"]["status"] == "201 Created" for e in result.json["entry"])
    plan = client.get(relative(plan_location.rsplit("/_history", 1)[0]), headers=headers).json
    goal_id = goal_location.split("/")[-3]
    assert plan["goal"] == [{"reference": f"Goal/{goal_id}"}]


def test_a_failing_entry_rolls_the_whole_transaction_back(client, launch):
    headers = launch(scope=WRITE_SCOPES).headers
    bundle = plan_bundle()
    bundle["entry"][1]["resource"]["subject"] = {"reference": "Patient/p2"}
    refused = client.post("/fhir", json=bundle, headers=headers)
    assert refused.status_code == 403 and "entry 2" in refused.json["issue"][0]["diagnostics"]
    assert client.get("/fhir/Goal?patient=p1", headers=headers).json["total"] == 0


def test_a_batch_applies_entries_independently(client, launch):
    headers = launch(scope=WRITE_SCOPES).headers
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": careplan(), "request": {"method": "POST", "url": "CarePlan"}},
        {"resource": careplan(subject={"reference": "Patient/p2"}), "request": {"method": "POST", "url": "CarePlan"}},
    ]}
    statuses = [e["response"]["status"] for e in client.post("/fhir", json=bundle, headers=headers).json["entry"]]
    assert statuses == ["201 Created", "403 Forbidden"]


def test_a_transaction_larger_than_the_limit_is_refused_as_too_large(client, launch):
    client.post("/_sandbox/config", json={"max_transaction_entries": 2})
    refused = client.post("/fhir", json=plan_bundle(), headers=launch(scope=WRITE_SCOPES).headers)
    assert refused.status_code == 413 and "too large" in refused.json["issue"][0]["diagnostics"]


def test_transactions_can_be_refused_while_still_advertised(client, launch):
    client.post("/_sandbox/config", json={"transactions_refused": True})
    refused = client.post("/fhir", json=plan_bundle(), headers=launch(scope=WRITE_SCOPES).headers)
    issue = refused.json["issue"][0]
    assert refused.status_code == 400 and issue["code"] == "not-supported" and "not supported" in issue["diagnostics"]
    assert {"code": "transaction"} in client.get("/fhir/metadata").json["rest"][0]["interaction"]
    batch = client.post("/fhir", json=plan_bundle("batch"), headers=launch(scope=WRITE_SCOPES).headers)
    assert batch.status_code == 200


def test_a_fault_can_let_requests_through_before_it_fires(client, launch):
    headers = launch(scope=WRITE_SCOPES).headers
    client.post("/_sandbox/config", json={"faults": [{"path_regex": r"^/fhir/Goal", "method": "POST",
                                                      "status": 500, "after": 2}]})
    goal = {"resourceType": "Goal", "lifecycleStatus": "active", "subject": {"reference": "Patient/p1"},
            "description": {"text": "sit"}}
    statuses = [client.post("/fhir/Goal", json=goal, headers=headers).status_code for _ in range(4)]
    assert statuses == [201, 201, 500, 201]


def test_transactions_can_be_switched_off(client, launch):
    client.post("/_sandbox/config", json={"transaction_supported": False})
    refused = client.post("/fhir", json=plan_bundle(), headers=launch(scope=WRITE_SCOPES).headers)
    assert refused.status_code == 501
    metadata = client.get("/fhir/metadata").json
    assert metadata["rest"][0]["interaction"] == []


# --- faults, latency, log ----------------------------------------------------------------------

def test_a_429_fault_carries_retry_after_then_the_request_succeeds(client, launch):
    headers = launch().headers
    client.post("/_sandbox/config", json={"faults": [
        {"path_regex": r"^/fhir/Condition\?", "status": 429, "times": 1, "retry_after": "2"}]})
    throttled = client.get("/fhir/Condition?patient=p1", headers=headers)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert client.get("/fhir/Condition?patient=p1", headers=headers).status_code == 200


def test_latency_is_added_to_every_fhir_request_and_logged(client, launch):
    headers = launch().headers
    client.post("/_sandbox/config", json={"latency_ms": 40})
    client.post("/_sandbox/requests/clear")
    started = time.perf_counter()
    client.get("/fhir/Patient/p1", headers=headers)
    assert time.perf_counter() - started >= 0.04
    [logged] = client.get("/_sandbox/requests").json
    assert logged["path"] == "/fhir/Patient/p1" and logged["status"] == 200 and logged["ms"] >= 40


def test_faults_given_in_the_config_fire_from_the_start_and_run_out():
    app = create_sandbox(SandboxConfig(resources=[], faults=[Fault(r"^/fhir/metadata", 503, times=2)]))
    client = app.test_client()
    statuses = [client.get("/fhir/metadata").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_a_slow_fault_delays_but_still_answers():
    app = create_sandbox(SandboxConfig(resources=[], faults=[Fault(r"^/fhir/metadata", 200, delay_ms=30)]))
    started = time.perf_counter()
    assert app.test_client().get("/fhir/metadata").status_code == 200
    assert time.perf_counter() - started >= 0.03


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_faults_are_operation_outcomes(client, launch, status):
    headers = launch().headers
    client.post("/_sandbox/config", json={"faults": [{"path_regex": "^/fhir/Patient", "status": status}]})
    failed = client.get("/fhir/Patient/p1", headers=headers)
    assert failed.status_code == status and failed.json["resourceType"] == "OperationOutcome"


def test_a_body_fault_answers_with_that_body_as_it_is(client, launch):
    headers = launch().headers
    nested = "[" * 5000 + "]" * 5000  # what a broken or hostile EHR might send
    client.post("/_sandbox/config", json={"faults": [
        {"path_regex": "^/fhir/Condition", "status": 200, "body": nested, "times": 1}]})
    answered = client.get("/fhir/Condition?patient=p1", headers=headers)
    assert answered.status_code == 200 and answered.get_data(as_text=True) == nested
    assert answered.mimetype == "application/fhir+json"
    assert client.get("/fhir/Condition?patient=p1", headers=headers).json["resourceType"] == "Bundle"


def test_resources_can_be_added_while_running(client, launch):
    headers = launch().headers
    client.post("/_sandbox/resources", json=[{**small_record()[5], "id": "c-new"}])
    assert client.get("/fhir/Condition/c-new", headers=headers).status_code == 200


def test_an_unknown_live_setting_is_refused(client):
    refused = client.post("/_sandbox/config", json={"clients": []})
    assert refused.status_code == 400 and "clients" in refused.json["error"]
