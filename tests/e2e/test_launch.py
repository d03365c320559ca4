"""SMART EHR launch end to end: the app (Flask test client) against the sandbox EHR on a real port.

Each test names the requirement it shows (SMART-REQUIREMENTS.md). Every test runs on SQLite and on
PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from sandbox.data.characters import build_resources
from smart_app.security import BROWSER_COOKIE
from smart_app.store.schema import launch_sessions, pending_authorizations
from tests.support import (
    authorize_at_sandbox,
    chart_launch_url,
    launch,
    launch_id_of,
    path_of,
    query_of,
    CLOCK,
    TODAY,
)

CHILD = "sofia-rivera"
TODDLER = "leo-tran"


def sections(client, launch_id: str) -> dict[str, str]:
    response = client.get(f"/p/{launch_id}/sections")
    assert response.status_code == 200
    return {m["key"]: m["html"] for m in map(json.loads, response.get_data(as_text=True).splitlines())}


def patient_name(client, launch_id: str) -> str:
    match = re.search(r'data-testid="patient-name">([^<]+)<', sections(client, launch_id)["banner"])
    assert match, "no patient banner"
    return match.group(1)


def engine_of(app):
    return app.extensions["spoc"].engine


def move_back(app, column, by: timedelta) -> None:
    """Pretend time passed: move every row's `column` back by `by`."""
    with engine_of(app).begin() as conn:
        conn.execute(column.table.update().values({column.name: CLOCK.now() - by}))


def test_ehr_launch_lands_on_the_summary_showing_the_patients_banner(client, sandbox):
    landed = launch(client, sandbox, CHILD)
    launch_id = launch_id_of(landed)
    page = client.get(f"/p/{launch_id}/")
    assert page.status_code == 200
    assert patient_name(client, launch_id) == "Sofia Isabel Rivera"  # R23


def test_unknown_iss_is_refused_with_no_request_to_it(client, sandbox, app, monkeypatch):
    calls = []
    monkeypatch.setattr(app.extensions["spoc"].discovery, "http_get", lambda *a, **k: calls.append(a))
    for forged in (sandbox.iss + "-evil", "https://attacker.example/fhir", sandbox.iss.replace("localhost", "127.0.0.1")):
        response = client.get("/launch", query_string={"iss": forged, "launch": "x"})
        assert response.status_code == 400  # R1
        assert "not configured" in response.get_data(as_text=True)
        assert "Location" not in response.headers
    assert calls == []


def test_missing_iss_or_launch_gets_a_readable_error(client, sandbox):
    no_launch = client.get("/launch", query_string={"iss": sandbox.iss})
    no_iss = client.get("/launch", query_string={"launch": "abc"})
    assert no_launch.status_code == no_iss.status_code == 400  # R2
    assert "Open the app from the patient" in no_launch.get_data(as_text=True)
    assert "relaunch" in no_iss.get_data(as_text=True).lower()


def test_authorize_request_carries_fresh_state_pkce_s256_aud_and_launch(client, sandbox):
    urls = []
    for _ in range(2):
        start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
        urls.append((query_of(start.headers["Location"]), query_of(chart_launch_url(sandbox, CHILD))))
    (first, chart), (second, _) = urls
    assert first["state"] != second["state"] and len(first["state"]) >= 22  # R6: ≥128 bits, base64url
    assert first["code_challenge_method"] == "S256" and len(first["code_challenge"]) == 43  # R7
    assert first["aud"] == sandbox.iss  # R8: byte for byte
    assert "launch" in first["scope"].split() and first["launch"]  # R9
    assert "patient/Condition.rs" in first["scope"].split()  # R10: the sandbox advertises permission-v2


def test_v1_scopes_when_the_server_does_not_advertise_v2(client, sandbox, sandbox_config):
    sandbox.control("config", {"permission_v2": False})
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    scope = query_of(start.headers["Location"])["scope"].split()
    assert "patient/Condition.read" in scope and not [s for s in scope if s.endswith(".rs")]  # R10


def test_a_replayed_callback_is_refused(client, sandbox):
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    callback = path_of(authorize_at_sandbox(start.headers["Location"]))
    assert client.get(callback).status_code == 303
    replay = client.get(callback)
    assert replay.status_code == 400  # R13
    assert "already used" in replay.get_data(as_text=True)


