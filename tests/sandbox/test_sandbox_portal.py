"""The sandbox's patient portal: a parent or a patient signs in and launches the app standalone, and
gets only their own patient's record, read-only, as a real EHR's portal would (SMART App Launch 2.2)."""

from __future__ import annotations

import re

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from sandbox import SandboxConfig, create_sandbox
from tests.sandbox.conftest import (
    BASE,
    authorize_params,
    exchange,
    issue_launch,
    pkce_pair,
    query_of,
)

ANA_USER = "sofia-rivera-relatedperson-mother"
KAREN_USER = "daniel-oconnor-relatedperson-mother"
FAMILY_SCOPES = "launch/patient openid fhirUser offline_access patient/*.rs"
GREEDY_SCOPES = ("launch/patient openid fhirUser patient/Patient.read patient/RelatedPerson.rs "
                 "patient/Condition.read user/*.read system/*.read patient/CarePlan.cruds patient/Goal.write "
                 "patient/Observation.* patient/Task.cu patient/CarePlan.rs")
FAMILY_HREF = "http://127.0.0.1:8100/launch/family?iss=http%3A%2F%2Flocalhost%2Ffhir"


@pytest.fixture
def client():
    """The sandbox with its bundled characters (and so the default portal accounts' people)."""
    app = create_sandbox(SandboxConfig())
    app.testing = True
    return app.test_client()


def sign_in(client, account: str):
    return client.post("/portal/sign-in", data={"account": account})


