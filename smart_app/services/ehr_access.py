"""FHIR access for a launch, for the services: one gateway per launch (so a launch never repeats a
request, R45), the site's query profile, capabilities read once per site, tokens refreshed behind the
gateway.

Layer: services (internal). Knows nothing of Flask. Only services hold an EhrAccess.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

from ..errors import SmartAppError
from ..fhir.capabilities import Capabilities
from ..fhir.gateway import FhirGateway
from ..fhir.queries import QueryProfile
from ..launch.oauth import ClientKeys
from ..launch.tokens import AccessTokens
from ..session import LaunchSession, SessionStore
from ..tenants import Tenant

MAX_LIVE_GATEWAYS = 256
MAX_REMEMBERED_BYTES = 256 * 1024 * 1024  # per process: ~25 launches of a 10,000-resource patient
CAPABILITIES_TTL_S = 600

_open_reads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fhir-capabilities")


def profile_for(tenant: Tenant) -> QueryProfile:
    q = tenant.quirks
    return QueryProfile(
        include_supported=q.include_supported,
        condition_categories_separately=q.condition_categories_separately,
        page_size=q.page_size,
        max_pages=q.max_pages,
    )


def _recent(read: tuple[float, Capabilities] | None) -> bool:
    """A statement read (when, what) within CAPABILITIES_TTL_S."""
    return read is not None and time.monotonic() - read[0] < CAPABILITIES_TTL_S


def forget_least_recent(gateways: OrderedDict[str, FhirGateway], max_count: int, max_bytes: int) -> None:
    """Drop the least recently used gateways (never the newest) while there are more than `max_count`
    or the answers they remember come to more than `max_bytes`. A launch whose gateway was dropped gets
    a new one, which asks the EHR again."""
    remembered = sum(gateway.remembered_bytes for gateway in gateways.values())
    while len(gateways) > 1 and (len(gateways) > max_count or remembered > max_bytes):
        _, oldest = gateways.popitem(last=False)
        remembered -= oldest.remembered_bytes


class EhrAccess:
    def __init__(self, sessions: SessionStore, keys: ClientKeys, *, timeout_s: float) -> None:
        self.sessions = sessions
        self.keys = keys
        self.timeout_s = timeout_s
        self._gateways: OrderedDict[str, FhirGateway] = OrderedDict()
        self._capabilities: dict[str, tuple[float, Capabilities]] = {}
        self._early_reads: dict[str, Future[Capabilities | None]] = {}
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
            forget_least_recent(self._gateways, MAX_LIVE_GATEWAYS, MAX_REMEMBERED_BYTES)
            return gateway

    def read(self, launch: LaunchSession, tenant: Tenant, reference: str) -> dict | None:
        """One resource of this launch's EHR, or None when it cannot be read (or is not under its base)."""
        gateway = self.gateway(launch, tenant)
        if "://" in reference and not gateway.owns(reference):
            return None
        try:
            return gateway.read(reference)
        except SmartAppError:
            return None

    def known_capabilities(self, tenant: Tenant) -> Capabilities | None:
        """The site's capabilities as last read, however long ago; None before the first read."""
        with self._lock:
            cached = self._capabilities.get(tenant.key)
        return cached[1] if cached else None

    def capabilities(self, tenant: Tenant, gateway: FhirGateway, *, fresh: bool = False) -> Capabilities:
        """The site's capabilities, read at most CAPABILITIES_TTL_S ago; `fresh`: read now, for a filing,
        whose way of writing (transactions, conditional creates) rests on what the EHR says today. A
        fresh read that fails falls back on the last one."""
        with self._lock:
            cached = self._capabilities.get(tenant.key)
            early = self._early_reads.get(tenant.key)
        if fresh:
            gateway.forget_read("metadata")
        elif _recent(cached):
            return cached[1]
        elif early is not None:
            read_openly = early.result()  # never raises, and times out with the EHR's own timeout
            if read_openly is not None:
                return read_openly
        try:
            capabilities = Capabilities.from_statement(gateway.read("metadata"))
        except SmartAppError:
            if fresh and cached:
                return cached[1]
            return Capabilities.unknown()  # conservative: try the searches, let each fail alone
        self._remember(tenant, capabilities)
        return capabilities

    def read_capabilities_early(self, tenant: Tenant) -> None:
        """Start reading the site's CapabilityStatement when it is not known, while the browser is away
        at the EHR's authorize endpoint: the first launch at a site (and the first after
        CAPABILITIES_TTL_S) then sends the searches it chooses with the others, not one round after
        them. Read without a token, as a FHIR server serves `metadata` to anyone; from one that does
        not, `capabilities` reads it again with the launch's token."""
        with self._lock:
            if _recent(self._capabilities.get(tenant.key)) or tenant.key in self._early_reads:
                return
            self._early_reads[tenant.key] = _open_reads.submit(self._read_openly, tenant)

    def _read_openly(self, tenant: Tenant) -> Capabilities | None:
        try:
            statement = FhirGateway(tenant.iss, None, timeout_s=self.timeout_s, max_attempts=1).read("metadata")
            capabilities = Capabilities.from_statement(statement)
        except SmartAppError:
            return None
        else:
            self._remember(tenant, capabilities)
            return capabilities
        finally:
            with self._lock:
                del self._early_reads[tenant.key]

    def _remember(self, tenant: Tenant, capabilities: Capabilities) -> None:
        with self._lock:
            self._capabilities[tenant.key] = (time.monotonic(), capabilities)
