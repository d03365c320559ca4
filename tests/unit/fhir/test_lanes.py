"""The per-process lane to an EHR: a cap on requests in flight, shared fairly between launches."""

from __future__ import annotations

import threading
import time

import pytest
import responses

from smart_app.fhir.gateway import FhirGateway
from smart_app.fhir.lanes import FairSlots, lane_for


def _wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.001)


def _waiter(slots: FairSlots, owner: str, order: list[str]) -> threading.Thread:
    def run() -> None:
        slots.acquire(owner)
        order.append(owner)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_never_more_than_capacity_in_flight():
    slots, peak, lock = FairSlots(3), [0], threading.Lock()
    now = [0]

    def work(owner: int) -> None:
        for _ in range(20):
            with slots.held(owner):
                with lock:
                    now[0] += 1
                    peak[0] = max(peak[0], now[0])
                time.sleep(0.0005)
                with lock:
                    now[0] -= 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3
    assert slots.in_flight() == 0 and slots.waiting() == 0


def test_a_freed_slot_goes_to_the_launch_holding_fewest_not_to_the_first_in_the_queue():
    slots, order = FairSlots(2), []
    slots.acquire("busy")
    slots.acquire("busy")
    busy_waiters = [_waiter(slots, "busy", order) for _ in range(3)]
    _wait_until(lambda: slots.waiting() == 3)
    quiet = _waiter(slots, "quiet", order)  # asked last, holds nothing
    _wait_until(lambda: slots.waiting() == 4)

    slots.release("busy")
    quiet.join(timeout=5)
    assert order == ["quiet"]

    slots.release("busy")  # busy holds 0 now, quiet 1: busy's next waiter
    _wait_until(lambda: len(order) == 2)
    assert order == ["quiet", "busy"]
    for _ in range(2):
        slots.release("busy" if order.count("busy") < 3 else "quiet")
    slots.release("quiet")
    for t in busy_waiters:
        t.join(timeout=5)
    assert order.count("busy") == 3


def test_equal_launches_take_turns():
    slots, order = FairSlots(1), []
    slots.acquire("a")
    for queued, owner in enumerate(("a", "a", "b", "b"), start=1):
        _waiter(slots, owner, order)
        _wait_until(lambda n=queued: slots.waiting() == n)
    for granted in range(1, 5):
        slots.release(order[-1] if order else "a")
        _wait_until(lambda n=granted: len(order) == n)
    assert order == ["a", "b", "a", "b"]


def test_one_lane_per_ehr_shared_by_every_launch_s_gateway():
    first = FhirGateway("https://ehr.example/fhir", lambda: "t")
    second = FhirGateway("https://ehr.example/fhir/", lambda: "t")
    other = FhirGateway("https://other.example/fhir", lambda: "t")
    assert first._lane is second._lane is lane_for("https://ehr.example/fhir")
    assert other._lane is not first._lane


def test_proxy_settings_are_read_once_for_the_lane(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    proxied = lane_for("https://proxied-ehr.example/fhir").session
    direct = lane_for("https://direct.example/fhir").session
    assert proxied.proxies.get("https") == "http://proxy.example:3128"
    assert "https" not in direct.proxies
    assert proxied.trust_env is False  # no environment scan per request


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        FairSlots(0)


def test_a_forked_worker_makes_its_own_lanes(monkeypatch):
    import smart_app.fhir.lanes as lanes

    before = lane_for("https://forked.example/fhir")
    monkeypatch.setattr(lanes, "_lanes_pid", -1)  # as if this process were the parent's fork
    assert lane_for("https://forked.example/fhir") is not before


@responses.activate
def test_a_cookie_the_ehr_sets_for_one_launch_never_goes_out_with_another_launchs_requests():
    base = "https://cookie-ehr.example/fhir"
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    responses.get(f"{base}/Condition", json=bundle, headers={"Set-Cookie": "EHRSESSION=user-a; Path=/"})
    first = FhirGateway(base, lambda: "token-a")
    second = FhirGateway(base, lambda: "token-b")
    first.search("Condition", [("patient", "a")], max_pages=1)
    second.search("Condition", [("patient", "b")], max_pages=1)
    assert first._lane is second._lane
    assert [call.request.headers.get("Cookie") for call in responses.calls] == [None, None]
    assert [call.request.headers["Authorization"] for call in responses.calls] == ["Bearer token-a", "Bearer token-b"]


@responses.activate
def test_requests_sent_past_the_session_layer_still_ask_for_compressed_answers_and_name_the_client():
    base = "https://gzip-ehr.example/fhir"
    responses.get(f"{base}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    FhirGateway(base, lambda: "t").read("Patient/p1")
    sent = responses.calls[0].request.headers
    assert "gzip" in sent["Accept-Encoding"]
    assert sent["User-Agent"].startswith("python-requests/")
    assert sent["Accept"] == "application/fhir+json"
