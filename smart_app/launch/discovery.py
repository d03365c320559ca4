"""SMART discovery: `{iss}/.well-known/smart-configuration`, endpoints pinned to the tenant (R3-R5).

Layer: launch. One GET per issuer, cached for a few minutes in the process; likewise the issuer's
id_token keys (its `jwks_uri`), fetched anew when a token names a key the cached set lacks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import FhirAccessError, LaunchError
from joserfc.jwk import KeySet

from ..fhir.bodies import parse_ehr_json
from ..tenants import Tenant

CACHE_SECONDS = 300
# A token whose key is not in the cached set makes the keys be fetched again (the EHR rotated them), but
# not more often than this: forged tokens must not turn the app into a JWKS hammer.
KEYS_REFETCH_AFTER_S = 30


@dataclass(frozen=True, slots=True)
class SmartConfiguration:
    authorization_endpoint: str
    token_endpoint: str
    issuer: str | None
    jwks_uri: str | None
    capabilities: frozenset[str]
    code_challenge_methods: tuple[str, ...]

    @property
    def permission_v2(self) -> bool:
        return "permission-v2" in self.capabilities

    @property
    def authorize_post(self) -> bool:
        return "authorize-post" in self.capabilities


def configuration_from(document: Any, tenant: Tenant) -> SmartConfiguration:
    """Validate a discovery document against the tenant's pinned hosts. Raises LaunchError."""
    if not isinstance(document, Mapping):
        raise LaunchError("The EHR's SMART configuration is not a JSON object.")
    base = tenant.iss.rstrip("/") + "/"
    endpoints = {}
    for key in ("authorization_endpoint", "token_endpoint"):
        value = document.get(key)
        if not isinstance(value, str) or not value:
            raise LaunchError(f"The EHR's SMART configuration has no {key}.")
        endpoints[key] = _pinned(urljoin(base, value), tenant, key)  # R4: relative URLs resolved first
    jwks = document.get("jwks_uri")
    capabilities = document.get("capabilities")
    methods = document.get("code_challenge_methods_supported")
    issuer = document.get("issuer")
    return SmartConfiguration(
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        issuer=issuer if isinstance(issuer, str) and issuer else None,
        jwks_uri=_pinned(urljoin(base, jwks), tenant, "jwks_uri") if isinstance(jwks, str) and jwks else None,
        # R5: unknown capability strings are kept and ignored, never fatal
        capabilities=frozenset(c for c in capabilities if isinstance(c, str)) if isinstance(capabilities, list) else frozenset(),
        code_challenge_methods=tuple(m for m in methods if isinstance(m, str)) if isinstance(methods, list) else (),
    )


def _pinned(url: str, tenant: Tenant, what: str) -> str:
    parts = urlsplit(url)
    iss_scheme = urlsplit(tenant.iss).scheme
    if parts.netloc.lower() not in tenant.pinned_hosts():
        raise LaunchError(f"The EHR's {what} points to a server that is not configured for this EHR.")
    if parts.scheme != "https" and not (parts.scheme == iss_scheme == "http"):
        raise LaunchError(f"The EHR's {what} does not use HTTPS.")
    return url


class DiscoveryClient:
    """Fetches and caches each tenant's SMART configuration, and each issuer's id_token keys."""

    def __init__(self, *, timeout_s: float, http_get: Callable[..., requests.Response] = requests.get,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self.http_get = http_get
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, SmartConfiguration]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}
        self._lock = threading.Lock()

    def key_set(self, jwks_uri: str, *, fresh: bool = False) -> KeySet:
        """The keys at `jwks_uri` (a tenant's pinned `jwks_uri`), cached like the configuration. `fresh`
        asks again unless the cached set is younger than KEYS_REFETCH_AFTER_S. Raises requests,
        FhirAccessError or ValueError errors: the caller says the token could not be verified."""
        now = self._monotonic()
        with self._lock:
            cached = self._keys.get(jwks_uri)
        if cached and now - cached[0] < (KEYS_REFETCH_AFTER_S if fresh else CACHE_SECONDS):
            return cached[1]
        keys = KeySet.import_key_set(parse_ehr_json(self.http_get(jwks_uri, timeout=self.timeout_s).content))
        with self._lock:
            self._keys[jwks_uri] = (now, keys)
        return keys

    def for_tenant(self, tenant: Tenant) -> SmartConfiguration:
        with self._lock:
            cached = self._cache.get(tenant.key)
        if cached and self._monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        url = tenant.iss.rstrip("/") + "/.well-known/smart-configuration"
        try:
            response = self.http_get(url, headers={"Accept": "application/json"}, timeout=self.timeout_s)
        except requests.RequestException as err:
            raise LaunchError("The EHR's SMART configuration could not be reached.") from err
        if response.status_code != 200:
            raise LaunchError(f"The EHR's SMART configuration answered with HTTP {response.status_code}.")
        try:
            document = parse_ehr_json(response.content)
        except FhirAccessError:
            raise LaunchError("The EHR's SMART configuration could not be read as JSON.") from None
        configuration = configuration_from(document, tenant)
        with self._lock:
            self._cache[tenant.key] = (self._monotonic(), configuration)
        return configuration
