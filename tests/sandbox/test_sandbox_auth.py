"""The sandbox's authorization server is at least as strict as a real EHR's (SMART App Launch 2.2)."""

from __future__ import annotations

import secrets
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from sandbox import SandboxConfig, create_sandbox
from tests.sandbox.conftest import (
    BASE,
    REDIRECT,
    authorize_code,
    authorize_params,
    confidential,
    exchange,
    issue_launch,
    pkce_pair,
    query_of,
    small_record,
)

TOKEN_URL = "http://localhost/auth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_discovery_document_names_endpoints_on_the_request_host_and_s256_only(client):
    found = client.get("/fhir/.well-known/smart-configuration").json
    assert found["issuer"] == BASE
    assert found["authorization_endpoint"] == "http://localhost/auth/authorize"
    assert found["token_endpoint"] == TOKEN_URL
    assert found["jwks_uri"] == "http://localhost/auth/jwks"
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert set(found["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert {"private_key_jwt", "client_secret_basic"} <= set(found["token_endpoint_auth_methods_supported"])
    assert {"launch-ehr", "context-ehr-patient", "permission-v1", "permission-v2", "sso-openid-connect",
            "authorize-post"} <= set(found["capabilities"])


def test_permission_v2_is_advertised_only_when_configured():
    app = create_sandbox(SandboxConfig(resources=[], permission_v2=False))
    capabilities = app.test_client().get("/fhir/.well-known/smart-configuration").json["capabilities"]
    assert "permission-v1" in capabilities and "permission-v2" not in capabilities


def test_an_ehr_launch_yields_patient_user_and_refresh_token(client):
    code, verifier = authorize_code(client, "p2")
    token = exchange(client, code, verifier)
    assert token.headers["Cache-Control"] == "no-store"
    body = token.json
    assert body["token_type"] == "Bearer" and body["patient"] == "p2"
    assert body["need_patient_banner"] is True
    assert "refresh_token" in body and "patient/Condition.read" in body["scope"].split()


def test_the_callback_carries_the_issuer_per_rfc_9207(client):
    params = authorize_params(pkce_pair()[1], launch=issue_launch(client))
    location = client.get("/auth/authorize", query_string=params).headers["Location"]
    assert location.startswith(REDIRECT + "?")
    assert query_of(location)["iss"] == BASE


def test_a_wrong_pkce_verifier_is_invalid_grant(client):
    code, _verifier = authorize_code(client)
    refused = exchange(client, code, pkce_pair()[0])
    assert refused.status_code == 400
    assert refused.json["error"] == "invalid_grant"


@pytest.mark.parametrize("method", ["plain", None])
def test_plain_or_missing_pkce_method_is_refused_with_invalid_request(client, method):
    verifier, _challenge = pkce_pair()
    params = authorize_params(verifier, code_challenge_method=method, launch=issue_launch(client))
    reply = query_of(client.get("/auth/authorize", query_string=params).headers["Location"])
    assert reply["error"] == "invalid_request" and "code" not in reply


def test_an_aud_that_is_not_the_fhir_base_byte_for_byte_is_refused(client):
    params = authorize_params(pkce_pair()[1], aud=BASE + "/", launch=issue_launch(client))
    reply = query_of(client.get("/auth/authorize", query_string=params).headers["Location"])
    assert reply["error"] == "invalid_request"


def test_an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(client):
    params = authorize_params(pkce_pair()[1], redirect_uri="http://127.0.0.1:8100/elsewhere",
                              launch=issue_launch(client))
    page = client.get("/auth/authorize", query_string=params)
    assert page.status_code == 400 and "Location" not in page.headers
    assert "redirect_uri" in page.text


def test_a_request_without_state_is_invalid_request(client):
    params = authorize_params(pkce_pair()[1], state=None, launch=issue_launch(client))
    reply = query_of(client.get("/auth/authorize", query_string=params).headers["Location"])
    assert reply["error"] == "invalid_request" and "code" not in reply


def test_an_unknown_launch_is_invalid_request(client):
    params = authorize_params(pkce_pair()[1], launch="never-issued")
    reply = query_of(client.get("/auth/authorize", query_string=params).headers["Location"])
    assert reply["error"] == "invalid_request"


def test_a_request_without_any_understood_scope_is_invalid_scope(client):
    params = authorize_params(pkce_pair()[1], scope="wibble", launch=issue_launch(client))
    reply = query_of(client.get("/auth/authorize", query_string=params).headers["Location"])
    assert reply["error"] == "invalid_scope"


def test_authorize_also_accepts_post(client):
    response = client.post("/auth/authorize", data=authorize_params(pkce_pair()[1], launch=issue_launch(client)))
    assert response.status_code == 302 and "code" in query_of(response.headers["Location"])


def test_a_code_is_single_use(client):
    code, verifier = authorize_code(client)
    assert exchange(client, code, verifier).status_code == 200
    replay = exchange(client, code, verifier)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"


def test_every_token_request_is_logged_by_grant_and_status_without_its_values(client):
    code, verifier = authorize_code(client)
    refresh = exchange(client, code, verifier).json["refresh_token"]
    exchange(client, code, verifier)  # a replayed code
    client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "spoc-demo"})
    logged = client.get("/_sandbox/token-requests").json
    assert logged == [{"grant_type": "authorization_code", "status": 200},
                      {"grant_type": "authorization_code", "status": 400},
                      {"grant_type": "refresh_token", "status": 200}]
    client.post("/_sandbox/requests/clear")
    assert client.get("/_sandbox/token-requests").json == []


