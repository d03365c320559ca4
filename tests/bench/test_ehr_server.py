"""The benchmark EHR answers a launch's requests exactly as the sandbox does, from memory.

Layer: benchmarks. Most tests drive the request handler directly (no socket); the last one starts
`python -m bench.ehr_server` and sends it many requests at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
import requests

from bench.ehr_server import (
    Answer,
    BenchEhr,
    Recorder,
    Request,
    ServerSpec,
    planned_targets,
    prepare,
    request_key,
)
from bench.processes import bench_ehr_running
from sandbox import SandboxClient, SandboxConfig
from sandbox.auth import s256
from sandbox.data.characters import CHILD_ID
from smart_app.launch.scopes import requested_scopes

TODAY = date(2026, 3, 1)
BASE = "http://127.0.0.1:8999"  # the URL the answers are recorded under; nothing listens there in these tests
CLIENT = "spoc-bench"
REDIRECT = "http://app.test/callback"
SCOPE = requested_scopes(kind="ehr", write_mode="careplan", v2=True)
VERIFIER = "v" * 64


@pytest.fixture(scope="module")
def ehr() -> BenchEhr:
    return prepare(ServerSpec(latency_ms=0, client_id=CLIENT, redirect_uris=(REDIRECT,), today=TODAY), BASE,
                   time.time())


@pytest.fixture(scope="module")
def sandbox() -> tuple[Recorder, str]:
    """A separate sandbox with the same data, and a token for Sofia's launch: what the answers must equal."""
    recorder = Recorder(BASE, SandboxConfig(clients=[SandboxClient(CLIENT, (REDIRECT,))], today=TODAY))
    return recorder, recorder.token_for(CLIENT, CHILD_ID, SCOPE)


def ask(ehr: BenchEhr, method: str, target: str, headers: dict | None = None, form: dict | None = None,
        payload: object = None) -> Answer:
    path, _, query = target.removeprefix(BASE).partition("?")
    body = urlencode(form).encode() if form else json.dumps(payload).encode() if payload is not None else b""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if form:
        lowered["content-type"] = "application/x-www-form-urlencoded"
    return asyncio.run(ehr.answer(Request(method, path, query, lowered, body)))


def authorize(ehr: BenchEhr, *, verifier: str = VERIFIER, **changes: str) -> Answer:
    launch = json.loads(ask(ehr, "POST", "/_sandbox/launches", payload={"patient": CHILD_ID}).body)["launch"]
    params = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "scope": SCOPE,
              "state": "s1", "aud": f"{BASE}/fhir", "launch": launch, "code_challenge": s256(verifier),
              "code_challenge_method": "S256", **changes}
    return ask(ehr, "GET", "/auth/authorize?" + urlencode(params))


def location_of(answer: Answer) -> dict[str, str]:
    head = answer.head.decode("latin-1")
    location = next(line.split(": ", 1)[1] for line in head.split("\r\n") if line.startswith("Location: "))
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(ehr: BenchEhr, code: str, verifier: str = VERIFIER) -> Answer:
    return ask(ehr, "POST", "/auth/token", form={"grant_type": "authorization_code", "code": code,
                                                  "redirect_uri": REDIRECT, "client_id": CLIENT,
                                                  "code_verifier": verifier})


def access_token(ehr: BenchEhr) -> str:
    return json.loads(exchange(ehr, location_of(authorize(ehr))["code"]).body)["access_token"]


def without_bundle_identity(body: bytes) -> dict:
    """A searchset without what the sandbox makes anew for every answer: the Bundle's id and meta."""
    value = json.loads(body)
    value.pop("id", None)
    value.pop("meta", None)
    return value


def test_every_request_of_a_launch_is_answered_as_the_sandbox_answers_it(ehr, sandbox):
    recorder, sandbox_token = sandbox
    bearer = {"Authorization": f"Bearer {access_token(ehr)}"}
    targets = [*planned_targets(CHILD_ID, TODAY), f"/fhir/Patient/{CHILD_ID}"]

    for target in targets:
        answer = ask(ehr, "GET", target, bearer)
        status, _, body = recorder.ask(target, sandbox_token)
        assert (answer.status, without_bundle_identity(answer.body)) == (status, without_bundle_identity(body)), target
    for target in ("/fhir/metadata", "/fhir/.well-known/smart-configuration"):
        expected = without_bundle_identity(recorder.ask(target)[2])
        expected.pop("date", None)
        answered = without_bundle_identity(ask(ehr, "GET", target).body)
        answered.pop("date", None)
        assert answered == expected, target
    assert ehr.book.misses == 0
    assert len(ehr.log) == len(targets) + 2


