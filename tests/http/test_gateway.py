"""The FHIR gateway at the HTTP edge (responses): paging, origin checks, retries, caching, errors."""

from __future__ import annotations

import gc
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
import responses
from responses import matchers

from smart_app.errors import FhirAccessError, ForeignUrl, ScopeDenied, TokenExpired
from smart_app.fhir.gateway import INCOMPLETE_NOTE, FhirGateway, FhirHttpError, RequestRecord

BASE = "https://ehr.example/fhir/r4"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def a_gateway(**overrides) -> tuple[FhirGateway, list[float]]:
    sleeps: list[float] = []
    options = {"sleep": sleeps.append, "clock": lambda: NOW, **overrides}
    return FhirGateway(BASE, lambda: "secret-token", **options), sleeps


def a_bundle(*resources: dict, next_url: str | None = None, self_url: str | None = None, mode: str = "match") -> dict:
    links = [{"relation": "self", "url": self_url}] if self_url else []
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = [{"resource": r, "search": {"mode": mode}} for r in resources]
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


def a_condition(cid: str) -> dict:
    return {"resourceType": "Condition", "id": cid}


def an_outcome(severity: str, text: str = "4119: may not contain the entire record") -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": "informational", "diagnostics": text}]}


@responses.activate
def test_search_follows_next_links_verbatim_over_several_pages():
    page2, page3 = f"{BASE}/Condition?_getpages=abc&page=2", f"{BASE}/Condition?_getpages=abc&page=3"
    responses.get(f"{BASE}/Condition", json=a_bundle(a_condition("c1"), next_url=page2),
                  match=[matchers.query_param_matcher({"patient": "p1"})])
    responses.get(page2, json=a_bundle(a_condition("c2"), next_url=page3))
    responses.get(page3, json=a_bundle(a_condition("c3")))
    gateway, _ = a_gateway()

    result = gateway.search("Condition", [("patient", "p1")], max_pages=10)

    assert [r["id"] for r in result.resources] == ["c1", "c2", "c3"]
    assert result.pages == 3 and result.complete
    assert responses.calls[1].request.url == page2


@responses.activate
def test_paging_stops_at_the_cap_and_the_search_is_marked_incomplete():
    responses.get(f"{BASE}/Condition", json=a_bundle(a_condition("c1"), next_url=f"{BASE}/Condition?page=2"))
    responses.get(f"{BASE}/Condition?page=2", json=a_bundle(a_condition("c2"), next_url=f"{BASE}/Condition?page=3"))
    gateway, _ = a_gateway()

    result = gateway.search("Condition", [("patient", "p1")], max_pages=2)

    assert not result.complete and result.pages == 2
    assert len(responses.calls) == 2


@responses.activate
@pytest.mark.parametrize("foreign", [
    "https://evil.example/fhir/r4/Condition?page=2",
    "https://ehr.example.evil.example/fhir/r4/Condition?page=2",
    "https://ehr.example:8443/fhir/r4/Condition?page=2",
    "http://ehr.example/fhir/r4/Condition?page=2",
    "https://ehr.example/fhir/r4-other/Condition?page=2",
    "https://ehr.example/fhir/r4/../admin/Condition",
    "https://user@ehr.example/fhir/r4/Condition?page=2",
])
def test_a_next_link_to_another_origin_is_refused_and_never_requested(foreign):
    responses.get(f"{BASE}/Condition", json=a_bundle(a_condition("c1"), next_url=foreign))
    trap = responses.get(foreign, json=a_bundle(a_condition("stolen")))
    gateway, _ = a_gateway()

    with pytest.raises(ForeignUrl):
        gateway.search("Condition", [("patient", "p1")], max_pages=5)

    assert trap.call_count == 0
    assert gateway.request_count == 1


@responses.activate
def test_an_absolute_reference_under_the_base_is_read_and_one_elsewhere_is_refused():
    responses.get(f"{BASE}/Practitioner/1", json={"resourceType": "Practitioner", "id": "1"})
    gateway, _ = a_gateway()

    assert gateway.read(f"{BASE}/Practitioner/1")["id"] == "1"
    with pytest.raises(ForeignUrl):
        gateway.read("https://other.example/fhir/r4/Practitioner/1")
    assert len(responses.calls) == 1


def test_the_default_port_is_the_same_origin():
    gateway, _ = a_gateway()

    assert gateway.owns("https://EHR.example:443/fhir/r4/Patient/1")
    assert not gateway.owns("https://ehr.example/fhir/Patient/1")