def test_a_code_is_bound_to_its_redirect_uri(client):
    code, verifier = authorize_code(client)
    refused = exchange(client, code, verifier, redirect_uri="http://127.0.0.1:8100/other")
    assert refused.json["error"] == "invalid_grant"


def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(client, launch):
    first = launch().token
    refreshed = client.post("/auth/token", data={"grant_type": "refresh_token", "client_id": "spoc-demo",
                                                  "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.json["refresh_token"] != first["refresh_token"]
    assert refreshed.json["patient"] == "p1"
    replay = client.post("/auth/token", data={"grant_type": "refresh_token", "client_id": "spoc-demo",
                                               "refresh_token": first["refresh_token"]})
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"


def test_revoked_refresh_tokens_are_invalid_grant(client, launch):
    token = launch().token
    client.post("/_sandbox/tokens/revoke")
    refused = client.post("/auth/token", data={"grant_type": "refresh_token", "client_id": "spoc-demo",
                                                "refresh_token": token["refresh_token"]})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"


def test_expired_access_tokens_get_401_operation_outcome(client, launch):
    launched = launch()
    assert client.get("/fhir/Patient/p1", headers=launched.headers).status_code == 200
    client.post("/_sandbox/tokens/expire")
    expired = client.get("/fhir/Patient/p1", headers=launched.headers)
    assert expired.status_code == 401 and expired.json["resourceType"] == "OperationOutcome"


def test_id_token_is_signed_by_the_sandbox_jwks_and_names_the_fhir_user(client, launch):
    token = launch().token
    keys = KeySet.import_key_set(client.get("/auth/jwks").json)
    claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["iss"] == BASE and claims["aud"] == "spoc-demo"
    assert claims["fhirUser"] == f"{BASE}/Practitioner/dr1" and claims["exp"] > time.time()


def test_standalone_launch_shows_a_patient_picker_then_redirects_with_the_choice(client):
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge, scope="launch/patient openid fhirUser patient/Patient.read")
    picker = client.get("/auth/authorize", query_string=params)
    assert picker.status_code == 200 and 'data-testid="pick-p2"' in picker.text
    chosen = client.post("/auth/authorize", data={**params, "sandbox_patient": "p2"})
    code = query_of(chosen.headers["Location"])["code"]
    assert exchange(client, code, verifier).json["patient"] == "p2"


# --- confidential clients ----------------------------------------------------------------------

def test_client_secret_basic_is_accepted_and_a_wrong_secret_is_not():
    app = create_sandbox(SandboxConfig(resources=small_record(), clients=[
        confidential("vault", auth="client_secret_basic", secret="s3cret")]))
    client = app.test_client()
    code, verifier = authorize_code(client, client_id="vault")
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": REDIRECT}
    wrong = client.post("/auth/token", data=form, auth=("vault", "nope"))
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"
    code, verifier = authorize_code(client, client_id="vault")
    right = client.post("/auth/token", data={**form, "code": code, "code_verifier": verifier},
                        auth=("vault", "s3cret"))
    assert right.status_code == 200 and right.json["patient"] == "p1"


@pytest.fixture(scope="module")
def client_keys() -> dict[str, RSAKey | ECKey]:
    return {"RS384": RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}),
            "ES384": ECKey.generate_key("P-384", parameters={"kid": "ec-1"})}


