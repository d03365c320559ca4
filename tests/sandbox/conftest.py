"""Fixtures for the sandbox EHR tests: a small hand-made record and a helper that launches.

The bundled characters are never used here; each test states the few resources it needs.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox import SandboxClient, SandboxConfig, create_sandbox

BASE = "http://localhost/fhir"
REDIRECT = "http://127.0.0.1:8100/callback"
READ_SCOPES = ("launch openid fhirUser offline_access patient/Patient.read patient/Condition.read "
               "patient/Observation.read patient/MedicationRequest.read patient/Medication.read "
               "patient/CareTeam.read patient/Practitioner.read patient/Provenance.read")
WRITE_SCOPES = READ_SCOPES + " patient/CarePlan.* patient/Goal.* patient/Provenance.write " \
                             "patient/Condition.write patient/DocumentReference.write"
PROBLEM_LIST = "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"


def condition(cid: str, patient: str, category: str = "problem-list-item", onset: str = "2020-01-01",
              **extra) -> dict:
    return {
        "resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{patient}"},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": category}]}],
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"text": cid}, "onsetDateTime": onset, **extra,
    }


def observation(oid: str, patient: str) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "subject": {"reference": f"Patient/{patient}"}, "code": {"text": "weight"},
            "effectiveDateTime": "2024-05-01"}


def small_record() -> list[dict]:
    return [
        {"resourceType": "Patient", "id": "p1", "name": [{"given": ["Ava"], "family": "Lee"}],
         "birthDate": "2015-03-02", "gender": "female",
         "identifier": [{"system": "urn:mrn", "value": "MRN-001", "type": {"coding": [{"code": "MR"}]}}]},
        {"resourceType": "Patient", "id": "p2", "name": [{"given": ["Ben"], "family": "Cruz"}],
         "birthDate": "2010-07-14", "gender": "male", "identifier": [{"system": "urn:mrn", "value": "MRN-002"}]},
        {"resourceType": "Practitioner", "id": "dr1", "name": [{"prefix": ["Dr."], "given": ["Maya"],
                                                                 "family": "Okafor"}]},
        {"resourceType": "PractitionerRole", "id": "role1", "practitioner": {"reference": "Practitioner/dr1"},
         "specialty": [{"text": "Pediatric neurology"}]},
        {"resourceType": "Medication", "id": "med1", "code": {"text": "levetiracetam"}},
        condition("c1", "p1", onset="2019-05-01"),
        condition("c2", "p1", "health-concern", onset="2021-02-01"),
        condition("c3", "p1", "encounter-diagnosis", onset="2023-09-01"),
        condition("c9", "p2"),
        {"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
         "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": "Medication/med1"},
         "authoredOn": "2024-01-10"},
        {"resourceType": "CareTeam", "id": "ct1", "status": "active", "subject": {"reference": "Patient/p1"},
         "participant": [{"member": {"reference": "Practitioner/dr1"}}]},
        {"resourceType": "Provenance", "id": "prov1", "recorded": "2024-01-10T10:00:00Z",
         "target": [{"reference": "Condition/c1"}], "agent": [{"who": {"reference": "Practitioner/dr1"}}]},
        {"resourceType": "CarePlan", "id": "cp1", "status": "active", "intent": "plan",
         "subject": {"reference": "Patient/p1"},
         "identifier": [{"system": "urn:spoc", "value": "plan-1"}]},
        *[observation(f"o{n}", "p1") for n in range(7)],
    ]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Launched:
    """The result of one EHR launch through the sandbox: the token response and its bearer header."""

    token: dict

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token['access_token']}"}


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(resources=small_record())


@pytest.fixture
def app(config):
    sandbox = create_sandbox(config)
    sandbox.testing = True
    return sandbox


@pytest.fixture
def client(app):
    return app.test_client()


def issue_launch(client, patient: str = "p1", user: str = "dr1") -> str:
    return client.post("/_sandbox/launches", json={"patient": patient, "user": user}).json["launch"]


def authorize_params(challenge: str, **overrides) -> dict[str, str]:
    params = {"response_type": "code", "client_id": "spoc-demo", "redirect_uri": REDIRECT,
              "scope": READ_SCOPES, "state": "st-" + secrets.token_hex(8), "aud": BASE,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def authorize_code(client, patient: str = "p1", scope: str = READ_SCOPES, **overrides) -> tuple[str, str]:
    """Run /auth/authorize for an EHR launch; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge, scope=scope, launch=issue_launch(client, patient), **overrides)
    response = client.get("/auth/authorize", query_string=params)
    assert response.status_code == 302, response.text
    reply = query_of(response.headers["Location"])
    assert reply["state"] == params["state"]
    return reply["code"], verifier


def exchange(client, code: str, verifier: str, **extra):
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT, "client_id": "spoc-demo", **extra}
    return client.post("/auth/token", data=form)


@pytest.fixture
def launch(client) -> Callable[..., Launched]:
    def launch_as(patient: str = "p1", scope: str = READ_SCOPES) -> Launched:
        code, verifier = authorize_code(client, patient, scope)
        response = exchange(client, code, verifier)
        assert response.status_code == 200, response.text
        return Launched(response.json)

    return launch_as


def confidential(client_id: str, **fields) -> SandboxClient:
    return SandboxClient(client_id, (REDIRECT,), **fields)