def test_unknown_or_missing_state_is_refused_without_a_token_request(client, sandbox):
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    code = query_of(authorize_at_sandbox(start.headers["Location"]))["code"]  # a real code, never redeemed
    sandbox.control("requests/clear")
    for query in (f"code={code}&state=forged-state-value", f"code={code}"):
        response = client.get(f"/callback?{query}")
        assert response.status_code == 400  # R12
        assert "relaunch" in response.get_data(as_text=True).lower()
    assert sandbox.token_requests() == []
    launch(client, sandbox, CHILD)  # the log does see the token request of a launch that completes
    assert sandbox.token_requests() == [{"grant_type": "authorization_code", "status": 200}]


def test_an_expired_state_is_refused(client, sandbox, app):
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    callback = path_of(authorize_at_sandbox(start.headers["Location"]))
    move_back(app, pending_authorizations.c.created_at, timedelta(minutes=11))
    response = client.get(callback)
    assert response.status_code == 400  # R12: ≤10 min
    assert "expired" in response.get_data(as_text=True)


def test_a_callback_from_another_browser_is_refused(app, sandbox):
    first, other = app.test_client(), app.test_client()
    start = first.get(path_of(chart_launch_url(sandbox, CHILD)))
    callback = path_of(authorize_at_sandbox(start.headers["Location"]))
    response = other.get(callback)
    assert response.status_code == 400
    assert "another browser" in response.get_data(as_text=True)