@pytest.fixture
def asymmetric(client_keys):
    jwks = KeySet(list(client_keys.values())).as_dict(private=False)
    app = create_sandbox(SandboxConfig(resources=small_record(), clients=[
        confidential("keyed", auth="private_key_jwt", jwks=jwks)]))
    return app.test_client()


def assertion(key, alg: str, *, kid: str | None = "default", ahead_s: int = 240, jti: str | None = None) -> str:
    header = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = key.kid if kid == "default" else kid
    claims = {"iss": "keyed", "sub": "keyed", "aud": TOKEN_URL, "exp": int(time.time()) + ahead_s,
              "jti": jti or secrets.token_hex(16)}
    return jwt.encode(header, claims, key, algorithms=[alg])


def exchange_with_assertion(client, signed: str):
    code, verifier = authorize_code(client, client_id="keyed")
    return client.post("/auth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": REDIRECT,
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed})


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_private_key_jwt_is_accepted_with_rs384_and_es384(asymmetric, client_keys, alg):
    accepted = exchange_with_assertion(asymmetric, assertion(client_keys[alg], alg))
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["patient"] == "p1"


def test_private_key_jwt_expiring_more_than_300_seconds_ahead_is_refused(asymmetric, client_keys):
    refused = exchange_with_assertion(asymmetric, assertion(client_keys["RS384"], "RS384", ahead_s=600))
    assert refused.status_code == 401 and refused.json["error"] == "invalid_client"
    assert "300" in refused.json["error_description"]


def test_private_key_jwt_with_a_reused_jti_is_refused(asymmetric, client_keys):
    assert exchange_with_assertion(asymmetric, assertion(client_keys["ES384"], "ES384", jti="once")).status_code == 200
    replay = exchange_with_assertion(asymmetric, assertion(client_keys["ES384"], "ES384", jti="once"))
    assert replay.status_code == 401 and "jti" in replay.json["error_description"]


def test_private_key_jwt_without_a_kid_is_refused(asymmetric, client_keys):
    refused = exchange_with_assertion(asymmetric, assertion(client_keys["RS384"], "RS384", kid=None))
    assert refused.status_code == 401 and "kid" in refused.json["error_description"]


def test_private_key_jwt_signed_with_an_unregistered_key_is_refused(asymmetric):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    refused = exchange_with_assertion(asymmetric, assertion(stranger, "RS384"))
    assert refused.status_code == 401 and refused.json["error"] == "invalid_client"


def test_a_confidential_client_cannot_pose_as_public(asymmetric):
    code, verifier = authorize_code(asymmetric, client_id="keyed")
    refused = exchange(asymmetric, code, verifier, client_id="keyed")
    assert refused.status_code == 401 and refused.json["error"] == "invalid_client"


def test_v2_scopes_are_dropped_when_the_server_has_no_permission_v2():
    app = create_sandbox(SandboxConfig(resources=small_record(), permission_v2=False))
    client = app.test_client()
    code, verifier = authorize_code(client, scope="launch patient/Condition.rs patient/Patient.read")
    assert exchange(client, code, verifier).json["scope"] == "launch patient/Patient.read"