def authorize(client, scope: str = FAMILY_SCOPES, **extra) -> tuple[object, str]:
    """A standalone authorize request (no launch); returns the response and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    return client.get("/auth/authorize", query_string=authorize_params(challenge, scope=scope, **extra)), verifier


def standalone_token(client, scope: str = FAMILY_SCOPES, **extra) -> dict:
    response, verifier = authorize(client, scope, **extra)
    assert response.status_code == 302, response.text
    token = exchange(client, query_of(response.headers["Location"])["code"], verifier)
    assert token.status_code == 200, token.text
    return token.json


def id_token_claims(client, token: dict) -> dict:
    keys = KeySet.import_key_set(client.get("/auth/jwks").json)
    return jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims


def bearer(token: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


# --- the portal's pages ------------------------------------------------------------------------

def test_the_sign_in_page_lists_the_three_family_accounts_and_needs_no_password(client):
    page = client.get("/portal/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and "<title>Sign in · Northwind Health patient portal</title>" in page.text
    assert "<h1>Northwind Health patient portal</h1>" in page.text
    for account, name in (("ana-rivera", "Ana Lucía Rivera"), ("walter-hughes", "Walter Hughes"),
                          ("karen-oconnor", "Karen O&#39;Connor")):
        assert f'<input type="hidden" name="account" value="{account}">' in page.text
        assert f'data-testid="sign-in-{account}"' in page.text and name in page.text
    assert page.text.count('action="/portal/sign-in"') == 3
    assert "mother of Sofia Rivera" in page.text
    assert "sandbox" in page.text and "no password is needed" in page.text
    assert 'type="password"' not in page.text


def test_sign_in_sets_an_http_only_session_cookie_and_home_shows_the_app_tile(client):
    signed_in = sign_in(client, "ana-rivera")
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/portal/home"
    set_cookie = signed_in.headers["Set-Cookie"]
    assert set_cookie.startswith("sandbox_portal=")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    cookie = client.get_cookie("sandbox_portal")
    assert len(cookie.value) >= 32 and "ana-rivera" not in cookie.value  # a random token, not the account id
    home = client.get("/portal/home")
    assert home.status_code == 200 and home.headers["Cache-Control"] == "no-store"
    assert "Ana Lucía Rivera" in home.text and "mother of Sofia Rivera" in home.text
    assert f'href="{FAMILY_HREF}"' in home.text and ">Shared Plan of Care</a>" in home.text
    assert 'action="/portal/sign-out"' in home.text


def test_the_family_launch_url_can_be_configured():
    app = create_sandbox(SandboxConfig(app_family_launch_url="https://app.example/family/start"))
    client = app.test_client()
    sign_in(client, "walter-hughes")
    assert 'href="https://app.example/family/start?iss=http%3A%2F%2Flocalhost%2Ffhir"' in client.get(
        "/portal/home").text


def test_home_without_signing_in_goes_back_to_the_sign_in_page(client):
    home = client.get("/portal/home")
    assert home.status_code == 303 and home.headers["Location"] == "/portal/"
    client.set_cookie("sandbox_portal", "made-up-session")
    assert client.get("/portal/home").status_code == 303


def test_an_unknown_account_is_a_400_page_and_signs_nobody_in(client):
    refused = sign_in(client, "mallory")
    assert refused.status_code == 400 and "no portal account" in refused.text
    assert client.get_cookie("sandbox_portal") is None
    assert sign_in(client, "").status_code == 400


def test_the_patient_list_links_to_the_portal(client):
    assert 'href="/portal/"' in client.get("/ehr/").text
    assert ">Patient portal</a>" in client.get("/ehr/").text


# --- standalone launch by a portal user --------------------------------------------------------

def test_ana_launches_standalone_for_sofia_as_a_related_person_with_read_only_patient_scopes(client):
    sign_in(client, "ana-rivera")
    token = standalone_token(client, GREEDY_SCOPES, nonce="n-1")
    assert token["patient"] == "sofia-rivera" and token["need_patient_banner"] is True
    assert token["scope"].split() == ["launch/patient", "openid", "fhirUser", "patient/Patient.read",
                                      "patient/RelatedPerson.rs", "patient/Condition.read", "patient/CarePlan.rs"]
    claims = id_token_claims(client, token)
    assert claims["fhirUser"] == f"{BASE}/RelatedPerson/{ANA_USER}"
    assert claims["sub"] == ANA_USER and claims["iss"] == BASE and claims["aud"] == "spoc-demo"
    assert claims["nonce"] == "n-1"


def test_walter_launches_as_the_patient_himself(client):
    sign_in(client, "walter-hughes")
    token = standalone_token(client)
    assert token["patient"] == "walter-hughes"
    claims = id_token_claims(client, token)
    assert claims["fhirUser"] == f"{BASE}/Patient/walter-hughes" and claims["sub"] == "walter-hughes"


def test_a_refreshed_portal_token_keeps_its_patient_and_narrowed_scopes(client):
    sign_in(client, "ana-rivera")
    first = standalone_token(client, FAMILY_SCOPES + " user/*.read")
    refreshed = client.post("/auth/token", data={"grant_type": "refresh_token", "client_id": "spoc-demo",
                                                  "refresh_token": first["refresh_token"],
                                                  "scope": "openid fhirUser user/*.read patient/*.rs"}).json
    assert refreshed["patient"] == "sofia-rivera" and refreshed["scope"] == "openid fhirUser patient/*.rs"
    assert id_token_claims(client, refreshed)["fhirUser"].endswith(f"/RelatedPerson/{ANA_USER}")


def test_a_portal_user_asking_only_for_writes_or_user_scopes_is_refused_invalid_scope(client):
    sign_in(client, "ana-rivera")
    scope = "launch/patient openid fhirUser patient/CarePlan.write patient/Goal.cud user/*.read system/*.rs"
    response, _verifier = authorize(client, scope)
    reply = query_of(response.headers["Location"])
    assert reply["error"] == "invalid_scope" and "code" not in reply


# --- what a portal token can reach -------------------------------------------------------------

@pytest.fixture
def ana(client) -> dict:
    sign_in(client, "ana-rivera")
    return standalone_token(client, GREEDY_SCOPES)


def test_ana_reads_sofias_record_and_her_related_persons(client, ana):
    patient = client.get("/fhir/Patient/sofia-rivera", headers=bearer(ana))
    assert patient.status_code == 200 and patient.json["id"] == "sofia-rivera"
    related = client.get("/fhir/RelatedPerson", query_string={"patient": "sofia-rivera"}, headers=bearer(ana)).json
    ids = {e["resource"]["id"] for e in related["entry"]}
    assert ids == {ANA_USER, "sofia-rivera-relatedperson-father"}
    assert client.get(f"/fhir/RelatedPerson/{ANA_USER}", headers=bearer(ana)).status_code == 200
    patients = client.get("/fhir/Patient", headers=bearer(ana)).json
    assert [e["resource"]["id"] for e in patients["entry"]] == ["sofia-rivera"]


@pytest.mark.parametrize("path, query", [
    ("/fhir/Patient/daniel-oconnor", None),
    (f"/fhir/RelatedPerson/{KAREN_USER}", None),
    ("/fhir/Condition", {"patient": "daniel-oconnor"}),
    ("/fhir/Condition", {"subject": "Patient/walter-hughes"}),
    ("/fhir/RelatedPerson", {"patient": "daniel-oconnor"}),
])
def test_ana_gets_403_with_an_operation_outcome_for_another_patients_record(client, ana, path, query):
    refused = client.get(path, query_string=query, headers=bearer(ana))
    assert refused.status_code == 403 and refused.json["resourceType"] == "OperationOutcome"


def test_ana_can_write_nothing_even_where_she_asked_for_write_scopes(client, ana):
    plan = client.get("/fhir/CarePlan/sofia-rivera-careplan-complex-care", headers=bearer(ana)).json
    goal = {"resourceType": "Goal", "lifecycleStatus": "proposed", "description": {"text": "walk to school"},
            "subject": {"reference": "Patient/sofia-rivera"}}
    task = {"resourceType": "Task", "status": "requested", "intent": "order",
            "for": {"reference": "Patient/sofia-rivera"}}
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": goal, "request": {"method": "POST", "url": "Goal"}}]}
    attempts = [
        client.post("/fhir/Goal", json=goal, headers=bearer(ana)),
        client.post("/fhir/Task", json=task, headers=bearer(ana)),
        client.put(f"/fhir/CarePlan/{plan['id']}", json=plan, headers=bearer(ana)),
        client.delete(f"/fhir/CarePlan/{plan['id']}", headers=bearer(ana)),
        client.post("/fhir", json=bundle, headers=bearer(ana)),
    ]
    assert [a.status_code for a in attempts] == [403] * 5
    assert all(a.json["resourceType"] == "OperationOutcome" for a in attempts)
    assert client.get(f"/fhir/CarePlan/{plan['id']}", headers=bearer(ana)).json["meta"] == plan["meta"]


# --- the provider's picker, the explicit account parameter, sign-out ---------------------------

def test_without_a_portal_session_the_picker_offers_the_portal_accounts_too(client):
    picker, _verifier = authorize(client)
    assert picker.status_code == 200 and 'data-testid="pick-sofia-rivera"' in picker.text
    assert "Patient portal sign-in" in picker.text
    buttons = re.findall(r'<button[^>]*name="sandbox_portal_account"[^>]*value="([^"]+)"', picker.text)
    assert buttons == ["ana-rivera", "walter-hughes", "karen-oconnor"]
    assert picker.text.count('name="code_challenge"') == 2  # both forms re-post the authorize parameters


def test_the_sandbox_portal_account_parameter_signs_in_that_account(client):
    token = standalone_token(client, sandbox_portal_account="karen-oconnor")
    assert token["patient"] == "daniel-oconnor"
    assert id_token_claims(client, token)["fhirUser"] == f"{BASE}/RelatedPerson/{KAREN_USER}"


def test_an_unknown_portal_account_parameter_is_refused_not_the_picker(client):
    response, _verifier = authorize(client, sandbox_portal_account="nobody")
    assert response.status_code == 302
    reply = query_of(response.headers["Location"])
    assert reply["error"] == "invalid_request" and "code" not in reply


def test_sign_out_ends_the_session_and_authorize_shows_the_picker_again(client):
    sign_in(client, "ana-rivera")
    session = client.get_cookie("sandbox_portal").value
    assert authorize(client)[0].status_code == 302
    signed_out = client.post("/portal/sign-out")
    assert signed_out.status_code == 303 and signed_out.headers["Location"] == "/portal/"
    assert client.get_cookie("sandbox_portal") is None
    assert client.get("/portal/home").status_code == 303
    picker, _verifier = authorize(client)
    assert picker.status_code == 200 and 'data-testid="patient-picker"' in picker.text
    client.set_cookie("sandbox_portal", session)  # the old session value no longer signs anyone in
    assert authorize(client)[0].status_code == 200


def test_the_provider_ehr_launch_still_names_a_practitioner_even_with_a_portal_session(client):
    sign_in(client, "ana-rivera")
    verifier, challenge = pkce_pair()
    launch = issue_launch(client, "daniel-oconnor", "amara-okafor")
    scope = "launch launch/patient openid fhirUser patient/*.read user/*.read"  # the portal session must not matter
    params = authorize_params(challenge, scope=scope, launch=launch)
    response = client.get("/auth/authorize", query_string=params)
    token = exchange(client, query_of(response.headers["Location"])["code"], verifier).json
    assert token["patient"] == "daniel-oconnor" and "user/*.read" in token["scope"].split()
    assert id_token_claims(client, token)["fhirUser"] == f"{BASE}/Practitioner/amara-okafor"


# --- portal accounts set live ------------------------------------------------------------------

MISCONFIGURED = {"account_id": "mixed-up", "display": "Mixed Up", "user_type": "RelatedPerson",
                 "user_id": KAREN_USER, "patient_id": "sofia-rivera", "relation": "not Sofia's mother"}


def test_a_live_misconfigured_account_is_issued_as_configured_and_the_compartment_still_holds(client):
    changed = client.post("/_sandbox/config", json={"portal_accounts": [MISCONFIGURED]})
    assert changed.status_code == 200
    assert 'data-testid="sign-in-ana-rivera"' not in client.get("/portal/").text
    sign_in(client, "mixed-up")
    token = standalone_token(client)
    assert token["patient"] == "sofia-rivera"
    assert id_token_claims(client, token)["fhirUser"] == f"{BASE}/RelatedPerson/{KAREN_USER}"
    assert client.get(f"/fhir/RelatedPerson/{KAREN_USER}", headers=bearer(token)).status_code == 403


@pytest.mark.parametrize("accounts", [
    [{**MISCONFIGURED, "user_type": "Practitioner"}],
    [{k: v for k, v in MISCONFIGURED.items() if k != "patient_id"}],
    [{**MISCONFIGURED, "password": "x"}],
    [MISCONFIGURED, MISCONFIGURED],
    "mixed-up",
])
def test_malformed_live_portal_accounts_are_refused(client, accounts):
    refused = client.post("/_sandbox/config", json={"portal_accounts": accounts})
    assert refused.status_code == 400
    assert 'data-testid="sign-in-ana-rivera"' in client.get("/portal/").text