def test_an_oauth_error_at_the_callback_shows_the_ehrs_reason_and_a_relaunch_hint(client, sandbox):
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    state = query_of(start.headers["Location"])["state"]
    response = client.get("/callback", query_string={
        "error": "access_denied", "error_description": "User <b>declined</b>", "state": state,
        "error_uri": "https://ehr.example/help/denied"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400  # R16
    assert "User &lt;b&gt;declined&lt;/b&gt;" in body and "<b>declined" not in body
    # R16 asks for a link to error_uri; the hostile review (issue 12) overrides it: anyone can put an
    # error_uri in a callback URL, so the page never links to it.
    assert "ehr.example/help" not in body and "More about this error" not in body
    assert "relaunch the Shared Plan of Care from the patient" in body
    assert "Location" not in response.headers  # never loops back into authorize


ATTACKER_ERROR = {"error": "server_error", "error_description": "Call 555-0100 to restore access",
                  "error_uri": "https://attacker.example/restore"}


def test_an_oauth_error_without_a_state_shows_a_fixed_message_and_none_of_the_callers_text(client, sandbox):
    response = client.get("/callback", query_string=ATTACKER_ERROR)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The EHR had a problem signing you in." in body
    assert "555-0100" not in body and "attacker.example" not in body and "More about this error" not in body


def test_an_oauth_error_with_the_state_of_another_browser_shows_none_of_the_callers_text(app, sandbox):
    start = app.test_client().get(path_of(chart_launch_url(sandbox, CHILD)))
    state = query_of(start.headers["Location"])["state"]
    response = app.test_client().get("/callback", query_string={**ATTACKER_ERROR, "state": state})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "The EHR had a problem signing you in." in body
    assert "555-0100" not in body and "attacker.example" not in body


def test_a_wrong_pkce_verifier_is_rejected_by_the_sandbox_and_shown_as_a_failed_sign_in(client, sandbox, app):
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    callback = path_of(authorize_at_sandbox(start.headers["Location"]))
    cipher = app.extensions["spoc"].sessions.cipher
    with engine_of(app).begin() as conn:
        conn.execute(pending_authorizations.update().values(code_verifier=cipher.encrypt("x" * 64)))
    response = client.get(callback)
    assert response.status_code == 400
    assert "invalid_grant" in response.get_data(as_text=True)


def test_two_patients_in_two_tabs_of_one_browser_stay_apart_after_reloads(client, sandbox):
    child = launch_id_of(launch(client, sandbox, CHILD))
    toddler = launch_id_of(launch(client, sandbox, TODDLER))
    for _ in range(2):  # R29: reloads in either order keep each tab on its own patient
        assert patient_name(client, child) == "Sofia Isabel Rivera"
        assert patient_name(client, toddler).startswith("Leo")
        assert client.get(f"/p/{toddler}/").status_code == 200


def test_the_browser_holds_only_a_random_handle_in_a_partitioned_cookie(client, sandbox):
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    cookie = start.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):  # R30
        assert attribute in cookie
    landed = client.get(path_of(authorize_at_sandbox(start.headers["Location"])))
    assert "Set-Cookie" not in landed.headers  # tokens never go to the browser (R27)
    launch_id = launch_id_of(landed)
    assert len(launch_id) >= 22  # R28: ≥128-bit handle


def test_a_browser_cookie_the_client_brings_is_never_adopted_by_a_launch(app, sandbox, client):
    planted = "k" * 32  # e.g. set by an attacker who shares a parent domain with the app
    client.set_cookie(BROWSER_COOKIE, planted)
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    issued = re.search(rf"{BROWSER_COOKIE}=([^;]+)", start.headers["Set-Cookie"]).group(1)
    assert not issued.startswith(planted)  # a fresh id for this launch
    launch_id = launch_id_of(client.get(path_of(authorize_at_sandbox(start.headers["Location"]))))
    assert client.get(f"/p/{launch_id}/").status_code == 200
    attacker = app.test_client()
    attacker.set_cookie(BROWSER_COOKIE, planted)
    assert attacker.get(f"/p/{launch_id}/").status_code == 401


def test_another_browser_cannot_use_a_launch_handle(app, sandbox, client):
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    stranger = app.test_client()
    response = stranger.get(f"/p/{launch_id}/")
    assert response.status_code == 401
    assert "relaunch" in response.get_data(as_text=True).lower()


def test_tokens_are_encrypted_in_the_store(client, sandbox, app):
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    tokens, _, _ = app.extensions["spoc"].sessions.tokens(launch_id)
    with engine_of(app).connect() as conn:
        row = conn.execute(sa.select(launch_sessions)).first()
    raw = b" ".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    assert tokens.access_token.encode() not in raw
    assert tokens.refresh_token and tokens.refresh_token.encode() not in raw


def test_embedding_headers_on_app_pages(client, sandbox):
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    page = client.get(f"/p/{launch_id}/")
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {sandbox.url}" in csp  # R56
    assert "X-Frame-Options" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"  # R59
    html = page.get_data(as_text=True)
    assert html.startswith("<!DOCTYPE html>")  # R57
    head = html.split("<head>", 1)[1].lstrip()
    assert head.startswith('<meta http-equiv="X-UA-Compatible" content="IE=edge">')


def test_an_expiring_access_token_is_refreshed_before_use(client, sandbox, app):
    sandbox.control("config", {"access_token_lifetime_s": 30})  # inside the 60 s refresh margin
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    before, version, _ = app.extensions["spoc"].sessions.tokens(launch_id)
    assert patient_name(client, launch_id) == "Sofia Isabel Rivera"
    after, new_version, _ = app.extensions["spoc"].sessions.tokens(launch_id)
    assert new_version == version + 1 and after.access_token != before.access_token  # R32
    assert after.refresh_token != before.refresh_token  # the rotated refresh token replaced the old one


def test_invalid_grant_on_refresh_ends_the_session_and_says_relaunch(client, sandbox, app):
    sandbox.control("config", {"access_token_lifetime_s": 30})
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    sandbox.control("tokens/revoke")
    lines = sections(client, launch_id)
    assert "relaunch" in lines["error"].lower()  # R33
    assert client.get(f"/p/{launch_id}/").status_code == 401


def test_an_idle_session_expires(client, sandbox, app):
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    move_back(app, launch_sessions.c.last_seen_at, timedelta(minutes=16))
    response = client.get(f"/p/{launch_id}/")
    assert response.status_code == 401  # R34
    assert "without activity" in response.get_data(as_text=True)


def test_every_launch_and_refusal_is_audited_without_secrets(client, sandbox, app):
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    client.get("/launch", query_string={"iss": "https://attacker.example/fhir", "launch": "x"})
    sections(client, launch_id)
    events = app.extensions["spoc"].audit.for_patient(sandbox.iss, CHILD)
    actions = [(e["action"], e["outcome"]) for e in events]
    assert ("launch", "success") in actions
    assert any(a == "fhir-search" for a, _ in actions)  # R63
    assert all(e["launch_id_hash"] != launch_id for e in events)
    with engine_of(app).connect() as conn:
        denied = conn.execute(sa.text("SELECT count(*) FROM audit_events WHERE outcome='denied'")).scalar()
    assert denied == 1


def test_logs_hold_no_token_code_state_or_authorization_header(client, sandbox, app, caplog):
    caplog.set_level(logging.DEBUG)
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    secrets_seen = [query_of(start.headers["Location"])["state"], query_of(chart_launch_url(sandbox, CHILD))["launch"]]
    callback = authorize_at_sandbox(start.headers["Location"])
    secrets_seen.append(query_of(callback)["code"])
    launch_id = launch_id_of(client.get(path_of(callback)))
    sections(client, launch_id)
    tokens, _, _ = app.extensions["spoc"].sessions.tokens(launch_id)
    secrets_seen += [tokens.access_token, tokens.refresh_token]
    text = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("sandbox")
                     and not record.name.startswith("werkzeug"))
    assert text  # the app did log something
    for secret in secrets_seen:  # R64
        assert secret not in text
    assert "Bearer" not in text and "Authorization" not in text


