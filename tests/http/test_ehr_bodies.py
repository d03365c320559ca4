"""Every body the app reads from an EHR goes through one parser with depth and size limits: searches,
reads, write answers, error bodies, discovery, token answers and the id_token keys (issue 12, item 2).
A body past a limit is an error the app already handles, never a RecursionError or a MemoryError."""

from __future__ import annotations

import pytest
import responses

from smart_app.errors import FhirAccessError, LaunchError, SessionExpired
from smart_app.fhir.bodies import MAX_BODY_BYTES, MAX_JSON_DEPTH, parse_ehr_json
from smart_app.fhir.gateway import FhirGateway, FhirHttpError, FhirWriteRefused
from smart_app.launch import oauth
from smart_app.launch.discovery import DiscoveryClient
from smart_app.tenants import Tenant

BASE = "https://ehr.example/fhir"
NESTED = "[" * 200_000 + "]" * 200_000
NOW = 1_900_000_000.0
TENANT = Tenant(name="EHR", iss=BASE, client_id="spoc", redirect_uri="https://app.example/callback")


def a_gateway() -> FhirGateway:
    return FhirGateway(BASE, lambda: "secret-token", sleep=lambda s: None, max_attempts=1)


def test_json_within_the_limits_is_parsed_as_json():
    body = b'{"resourceType": "Bundle", "entry": [{"resource": {"note": "[[[{{{ \\" ]"}}]}'
    assert parse_ehr_json(body)["entry"][0]["resource"]["note"] == '[[[{{{ " ]'
    assert parse_ehr_json(("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode()) is not None
    assert parse_ehr_json('{"name": ["Sofía"]}'.encode("utf-16")) == {"name": ["Sofía"]}  # as requests would
    assert parse_ehr_json('\ufeff{"a": "\\\\"}'.encode()) == {"a": "\\"}


@pytest.mark.parametrize("body", [
    NESTED.encode(),
    NESTED.encode("utf-16"),
    ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode(),
    ('{"a":' * 5000 + "1" + "}" * 5000).encode(),
    b" " * (MAX_BODY_BYTES + 1),
    b"not json",
    b"\xff\xfe\x00",
])
def test_json_past_the_limits_or_not_json_is_a_plain_fhir_access_error(body):
    with pytest.raises(FhirAccessError, match="could not read"):
        parse_ehr_json(body)


@responses.activate
def test_a_search_read_or_write_answered_with_deep_json_is_an_error_the_sections_handle():
    responses.get(f"{BASE}/Condition", body=NESTED, content_type="application/fhir+json")
    responses.get(f"{BASE}/Patient/p1", body=NESTED, content_type="application/fhir+json")
    responses.post(f"{BASE}/Goal", body=NESTED, status=201, content_type="application/fhir+json")
    responses.post(BASE, body=NESTED, content_type="application/fhir+json")
    gateway = a_gateway()
    with pytest.raises(FhirAccessError, match="could not read"):
        gateway.search("Condition", [("patient", "p1")], max_pages=1)
    with pytest.raises(FhirAccessError, match="could not read"):
        gateway.read("Patient/p1")
    with pytest.raises(FhirAccessError, match="could not read"):
        gateway.create({"resourceType": "Goal"})
    with pytest.raises(FhirAccessError, match="could not read"):
        gateway.transaction({"resourceType": "Bundle", "type": "transaction", "entry": []})


@responses.activate
def test_an_error_answered_with_deep_json_keeps_its_status_and_says_nothing_of_the_body():
    responses.get(f"{BASE}/Condition", body=NESTED, status=404, content_type="application/fhir+json")
    responses.put(f"{BASE}/Goal/g1", body=NESTED, status=409, content_type="application/fhir+json")
    gateway = a_gateway()
    with pytest.raises(FhirHttpError) as read_error:
        gateway.search("Condition", [("patient", "p1")], max_pages=1)
    assert read_error.value.status == 404
    with pytest.raises(FhirWriteRefused) as write_error:
        gateway.update({"resourceType": "Goal", "id": "g1"})
    assert write_error.value.status == 409 and write_error.value.said == ""


@responses.activate
def test_a_body_announced_over_the_size_limit_is_refused_before_it_is_read():
    responses.get(f"{BASE}/Condition", body=b"{}", headers={"Content-Length": str(MAX_BODY_BYTES + 1)},
                  content_type="application/fhir+json", auto_calculate_content_length=False)
    with pytest.raises(FhirAccessError, match="could not read"):
        a_gateway().search("Condition", [("patient", "p1")], max_pages=1)


@responses.activate
def test_a_discovery_document_nested_deep_refuses_the_launch():
    responses.get(f"{BASE}/.well-known/smart-configuration", body=NESTED, content_type="application/json")
    with pytest.raises(LaunchError):
        DiscoveryClient(timeout_s=5).for_tenant(TENANT)


@responses.activate
def test_a_token_answer_nested_deep_refuses_the_sign_in_and_ends_a_refresh():
    responses.post(f"{BASE}/token", body=NESTED, content_type="application/json")
    with pytest.raises(LaunchError, match="could not read"):
        oauth.exchange_code(TENANT, f"{BASE}/token", code="c", code_verifier="v" * 64, keys=oauth.ClientKeys([]),
                            timeout_s=5, now=NOW)
    with pytest.raises(SessionExpired):
        oauth.refresh_tokens(TENANT, f"{BASE}/token", "rt", oauth.ClientKeys([]), 5, now=NOW)


@responses.activate
def test_id_token_keys_nested_deep_fail_the_identity_check():
    responses.get(f"{BASE}/jwks", body=NESTED, content_type="application/json")
    with pytest.raises(LaunchError, match="identity token"):
        oauth.validate_id_token("a.b.c", issuer=BASE, client_id="spoc", iss=BASE, now=NOW,
                                key_set=lambda fresh: DiscoveryClient(timeout_s=5).key_set(f"{BASE}/jwks"))
