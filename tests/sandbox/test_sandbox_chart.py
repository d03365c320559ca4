"""The sandbox's chart pages launch our app in a cross-site iframe, and the sandbox serves on any port."""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import requests

from sandbox import SandboxConfig, SandboxUser, create_sandbox
from sandbox.server import serve_in_thread
from tests.sandbox.conftest import (
    BASE,
    READ_SCOPES,
    REDIRECT,
    WRITE_SCOPES,
    authorize_code,
    exchange,
    pkce_pair,
    query_of,
    small_record,
)
from tests.support import LONG_REQUEST_LINE, raw_request

APP_LAUNCH = "http://127.0.0.1:8100/launch"


def iframe_src(page: str) -> str:
    [tag] = re.findall(r'<iframe[^>]*id="smart-app"[^>]*>', page)
    return html.unescape(re.search(r'src="([^"]+)"', tag).group(1))


def test_the_patient_list_shows_each_patient_with_a_test_id_and_mrn(client):
    page = client.get("/ehr/").text
    assert "Sandbox EHR" in page
    assert 'data-testid="patient-p1"' in page and 'data-testid="patient-p2"' in page
    assert "MRN-001" in page and "Ava Lee" in page
    assert 'href="/ehr/patient/p1?user=dr1"' in page


def test_users_come_from_practitioners_with_roles_unless_configured(client):
    assert "Dr. Maya Okafor · Pediatric neurology" in client.get("/ehr/").text
    configured = create_sandbox(SandboxConfig(resources=small_record(), users=[
        SandboxUser("cc1", "Casey Coordinator", "Care coordinator")]))
    assert "Casey Coordinator" in configured.test_client().get("/ehr/").text


def test_the_chart_iframes_the_configured_app_with_iss_and_a_fresh_launch(client):
    first = client.get("/ehr/patient/p1?user=dr1")
    assert first.headers["Cache-Control"] == "no-store"
    src = iframe_src(first.text)
    assert src.startswith(APP_LAUNCH + "?")
    params = parse_qs(urlsplit(src).query)
    assert params["iss"] == [BASE] and params["launch"][0]
    assert 'title="Shared Plan of Care"' in first.text and "MRN-001" in first.text
    second = parse_qs(urlsplit(iframe_src(client.get("/ehr/patient/p1").text)).query)
    assert second["launch"] != params["launch"]


def test_the_charts_launch_id_carries_patient_user_and_encounter(client):
    src = iframe_src(client.get("/ehr/patient/p2?user=dr1&encounter=e7").text)
    launch = parse_qs(urlsplit(src).query)["launch"][0]
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": "spoc-demo", "redirect_uri": REDIRECT, "scope": READ_SCOPES,
              "state": "s", "aud": BASE, "code_challenge": challenge, "code_challenge_method": "S256",
              "launch": launch}
    code = query_of(client.get("/auth/authorize", query_string=params).headers["Location"])["code"]
    token = client.post("/auth/token", data={"grant_type": "authorization_code", "code": code, "client_id": "spoc-demo",
                                              "code_verifier": verifier, "redirect_uri": REDIRECT}).json
    assert (token["patient"], token["encounter"]) == ("p2", "e7")


def test_an_unknown_patient_chart_is_404(client):
    assert client.get("/ehr/patient/nobody").status_code == 404


def test_a_served_sandbox_builds_every_url_from_its_own_host_and_port():
    running = serve_in_thread(create_sandbox(SandboxConfig(resources=small_record())))
    try:
        with requests.get(f"{running.url}/fhir/.well-known/smart-configuration", timeout=5) as reply:
            found = reply.json()
        assert running.url == f"http://localhost:{running.port}"
        assert found["issuer"] == f"{running.url}/fhir"
        assert found["token_endpoint"] == f"{running.url}/auth/token"
        with requests.get(f"{running.url}/ehr/patient/p1", timeout=5) as chart:
            launched = parse_qs(urlsplit(iframe_src(chart.text)).query)
        assert launched["iss"] == [f"{running.url}/fhir"]
    finally:
        running.shutdown()


def test_parallel_reads_and_writes_over_http_are_all_answered_and_all_kept():
    app = create_sandbox(SandboxConfig(resources=small_record()))
    code, verifier = authorize_code(app.test_client(), "p1", WRITE_SCOPES)
    token = exchange(app.test_client(), code, verifier).json["access_token"]
    running = serve_in_thread(app)
    headers = {"Authorization": f"Bearer {token}"}
    goal = {"resourceType": "Goal", "lifecycleStatus": "active", "subject": {"reference": "Patient/p1"},
            "description": {"text": "walk"}}

    def work(n: int) -> tuple[int, int]:
        with requests.Session() as http:
            searched = http.get(f"{running.url}/fhir/Observation?patient=p1", headers=headers, timeout=10)
            created = http.post(f"{running.url}/fhir/Goal", json=goal, headers=headers, timeout=10)
            return searched.status_code, created.status_code

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(work, range(16)))
        with requests.get(f"{running.url}/fhir/Goal?patient=p1", headers=headers, timeout=10) as goals:
            total = goals.json()["total"]
    finally:
        running.shutdown()
    assert set(outcomes) == {(200, 201)} and total == 16


def test_a_request_line_over_64_kb_gets_414_and_the_sandbox_goes_on_serving():
    running = serve_in_thread(create_sandbox(SandboxConfig(resources=small_record())), host="127.0.0.1")
    try:
        reply = raw_request(running.port, LONG_REQUEST_LINE)
        assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == b"414", reply[:200]
        assert requests.get(f"{running.url}/fhir/metadata", timeout=5).status_code == 200
    finally:
        running.shutdown()