@responses.activate
def test_429_with_retry_after_in_seconds_waits_that_long_then_succeeds():
    responses.get(f"{BASE}/Patient/p1", status=429, headers={"Retry-After": "2"})
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    gateway, sleeps = a_gateway()

    assert gateway.read("Patient/p1")["id"] == "p1"

    assert len(sleeps) == 1 and 2.0 <= sleeps[0] <= 2.2
    assert gateway.request_count == 2


@responses.activate
def test_429_with_retry_after_as_an_http_date_waits_until_then():
    when = format_datetime(NOW + timedelta(seconds=3), usegmt=True)
    responses.get(f"{BASE}/Patient/p1", status=429, headers={"Retry-After": when})
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    gateway, sleeps = a_gateway()

    gateway.read("Patient/p1")

    assert len(sleeps) == 1 and 3.0 <= sleeps[0] <= 3.3


@responses.activate
def test_503_is_retried_with_capped_jittered_backoff():
    for _ in range(3):
        responses.get(f"{BASE}/Patient/p1", status=503)
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    gateway, sleeps = a_gateway(max_backoff_s=1.0)

    gateway.read("Patient/p1")

    assert len(sleeps) == 3
    assert all(0 < s <= 1.0 for s in sleeps)
    assert sleeps[0] <= 0.5  # the first wait is the shortest step of the ladder


@responses.activate
def test_the_gateway_gives_up_after_max_attempts():
    responses.get(f"{BASE}/Patient/p1", status=429, headers={"Retry-After": "1"})
    gateway, sleeps = a_gateway(max_attempts=3)

    with pytest.raises(FhirAccessError, match="busy"):
        gateway.read("Patient/p1")

    assert len(responses.calls) == 3 and len(sleeps) == 2


@responses.activate
def test_a_retry_after_longer_than_the_cap_is_not_waited_for():
    responses.get(f"{BASE}/Patient/p1", status=503, headers={"Retry-After": "120"})
    gateway, sleeps = a_gateway(max_backoff_s=8.0)

    with pytest.raises(FhirAccessError):
        gateway.read("Patient/p1")

    assert sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_401_means_the_token_expired():
    responses.get(f"{BASE}/Patient/p1", status=401)
    gateway, _ = a_gateway()

    with pytest.raises(TokenExpired):
        gateway.read("Patient/p1")


@responses.activate
def test_403_is_scope_denied_with_the_ehrs_diagnostics_in_the_message():
    responses.get(f"{BASE}/Condition", status=403, json=an_outcome("error", "scope condition.read missing"))
    gateway, _ = a_gateway()

    with pytest.raises(ScopeDenied, match="scope condition.read missing"):
        gateway.search("Condition", [("patient", "p1")], max_pages=1)


@responses.activate
def test_404_says_what_was_not_found():
    responses.get(f"{BASE}/Practitioner/9", status=404)
    gateway, _ = a_gateway()

    with pytest.raises(FhirHttpError, match="no Practitioner") as raised:
        gateway.read("Practitioner/9")
    assert raised.value.status == 404


@responses.activate
def test_a_500_is_a_fhir_access_error_and_is_not_retried():
    responses.get(f"{BASE}/Condition", status=500, body="<html>stack trace</html>")
    gateway, sleeps = a_gateway()

    with pytest.raises(FhirAccessError) as raised:
        gateway.search("Condition", [("patient", "p1")], max_pages=1)

    assert "stack trace" not in str(raised.value)
    assert sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_malformed_json_is_a_fhir_access_error_not_a_crash():
    responses.get(f"{BASE}/Condition", body="{not json", content_type="application/fhir+json")
    responses.get(f"{BASE}/Patient/p1", json=["a", "list"])
    gateway, _ = a_gateway()

    with pytest.raises(FhirAccessError):
        gateway.search("Condition", [("patient", "p1")], max_pages=1)
    with pytest.raises(FhirAccessError):
        gateway.read("Patient/p1")


@responses.activate
def test_a_search_answer_that_is_not_a_bundle_is_a_fhir_access_error():
    responses.get(f"{BASE}/Condition", json={"resourceType": "Condition", "id": "c1"})
    gateway, _ = a_gateway()

    with pytest.raises(FhirAccessError):
        gateway.search("Condition", [("patient", "p1")], max_pages=1)