def test_a_search_is_found_whatever_the_order_or_quoting_of_its_parameters(ehr):
    bearer = {"Authorization": f"Bearer {access_token(ehr)}"}
    target = next(t for t in planned_targets(CHILD_ID, TODAY) if "/Condition?" in t)
    path, _, query = target.partition("?")
    reordered = path + "?" + urlencode(list(reversed(parse_qsl(query))))

    assert request_key(path, query) == request_key(*reordered.split("?", 1))
    assert ask(ehr, "GET", reordered, bearer).body == ask(ehr, "GET", target, bearer).body
    assert ehr.book.misses == 0


def test_pages_are_the_sandbox_pages_with_stable_cursors_and_chain_to_the_whole_list(ehr, sandbox):
    recorder, sandbox_token = sandbox
    bearer = {"Authorization": f"Bearer {access_token(ehr)}"}
    paged = f"/fhir/Encounter?patient={CHILD_ID}&_count=5"
    ehr.book.record_search(CHILD_ID, paged)
    whole = json.loads(recorder.ask(f"/fhir/Encounter?patient={CHILD_ID}&_count=100", sandbox_token)[2])

    seen, cursors, target = [], [], paged
    while target:
        page = json.loads(ask(ehr, "GET", target, bearer).body)
        seen += [entry["fullUrl"] for entry in page["entry"]]
        following = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
        cursors.append(parse_qs(urlsplit(following).query)["_cursor"][0] if following else None)
        target = following

    assert len(whole["entry"]) > 10, "Sofia has enough encounters for three pages"
    assert seen == [entry["fullUrl"] for entry in whole["entry"]]
    assert cursors == [f"p{n}" for n in range(2, len(cursors) + 1)] + [None]


def test_the_code_needs_the_pkce_verifier_and_is_good_once(ehr):
    wrong = exchange(ehr, location_of(authorize(ehr))["code"], verifier="w" * 64)
    code = location_of(authorize(ehr))["code"]
    granted = exchange(ehr, code)
    again = exchange(ehr, code)

    assert (wrong.status, json.loads(wrong.body)["error"]) == (400, "invalid_grant")
    body = json.loads(granted.body)
    assert granted.status == 200
    assert body["patient"] == CHILD_ID and body["token_type"] == "Bearer" and body["id_token"].count(".") == 2
    assert (again.status, json.loads(again.body)["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("change, error", [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"aud": "http://elsewhere.test/fhir"}, "invalid_request"),
    ({"launch": "unknown"}, "invalid_request"),
    ({"scope": "openid fhirUser patient/Patient.rs"}, "invalid_scope"),
])
def test_authorize_refuses_what_the_sandbox_refuses(ehr, change, error):
    refused = location_of(authorize(ehr, **change))

    assert refused["error"] == error and refused["state"] == "s1" and "code" not in refused


def test_authorize_shows_an_unregistered_redirect_uri_no_redirect(ehr):
    assert authorize(ehr, redirect_uri="http://evil.test/callback").status == 400


def test_fhir_reads_need_a_token_the_ehr_issued(ehr):
    target = planned_targets(CHILD_ID, TODAY)[0]

    assert ask(ehr, "GET", target).status == 401
    assert ask(ehr, "GET", target, {"Authorization": "Bearer made-up"}).status == 401


def test_a_request_not_recorded_is_asked_of_the_sandbox_once_and_counted(ehr, sandbox):
    recorder, sandbox_token = sandbox
    bearer = {"Authorization": f"Bearer {access_token(ehr)}"}
    target = f"/fhir/Condition?patient={CHILD_ID}"  # every category: not a search of the plan
    misses = ehr.book.misses

    first = ask(ehr, "GET", target, bearer)
    second = ask(ehr, "GET", target, bearer)

    assert first.status == 200
    assert without_bundle_identity(first.body) == without_bundle_identity(recorder.ask(target, sandbox_token)[2])
    assert second.body == first.body
    assert ehr.book.misses == misses + 1


@pytest.mark.slow
def test_the_server_answers_many_connections_at_once_while_each_waits_its_latency():
    latency_s, at_once = 0.2, 100
    spec = ServerSpec(latency_ms=int(latency_s * 1000), client_id=CLIENT, redirect_uris=(REDIRECT,), today=TODAY)
    with bench_ehr_running(spec) as ehr:
        url = f"{ehr.sandbox.iss}/metadata"
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=at_once) as pool:
            statuses = list(pool.map(lambda _: requests.get(url, timeout=30).status_code, range(at_once)))
        wall_s = time.perf_counter() - started
        log = ehr.sandbox.request_log()

    assert statuses == [200] * at_once
    assert len(log) == at_once and all(entry["ms"] >= latency_s * 1000 for entry in log)
    assert wall_s < at_once * latency_s / 2, "the requests waited their latency together, not one after another"


def test_the_line_about_a_request_not_recorded_names_no_patient(ehr, capsys):
    bearer = {"Authorization": f"Bearer {access_token(ehr)}"}

    ask(ehr, "GET", "/fhir/Patient/daniel-oconnor", bearer)

    said = capsys.readouterr().err
    assert "Patient request was not recorded" in said
    assert "daniel-oconnor" not in said