def test_standalone_launch_lets_the_user_pick_the_patient_in_the_ehr(client, sandbox):
    start = client.get("/launch/standalone", query_string={"iss": sandbox.iss})
    assert "launch/patient" in query_of(start.headers["Location"])["scope"].split()
    picker = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert picker.status_code == 200
    form = re.search(r'<form[^>]*action="([^"]*)"', picker.text)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', picker.text))
    action = requests.compat.urljoin(start.headers["Location"], form.group(1).replace("&amp;", "&") if form else "")
    chosen = requests.post(action, data={**fields, "sandbox_patient": TODDLER}, allow_redirects=False, timeout=5)
    assert chosen.status_code in (302, 303), chosen.text[:300]
    landed = client.get(path_of(chosen.headers["Location"]))
    assert patient_name(client, launch_id_of(landed)).startswith("Leo")


def test_the_app_serves_no_private_key_material_in_its_jwks(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and "max-age" in response.headers["Cache-Control"]
    assert all("d" not in key for key in response.get_json()["keys"])


def test_a_long_authorize_request_goes_by_post_when_the_server_allows_it(app, sandbox):
    app.extensions["spoc"].settings.__class__  # settings are frozen; build a client with a tiny limit
    from dataclasses import replace

    state = app.extensions["spoc"]
    object.__setattr__(state, "settings", replace(state.settings, max_authorize_url=100))
    response = app.test_client().get(path_of(chart_launch_url(sandbox, CHILD)))
    body = response.get_data(as_text=True)
    assert response.status_code == 200  # R11
    assert 'method="post"' in body and 'name="code_challenge_method" value="S256"' in body
    assert "js/autosubmit.js" in body


def encounter_of(app) -> str | None:
    with engine_of(app).connect() as conn:
        return conn.execute(sa.select(launch_sessions.c.encounter_id)).scalar()


def launch_with_encounter(client, sandbox, patient_id: str, encounter_id: str):
    issued = requests.post(f"{sandbox.url}/_sandbox/launches", json={"patient": patient_id, "encounter": encounter_id},
                           timeout=5).json()
    start = client.get("/launch", query_string={"iss": sandbox.iss, "launch": issued["launch"]})
    return client.get(path_of(authorize_at_sandbox(start.headers["Location"])))


def encounter_id_of(patient_id: str) -> str:
    return next(r["id"] for r in build_resources(TODAY)
                if r["resourceType"] == "Encounter" and r["subject"]["reference"] == f"Patient/{patient_id}")


def test_the_launch_encounter_is_kept_when_it_is_the_patients(client, sandbox, app):
    own = encounter_id_of(CHILD)
    assert launch_with_encounter(client, sandbox, CHILD, own).status_code == 303
    assert encounter_of(app) == own  # R20


def test_an_encounter_of_another_patient_is_ignored(client, sandbox, app, caplog):
    other = encounter_id_of(TODDLER)
    caplog.set_level(logging.WARNING)
    landed = launch_with_encounter(client, sandbox, CHILD, other)
    assert landed.status_code == 303  # R20: the launch goes on, without the encounter
    assert encounter_of(app) is None
    assert "encounter ignored" in caplog.text


def test_without_need_patient_banner_the_app_shows_no_banner(client, sandbox):
    page = requests.get(f"{sandbox.url}/ehr/patient/{CHILD}", params={"banner": "0"}, timeout=5).text
    src = re.search(r'<iframe[^>]*src="([^"]+)"', page).group(1).replace("&amp;", "&")
    start = client.get(path_of(src))
    landed = client.get(path_of(authorize_at_sandbox(start.headers["Location"])))
    launch_id = launch_id_of(landed)
    assert "patient-banner" not in client.get(f"/p/{launch_id}/").get_data(as_text=True)  # R23
    assert "banner" not in sections(client, launch_id) or 'data-testid="patient-name"' not in sections(client, launch_id)["banner"]
    assert "patient-banner" not in client.get(f"/p/{launch_id}/plan").get_data(as_text=True)


@pytest.mark.parametrize("other", [TODDLER, f"{CHILD},{TODDLER}"])
def test_a_refresh_that_switches_patient_ends_the_session(client, sandbox, app, other):
    import responses

    sandbox.control("config", {"access_token_lifetime_s": 30})  # due for refresh at once
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(f"{sandbox.url}/fhir")
        mock.add(responses.POST, f"{sandbox.url}/auth/token", json={
            "access_token": "another", "token_type": "Bearer", "expires_in": 3600, "patient": other})
        lines = sections(client, launch_id)
    assert "relaunch" in lines["error"].lower()  # R19: the session is over, whichever request noticed first
    assert client.get(f"/p/{launch_id}/").status_code == 401
    with engine_of(app).connect() as conn:
        assert conn.execute(sa.select(launch_sessions.c.end_reason)).scalar() == "patient-changed"


def land_with_token_response(client, sandbox, **context):
    """A launch whose token endpoint answers with these context values (patient, encounter)."""
    import responses

    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    callback = path_of(authorize_at_sandbox(start.headers["Location"]))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(f"{sandbox.url}/fhir")
        mock.add(responses.POST, f"{sandbox.url}/auth/token", json={
            "access_token": "at", "token_type": "Bearer", "expires_in": 3600, "scope": "launch patient/*.rs",
            **context})
        return client.get(callback)


def test_a_token_response_patient_that_is_not_a_fhir_id_refuses_the_launch(client, sandbox, app):
    for patient in ("p" * 201, f"{CHILD},{TODDLER}"):  # too long for the store; an OR search on a lenient server
        response = land_with_token_response(client, sandbox, patient=patient)
        assert response.status_code == 400
        assert "relaunch" in response.get_data(as_text=True).lower()
    with engine_of(app).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(launch_sessions)).scalar() == 0