@responses.activate
def test_timeouts_and_refused_connections_are_fhir_access_errors():
    responses.get(f"{BASE}/Patient/p1", body=requests.Timeout("read timed out"))
    responses.get(f"{BASE}/Patient/p2", body=requests.ConnectionError("refused"))
    gateway, _ = a_gateway()

    with pytest.raises(FhirAccessError, match="too long"):
        gateway.read("Patient/p1")
    with pytest.raises(FhirAccessError, match="could not be reached"):
        gateway.read("Patient/p2")


@responses.activate
def test_a_redirect_is_not_followed():
    responses.get(f"{BASE}/Patient/p1", status=302, headers={"Location": "https://evil.example/steal"})
    gateway, _ = a_gateway()

    with pytest.raises(FhirAccessError):
        gateway.read("Patient/p1")
    assert len(responses.calls) == 1


@responses.activate
def test_operation_outcome_warnings_in_a_searchset_are_notes_not_data():
    bundle = a_bundle(a_condition("c1"))
    bundle["entry"].append({"resource": an_outcome("warning"), "search": {"mode": "outcome"}})
    bundle["entry"].append({"resource": an_outcome("information")})
    responses.get(f"{BASE}/Condition", json=bundle)
    gateway, _ = a_gateway()

    result = gateway.search("Condition", [("patient", "p1")], max_pages=1)

    assert [r["resourceType"] for r in result.resources + result.included] == ["Condition"]
    assert result.notes == (INCOMPLETE_NOTE,)


@responses.activate
def test_a_fatal_operation_outcome_in_a_searchset_fails_the_search():
    bundle = a_bundle(a_condition("c1"))
    bundle["entry"].append({"resource": an_outcome("fatal", "search failed"), "search": {"mode": "outcome"}})
    responses.get(f"{BASE}/Condition", json=bundle)
    gateway, _ = a_gateway()

    with pytest.raises(FhirAccessError, match="search failed"):
        gateway.search("Condition", [("patient", "p1")], max_pages=1)


@responses.activate
def test_included_resources_are_kept_apart_from_matches():
    bundle = a_bundle({"resourceType": "MedicationRequest", "id": "mr1"})
    bundle["entry"].append({"resource": {"resourceType": "Medication", "id": "m1"}, "search": {"mode": "include"}})
    responses.get(f"{BASE}/MedicationRequest", json=bundle)
    gateway, _ = a_gateway()

    result = gateway.search("MedicationRequest", [("patient", "p1")], max_pages=1)

    assert [r["id"] for r in result.resources] == ["mr1"]
    assert [r["id"] for r in result.included] == ["m1"]


@responses.activate
def test_identical_requests_are_sent_once():
    responses.get(f"{BASE}/Condition", json=a_bundle(a_condition("c1")))
    practitioner = responses.get(f"{BASE}/Practitioner/1", json={"resourceType": "Practitioner", "id": "1"})
    gateway, _ = a_gateway()

    for _ in range(2):
        gateway.search("Condition", [("patient", "p1")], max_pages=1)
        gateway.read("Practitioner/1")
    gateway.read(f"{BASE}/Practitioner/1")

    assert len(responses.calls) == 2 and practitioner.call_count == 1
    assert gateway.request_count == 2


@responses.activate
def test_a_remembered_answer_holds_no_parsed_object_and_each_reader_gets_its_own_copy():
    """A gateway lives as long as its launch (up to 256 of them per process): parsed answers kept there
    were objects every full garbage collection scanned, and a reader changing its copy changed the
    next reader's."""
    responses.get(f"{BASE}/Practitioner/1", json={"resourceType": "Practitioner", "id": "1",
                                                   "name": [{"text": "Dr. Remembered"}]})
    gateway, _ = a_gateway()

    first = gateway.read("Practitioner/1")
    first["name"][0]["text"] = "changed by its reader"
    del first
    gc.collect()

    assert not [o for o in gc.get_objects() if isinstance(o, dict) and o.get("text") == "Dr. Remembered"]
    assert gateway.read("Practitioner/1")["name"][0]["text"] == "Dr. Remembered"
    assert len(responses.calls) == 1


