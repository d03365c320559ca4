"""Client types end to end: a confidential client with a secret, private_key_jwt with ES384 and RS384,
the app's public JWKS during key rotation, id_token validation and the callback's `iss` (R14-R26).

The app runs in the Flask test client, the sandbox EHR on a real loopback port; each test that
touches the store runs on SQLite and on PostgreSQL (the `database_url` fixture). Each test builds
its own app, because client keys and secrets are read when the app is created.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
import responses
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from sandbox.config import SandboxClient
from smart_app import create_app
from smart_app.launch import oauth
from smart_app.store.schema import launch_sessions, pending_authorizations
from smart_app.tenants import Tenant, TenantRegistry
from tests.support import (
    APP_ORIGIN,
    CLIENT_ID,
    a_tenant,
    authorize_at_sandbox,
    chart_launch_url,
    launch,
    launch_id_of,
    path_of,
    query_of,
    CLOCK,
)

CHILD = "sofia-rivera"
SECRET_ENV = "SPOC_TEST_SECRET"
KEYS_ENV = "SPOC_TEST_CLIENT_JWKS"
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
FAKE_EHR = "https://ehr.example.test"


# --- helpers -------------------------------------------------------------------------------------

@pytest.fixture
def app_for(settings):
    """Builds the app for the given tenants (after the test has set their secrets in the env)."""
    built = []

    def build(*tenants: Tenant):
        app = create_app(settings, TenantRegistry(tenants), clock=CLOCK)
        app.config["TESTING"] = True
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["spoc"].engine.dispose()


@pytest.fixture
def outbound(monkeypatch) -> list[tuple[str, str]]:
    """(method, url) of every HTTP request made through `requests` from now on, by anyone in-process."""
    seen: list[tuple[str, str]] = []
    send = requests.Session.send

    def recording_send(self, request, **kwargs):
        seen.append((request.method, request.url))
        return send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", recording_send)
    return seen


def register_client(sandbox, client: SandboxClient) -> None:
    # The sandbox reads its client list live from the config it was started with.
    sandbox.config.clients[:] = [client]


def generate_key(alg: str, kid: str):
    if alg == "ES384":
        return ECKey.generate_key("P-384", {"kid": kid, "alg": alg})
    return RSAKey.generate_key(2048, {"kid": kid, "alg": alg})


def write_private_key_set(path: Path, *keys) -> Path:
    path.write_text(json.dumps(KeySet(list(keys)).as_dict(private=True)))
    return path


def public_jwks(*keys) -> dict:
    return KeySet(list(keys)).as_dict(private=False)


def patient_name(client, launch_id: str) -> str:
    response = client.get(f"/p/{launch_id}/sections")
    assert response.status_code == 200
    banner = next(json.loads(line)["html"] for line in response.get_data(as_text=True).splitlines()
                  if json.loads(line)["key"] == "banner")
    return banner.split('data-testid="patient-name">', 1)[1].split("<", 1)[0]


def launch_rows(app) -> list:
    with app.extensions["spoc"].engine.connect() as conn:
        return list(conn.execute(sa.select(launch_sessions)))


def begin(client, sandbox) -> tuple[str, str]:
    """Start an EHR launch from the chart; returns (the callback the sandbox sends back, the state)."""
    start = client.get(path_of(chart_launch_url(sandbox, CHILD)))
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    return authorize_at_sandbox(start.headers["Location"]), query_of(start.headers["Location"])["state"]


def with_query(url: str, **changes: str) -> str:
    query = {**query_of(url), **changes}
    return f"{urlsplit(url).path}?{urlencode(query)}"


# --- confidential client with a secret ---------------------------------------------------------

def test_a_confidential_client_with_a_secret_completes_the_launch(sandbox, app_for, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "s3cret-for-the-sandbox")
    register_client(sandbox, SandboxClient(CLIENT_ID, (f"{APP_ORIGIN}/callback",), auth="client_secret_basic",
                                           secret="s3cret-for-the-sandbox"))
    app = app_for(a_tenant(sandbox, client_type="confidential-symmetric", client_secret_env=SECRET_ENV))
    client = app.test_client()
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    assert patient_name(client, launch_id) == "Sofia Isabel Rivera"


def test_a_wrong_client_secret_shows_a_clear_error_page_not_a_crash(sandbox, app_for, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "not-the-registered-secret")
    register_client(sandbox, SandboxClient(CLIENT_ID, (f"{APP_ORIGIN}/callback",), auth="client_secret_basic",
                                           secret="s3cret-for-the-sandbox"))
    app = app_for(a_tenant(sandbox, client_type="confidential-symmetric", client_secret_env=SECRET_ENV))
    client = app.test_client()
    callback, _ = begin(client, sandbox)
    response = client.get(path_of(callback))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "refused to complete the sign-in (invalid_client)" in body
    assert "relaunch" in body.lower()
    assert "not-the-registered-secret" not in body
    assert launch_rows(app) == []


# --- confidential asymmetric client (private_key_jwt) ------------------------------------------

@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_a_confidential_asymmetric_client_signs_in_with(alg, sandbox, app_for, monkeypatch, tmp_path):
    key = generate_key(alg, f"spoc-{alg.lower()}")
    monkeypatch.setenv(KEYS_ENV, str(write_private_key_set(tmp_path / "client-jwks.json", key)))
    register_client(sandbox, SandboxClient(CLIENT_ID, (f"{APP_ORIGIN}/callback",), auth="private_key_jwt",
                                           jwks=public_jwks(key)))
    app = app_for(a_tenant(sandbox, client_type="confidential-asymmetric", private_key_env=KEYS_ENV,
                           signing_alg=alg))
    headers = []
    sign = oauth.client_assertion

    def spying_assertion(*args, **kwargs):
        assertion = sign(*args, **kwargs)
        headers.append(jwt.decode(assertion, key, algorithms=[alg]).header)
        return assertion

    monkeypatch.setattr(oauth, "client_assertion", spying_assertion)
    client = app.test_client()
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    assert patient_name(client, launch_id) == "Sofia Isabel Rivera"
    assert [(h["alg"], h["kid"]) for h in headers] == [(alg, f"spoc-{alg.lower()}")]  # R25


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_client_assertions_carry_kid_and_type_and_are_short_lived_and_unique(alg, monkeypatch, tmp_path):
    key = generate_key(alg, "k-2026")
    monkeypatch.setenv(KEYS_ENV, str(write_private_key_set(tmp_path / "client-jwks.json", key)))
    tenant = Tenant(name="Some EHR", iss=f"{FAKE_EHR}/fhir", client_id="spoc-client",
                    redirect_uri=f"{APP_ORIGIN}/callback", client_type="confidential-asymmetric",
                    private_key_env=KEYS_ENV, signing_alg=alg)
    keys = oauth.ClientKeys([tenant])
    token_url = f"{FAKE_EHR}/oauth2/token"
    first, second = (jwt.decode(oauth.client_assertion(tenant, token_url, keys, now=CLOCK.timestamp()), key, algorithms=[alg])
                     for _ in range(2))
    assert first.header == {"alg": alg, "kid": "k-2026", "typ": "JWT"}  # R25
    claims = first.claims
    assert claims["iss"] == claims["sub"] == "spoc-client"
    assert claims["aud"] == token_url
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert first.claims["jti"] != second.claims["jti"]


def test_the_jwks_url_serves_both_public_keys_during_rotation_and_nothing_private(app_for, monkeypatch, tmp_path):
    old, new = generate_key("ES384", "spoc-2025"), generate_key("ES384", "spoc-2026")
    monkeypatch.setenv(KEYS_ENV, str(write_private_key_set(tmp_path / "client-jwks.json", new, old)))
    app = app_for(Tenant(name="Some EHR", iss=f"{FAKE_EHR}/fhir", client_id="spoc-client",
                         redirect_uri=f"{APP_ORIGIN}/callback", client_type="confidential-asymmetric",
                         private_key_env=KEYS_ENV))
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]  # R26
    served = response.get_json()["keys"]
    assert sorted(k["kid"] for k in served) == ["spoc-2025", "spoc-2026"]
    assert all(not PRIVATE_MEMBERS & set(k) for k in served)
    by_kid = {k["kid"]: k for k in served}
    for key in (old, new):
        assert by_kid[key.kid].items() >= key.as_dict(private=False).items()  # the public half, as is


# --- id_token and fhirUser (R22) ---------------------------------------------------------------

def test_the_id_token_names_the_signed_in_practitioner_as_an_absolute_fhir_user(client, sandbox, app):
    chart = sandbox.control("launches", {"patient": CHILD, "user": "dr-test-user"})
    start = client.get("/launch", query_string={"iss": sandbox.iss, "launch": chart["launch"]})
    assert {"openid", "fhirUser"} <= set(query_of(start.headers["Location"])["scope"].split())
    landed = client.get(path_of(authorize_at_sandbox(start.headers["Location"])))
    assert landed.status_code == 303, landed.get_data(as_text=True)[:300]
    [row] = launch_rows(app)
    assert row.launch_id == launch_id_of(landed)
    assert row.fhir_user == f"{sandbox.iss}/Practitioner/dr-test-user"


def test_an_id_token_not_signed_by_the_issuers_key_fails_the_launch(client, sandbox, app, monkeypatch):
    real_kid = requests.get(f"{sandbox.url}/auth/jwks", timeout=5).json()["keys"][0]["kid"]
    impostor = RSAKey.generate_key(2048, {"kid": real_kid, "alg": "RS256"})
    fetched = []

    discovery = app.extensions["spoc"].discovery

    def jwks_from_elsewhere(url, **kwargs):
        if not url.endswith("/auth/jwks"):
            return requests.get(url, **kwargs)
        fetched.append(url)
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(public_jwks(impostor)).encode()
        return response

    monkeypatch.setattr(discovery, "http_get", jwks_from_elsewhere)
    callback, _ = begin(client, sandbox)
    response = client.get(path_of(callback))
    assert fetched == [f"{sandbox.url}/auth/jwks"]  # the keys were fresh: not fetched a second time
    assert response.status_code == 400  # R22
    assert "identity token could not be verified" in response.get_data(as_text=True)
    assert launch_rows(app) == []


# --- the callback's iss (R14, R15) -------------------------------------------------------------

def test_a_callback_whose_rfc9207_iss_differs_from_the_discovery_issuer_is_refused(client, sandbox, app, outbound):
    callback, _ = begin(client, sandbox)
    assert query_of(callback)["iss"] == sandbox.iss
    outbound.clear()
    response = client.get(with_query(callback, iss=sandbox.iss.replace("localhost", "127.0.0.1")))
    assert response.status_code == 400  # R15
    assert "different server" in response.get_data(as_text=True)
    assert outbound == []  # no token request
    assert launch_rows(app) == []


def test_the_token_request_goes_only_to_the_endpoint_stored_with_the_state(sandbox, app_for, outbound):
    # No openid scope: without a known issuer an id_token could not be verified (R22).
    app = app_for(a_tenant(sandbox, scopes=("launch", "online_access", "patient/Patient.rs")))
    client = app.test_client()
    callback, _ = begin(client, sandbox)
    # As if discovery had no `issuer`: R15 cannot apply, so only R14 stands between the forged
    # callback `iss` and the token request.
    with app.extensions["spoc"].engine.begin() as conn:
        conn.execute(pending_authorizations.update().values(issuer=None))
    outbound.clear()
    response = client.get(with_query(callback, iss="https://attacker.example/fhir"))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]  # R14
    assert ("POST", f"{sandbox.url}/auth/token") in outbound
    assert not [url for _, url in outbound if "attacker.example" in url]
    [row] = launch_rows(app)
    assert row.iss == sandbox.iss and row.token_endpoint == f"{sandbox.url}/auth/token"


def test_a_forged_callback_iss_with_a_known_issuer_is_refused_before_any_request(client, sandbox, outbound):
    callback, _ = begin(client, sandbox)
    outbound.clear()
    response = client.get(with_query(callback, iss="https://attacker.example/fhir"))
    assert response.status_code == 400  # R14 + R15
    assert outbound == []


# --- token response without patient (R18), against a faked EHR -----------------------------------

def test_a_token_response_without_a_patient_is_refused(app_for):
    app = app_for(Tenant(name="Faked EHR", iss=f"{FAKE_EHR}/fhir", client_id="spoc-client",
                         redirect_uri=f"{APP_ORIGIN}/callback", frame_ancestors=(FAKE_EHR,)))
    client = app.test_client()
    with responses.RequestsMock() as ehr:  # every request must be one of these, and each is made
        ehr.get(f"{FAKE_EHR}/fhir/.well-known/smart-configuration", json={
            "issuer": f"{FAKE_EHR}/fhir",
            "authorization_endpoint": f"{FAKE_EHR}/oauth2/authorize",
            "token_endpoint": f"{FAKE_EHR}/oauth2/token",
            "capabilities": ["launch-ehr", "client-public", "permission-v2"],
            "code_challenge_methods_supported": ["S256"],
        })
        ehr.post(f"{FAKE_EHR}/oauth2/token", json={
            "access_token": "opaque-access", "token_type": "Bearer", "expires_in": 300,
            "scope": "launch patient/Patient.rs",
        })
        start = client.get("/launch", query_string={"iss": f"{FAKE_EHR}/fhir", "launch": "chart-launch-1"})
        assert start.status_code == 302
        state = query_of(start.headers["Location"])["state"]
        response = client.get("/callback", query_string={"code": "one-code", "state": state,
                                                         "iss": f"{FAKE_EHR}/fhir"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400  # R18: no patient picker inside a chart
    assert "did not say which patient" in body
    assert "relaunch" in body.lower()
    assert launch_rows(app) == []