def test_a_token_response_encounter_that_is_not_a_fhir_id_is_dropped_with_a_warning(client, sandbox, app, caplog):
    caplog.set_level(logging.WARNING)
    landed = land_with_token_response(client, sandbox, patient=CHILD, encounter=f"{'e' * 300},x")
    assert landed.status_code == 303  # R20: the launch goes on, without the encounter
    assert encounter_of(app) is None
    assert "encounter ignored" in caplog.text


def test_a_site_s_first_launch_reads_its_capability_statement_while_the_browser_is_at_authorize_and_only_once(
        client, sandbox):
    """Issue 17: the summary's searches chosen by the CapabilityStatement then leave with the others
    instead of one round after them; the summary reads no second copy."""
    sandbox.control("requests/clear")
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    assert start.status_code == 302

    def statement_reads() -> list[dict]:
        return [r for r in sandbox.fhir_requests() if r["path"] == "/fhir/metadata"]

    deadline = time.monotonic() + 5
    while not statement_reads() and time.monotonic() < deadline:  # read in the background, answered soon
        time.sleep(0.02)
    assert len(statement_reads()) == 1  # before the app has a token: the callback has not been called
    landed = client.get(path_of(authorize_at_sandbox(start.headers["Location"])))
    assert "cerebral palsy" in sections(client, launch_id_of(landed))["conditions"]
    assert len(statement_reads()) == 1