@responses.activate
def test_forgetting_one_read_sends_only_that_one_again():
    statement = responses.get(f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"})
    practitioner = responses.get(f"{BASE}/Practitioner/1", json={"resourceType": "Practitioner", "id": "1"})
    gateway, _ = a_gateway()

    for _ in range(2):
        gateway.read("metadata")
        gateway.read("Practitioner/1")
        gateway.forget_read("metadata")

    assert (statement.call_count, practitioner.call_count) == (2, 1)


@responses.activate
def test_the_gateway_counts_the_bytes_it_remembers():
    statement = b'{"resourceType": "CapabilityStatement"}'
    practitioner = b'{"resourceType": "Practitioner", "id": "1"}'
    responses.get(f"{BASE}/metadata", body=statement)
    responses.get(f"{BASE}/Practitioner/1", body=practitioner)
    responses.get(f"{BASE}/Practitioner/2", status=500)
    gateway, _ = a_gateway()

    gateway.read("metadata")
    gateway.read("Practitioner/1")
    gateway.read("Practitioner/1")
    with pytest.raises(FhirAccessError):
        gateway.read("Practitioner/2")  # a failure is not remembered
    assert gateway.remembered_bytes == len(statement) + len(practitioner)
    gateway.forget_read("metadata")
    assert gateway.remembered_bytes == len(practitioner)
    gateway.forget_reads()
    assert gateway.remembered_bytes == 0


@responses.activate
def test_two_threads_reading_the_same_reference_at_once_send_one_request():
    def slow_practitioner(request):
        time.sleep(0.05)
        return 200, {}, json.dumps({"resourceType": "Practitioner", "id": "1"})

    responses.add_callback(responses.GET, f"{BASE}/Practitioner/1", callback=slow_practitioner)
    gateway, _ = a_gateway()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: gateway.read("Practitioner/1"), range(4)))

    assert [r["id"] for r in results] == ["1"] * 4
    assert len(responses.calls) == 1


@responses.activate
def test_a_failed_request_is_not_remembered_so_a_retry_sends_it_again():
    responses.get(f"{BASE}/Condition", status=500)
    responses.get(f"{BASE}/Condition", json=a_bundle(a_condition("c1")))
    gateway, _ = a_gateway()

    with pytest.raises(FhirAccessError):
        gateway.search("Condition", [("patient", "p1")], max_pages=1)
    result = gateway.search("Condition", [("patient", "p1")], max_pages=1)

    assert [r["id"] for r in result.resources] == ["c1"]


@responses.activate
def test_in_flight_requests_never_exceed_the_concurrency_bound():
    in_flight, peak, lock = 0, 0, threading.Lock()

    def counting(request):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return 200, {}, json.dumps({"resourceType": "Practitioner", "id": request.url.rsplit("/", 1)[-1]})

    responses.add_callback(responses.GET, re.compile(f"{BASE}/Practitioner/.*"), callback=counting)
    gateway, _ = a_gateway(concurrency=2)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: gateway.read(f"Practitioner/{i}"), range(8)))

    assert peak == 2


@responses.activate
def test_each_request_asks_for_a_fresh_token_and_sends_it_as_bearer_fhir_json():
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    responses.get(f"{BASE}/Patient/p2", json={"resourceType": "Patient", "id": "p2"})
    tokens = iter(["first", "second"])
    gateway = FhirGateway(BASE, lambda: next(tokens), sleep=lambda s: None)

    gateway.read("Patient/p1")
    gateway.read("Patient/p2")

    assert [c.request.headers["Authorization"] for c in responses.calls] == ["Bearer first", "Bearer second"]
    assert responses.calls[0].request.headers["Accept"] == "application/fhir+json"


@responses.activate
def test_the_request_record_carries_the_path_and_parameter_names_but_no_values_or_token():
    responses.get(f"{BASE}/Condition", json=a_bundle(a_condition("c1")))
    records: list[RequestRecord] = []
    gateway, _ = a_gateway(on_request=records.append)

    gateway.search("Condition", [("patient", "patient-secret-id"), ("category", "problem-list-item")], max_pages=1)

    (record,) = records
    assert (record.method, record.path, record.param_names, record.status) == (
        "GET", "/fhir/r4/Condition", ("patient", "category"), 200)
    assert "patient-secret-id" not in repr(record) and "secret-token" not in repr(record)
    assert record.elapsed_s >= 0


def test_a_reference_that_is_not_a_fhir_reference_is_not_sent():
    gateway, _ = a_gateway()

    with pytest.raises(FhirAccessError):
        gateway.read("Patient/../../admin")
    assert gateway.request_count == 0
