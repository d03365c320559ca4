"""FHIR access for a launch: one gateway per launch (so a launch never repeats a request, R45),
the site's quirks, capabilities read once per site, tokens refreshed behind the gateway.

Layer: shell services. Knows nothing of Flask.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import date

from .audit import AuditTrail
from .errors import SmartAppError
from .fhir.capabilities import Capabilities
from .fhir.gateway import FhirGateway
from .fhir.queries import QueryProfile, fetch_sections
from .launch.oauth import ClientKeys
from .launch.tokens import AccessTokens
from .plan.fhir_text import human_name
from .plan.record import SECTION_KEYS, SectionFetch
from .plan.summary import PatientHeader, patient_header
from .session import LaunchSession, SessionStore
from .tenants import Tenant

MAX_LIVE_GATEWAYS = 256
CAPABILITIES_TTL_S = 600


def profile_for(tenant: Tenant) -> QueryProfile:
    q = tenant.quirks
    return QueryProfile(
        include_supported=q.include_supported,
        condition_categories_separately=q.condition_categories_separately,
        page_size=q.page_size,
        max_pages=q.max_pages,
    )


class EhrAccess:
    def __init__(self, sessions: SessionStore, keys: ClientKeys, audit: AuditTrail, *, timeout_s: float) -> None:
        self.sessions = sessions
        self.keys = keys
        self.audit = audit
        self.timeout_s = timeout_s
        self._gateways: OrderedDict[str, FhirGateway] = OrderedDict()
        self._capabilities: dict[str, tuple[float, Capabilities]] = {}
        self._lock = threading.Lock()

    def gateway(self, launch: LaunchSession, tenant: Tenant) -> FhirGateway:
        with self._lock:
            gateway = self._gateways.get(launch.launch_id)
            if gateway is not None:
                self._gateways.move_to_end(launch.launch_id)
                return gateway
            tokens = AccessTokens(self.sessions, launch, tenant, self.keys, timeout_s=self.timeout_s)
            gateway = FhirGateway(tenant.iss, tokens, timeout_s=self.timeout_s, concurrency=tenant.quirks.concurrency)
            self._gateways[launch.launch_id] = gateway
            while len(self._gateways) > MAX_LIVE_GATEWAYS:
                self._gateways.popitem(last=False)
            return gateway

    def user_name(self, launch: LaunchSession, tenant: Tenant) -> str:
        """The signed-in user's name from their fhirUser resource; "" when unknown or unreadable."""
        if not launch.fhir_user:
            return ""
        gateway = self.gateway(launch, tenant)
        if not gateway.owns(launch.fhir_user):
            return ""
        try:
            return human_name(gateway.read(launch.fhir_user).get("name"))
        except SmartAppError:
            return ""

    def patient_header(self, launch: LaunchSession, tenant: Tenant) -> PatientHeader | None:
        """The banner's facts from the Patient resource (read once per launch); None if unreadable."""
        try:
            patient = self.gateway(launch, tenant).read(f"Patient/{launch.patient_id}")
        except SmartAppError:
            return None
        return patient_header(SectionFetch("patient", (patient,)), patient_id=launch.patient_id)

    def encounter_belongs_to_patient(self, launch: LaunchSession, tenant: Tenant) -> bool:
        """Whether the launch encounter's subject is the launch patient (R20); False if unreadable."""
        try:
            encounter = self.gateway(launch, tenant).read(f"Encounter/{launch.encounter_id}")
        except SmartAppError:
            return False
        subject = encounter.get("subject") if isinstance(encounter.get("subject"), dict) else {}
        return subject.get("reference") in (f"Patient/{launch.patient_id}",
                                             f"{tenant.iss.rstrip('/')}/Patient/{launch.patient_id}")

    def capabilities(self, tenant: Tenant, gateway: FhirGateway) -> Capabilities:
        with self._lock:
            cached = self._capabilities.get(tenant.key)
        if cached and time.monotonic() - cached[0] < CAPABILITIES_TTL_S:
            return cached[1]
        try:
            capabilities = Capabilities.from_statement(gateway.read("metadata"))
        except SmartAppError:
            return Capabilities.unknown()  # conservative: try the searches, let each fail alone
        with self._lock:
            self._capabilities[tenant.key] = (time.monotonic(), capabilities)
        return capabilities

    def summary_sections(self, launch: LaunchSession, tenant: Tenant, *, today: date,
                         keys: Sequence[str] = SECTION_KEYS) -> Iterator[SectionFetch]:
        """The summary's sections for this launch's patient, each as soon as it is fetched."""
        gateway = self.gateway(launch, tenant)
        events = []
        try:
            for fetch in fetch_sections(gateway, launch.patient_id, profile_for(tenant), today=today,
                                        capabilities=lambda: self.capabilities(tenant, gateway), keys=keys):
                events.append({"action": "fhir-search", "outcome": "failure" if fetch.state == "failed" else "success",
                               "iss": launch.iss, "patient_id": launch.patient_id, "user": launch.fhir_user,
                               "launch_id": launch.launch_id, "section": fetch.key, "count": len(fetch.resources)})
                yield fetch
        finally:  # R63: one row per section, written together once the page has what it needs
            self.audit.record_many(events)
