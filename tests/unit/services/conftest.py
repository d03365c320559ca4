"""Services over in-memory fakes: an SQLite store in memory and an EHR answering from the sandbox's
characters without HTTP. These run in seconds; the e2e suites prove the same paths over the wire.

The fake EHR searches with the sandbox's own matching rules (patient compartment, tokens, dates), so a
section holds what a strict server would return; a test can make a resource type fail, or add and
change resources between launches as a real chart would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.pool import StaticPool

from sandbox.data.characters import CHILD_ID, COORDINATOR_USER_ID, PHYSICIAN_USER_ID, build_resources
from sandbox.search import matches, parse_query
from smart_app import build_services
from smart_app.audit import AuditTrail
from smart_app.clock import Clock
from smart_app.config import Settings
from smart_app.errors import FhirAccessError
from smart_app.fhir.capabilities import Capabilities
from smart_app.fhir.gateway import SearchResult, WriteResponse
from smart_app.security import TokenCipher
from smart_app.session import LaunchSession, SessionStore
from smart_app.store.schema import metadata
from smart_app.tenants import Quirks, Tenant
from tests.support import TODAY

ISS = "https://ehr.test/fhir"
V2_SCOPES = ("launch openid fhirUser patient/*.rs patient/CarePlan.cu patient/Goal.cu patient/Task.cu "
             "patient/CareTeam.cu patient/Provenance.cu patient/DocumentReference.c")


class SteppingClock(Clock):
    """A pinned clock that a test moves forward by hand."""

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)


class FakeGateway:
    """What the services ask of a FHIR gateway, over a dict of resources (no HTTP)."""

    concurrency = 4

    def __init__(self, ehr: FakeEhr) -> None:
        self.ehr = ehr
        self.base_url = ISS

    def owns(self, url: str) -> bool:
        return url.startswith(ISS + "/")

    def relative(self, url: str) -> str:
        return url.removeprefix(ISS + "/")

    def forget_reads(self) -> None:
        pass

    def search(self, resource_type: str, params, *, max_pages: int) -> SearchResult:
        self.ehr.requests.append((resource_type, tuple(params)))
        if resource_type in self.ehr.failing:
            raise FhirAccessError("The EHR had a problem answering (error 500).")
        query = parse_query(resource_type, params)
        found = [r for r in self.ehr.of_type(resource_type) if matches(r, query, self.ehr.resolve)]
        return SearchResult(tuple(found), (), (), True, 1, None)

    def read(self, reference: str) -> dict[str, Any]:
        reference = reference.removeprefix(ISS + "/")
        if reference == "metadata":
            return self.ehr.statement
        if reference.split("/")[0] in self.ehr.failing or reference not in self.ehr.resources:
            raise FhirAccessError("The EHR has no such record.")
        return self.ehr.resources[reference]

    def create(self, resource, *, if_none_exist: str | None = None) -> WriteResponse:
        stored = {**resource, "id": f"new{next(self.ehr.ids)}", "meta": {"versionId": "1"}}
        self.ehr.put(stored)
        self.ehr.writes.append(("POST", stored["resourceType"]))
        return WriteResponse(201, stored, f"{stored['resourceType']}/{stored['id']}/_history/1", 'W/"1"')

    def update(self, resource, *, if_match: str | None = None) -> WriteResponse:
        key = f"{resource['resourceType']}/{resource['id']}"
        version = int((self.ehr.resources.get(key, {}).get("meta") or {}).get("versionId", "0")) + 1
        stored = {**resource, "meta": {"versionId": str(version)}}
        self.ehr.put(stored)
        self.ehr.writes.append(("PUT", stored["resourceType"]))
        return WriteResponse(201 if version == 1 else 200, stored, f"{key}/_history/{version}", f'W/"{version}"')


@dataclass
class FakeEhr:
    """The EHR access the services hold (EhrAccess), answering from memory."""

    resources: dict[str, dict] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    requests: list = field(default_factory=list)
    writes: list = field(default_factory=list)
    statement: dict = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def put(self, resource: dict) -> None:
        self.resources[f"{resource['resourceType']}/{resource['id']}"] = resource

    def of_type(self, resource_type: str) -> list[dict]:
        return [r for r in self.resources.values() if r["resourceType"] == resource_type]

    def resolve(self, reference: str) -> dict | None:
        return self.resources.get(reference)

    def gateway(self, launch, tenant) -> FakeGateway:
        return FakeGateway(self)

    def read(self, launch, tenant, reference: str) -> dict | None:
        try:
            return self.gateway(launch, tenant).read(reference)
        except FhirAccessError:
            return None

    def capabilities(self, tenant, gateway, *, fresh: bool = False) -> Capabilities:
        return Capabilities.from_statement(self.statement)


def capability_statement(*writable: str) -> dict:
    """A CapabilityStatement: every resource readable and searchable, `writable` ones created/updated."""
    types = sorted({r["resourceType"] for r in build_resources(TODAY)} | set(writable))
    return {"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "resource": [
        {"type": t, "interaction": [{"code": c} for c in ("read", "search-type")
                                    + (("create", "update") if t in writable else ())],
         "searchParam": [{"name": "_lastUpdated", "type": "date"}]} for t in types]}]}


@pytest.fixture
def clock() -> SteppingClock:
    pinned = Clock.pinned(TODAY)
    return SteppingClock(offset=pinned.offset)


@pytest.fixture
def ehr() -> FakeEhr:
    fake = FakeEhr(statement=capability_statement("DocumentReference", "Provenance"))
    for resource in build_resources(TODAY):
        fake.put(resource)
    return fake


@pytest.fixture
def engine():
    engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine, clock) -> SessionStore:
    return SessionStore(engine, TokenCipher((Fernet.generate_key().decode(),)), idle_timeout_s=900,
                        state_lifetime_s=600, clock=clock.now)


@pytest.fixture
def audit(engine, clock) -> AuditTrail:
    return AuditTrail(engine, clock)


@pytest.fixture
def services(engine, sessions, audit, clock, ehr, tmp_path):
    settings = Settings(tenants_file=tmp_path / "unused.toml", token_keys=(Fernet.generate_key().decode(),))
    return build_services(settings, engine, sessions, audit, clock, ehr=ehr)


@pytest.fixture
def tenant() -> Tenant:
    return Tenant(name="Test EHR", iss=ISS, client_id="spoc", redirect_uri="https://app.test/callback",
                  write_mode="note", quirks=Quirks())


def a_launch(user: str = COORDINATOR_USER_ID, *, role: str | None = "coordinator", patient: str = CHILD_ID,
             launch_id: str | None = None, scope: str = V2_SCOPES) -> LaunchSession:
    return LaunchSession(launch_id=launch_id or f"launch-{user}-{role}", iss=ISS, patient_id=patient,
                         fhir_user=f"{ISS}/Practitioner/{user}" if user else None, encounter_id=None,
                         need_patient_banner=True, intent=None, scope=scope, csrf_token="csrf", token_endpoint="",
                         expires_at=None, refreshed_at=None, token_version=1, has_refresh_token=False,
                         acting_role=role)


@pytest.fixture
def coordinator() -> LaunchSession:
    return a_launch(COORDINATOR_USER_ID, role="coordinator")


@pytest.fixture
def clinician() -> LaunchSession:
    return a_launch(PHYSICIAN_USER_ID, role="clinician")


def with_role(launch: LaunchSession, role: str | None) -> LaunchSession:
    return replace(launch, acting_role=role)
