"""What an EHR's FHIR server says it can do, read from its CapabilityStatement (`/metadata`).

Layer: FHIR out. Total: a missing or malformed statement gives `Capabilities.unknown()`, which answers
"no" to every question, so the app only does what the server has said it supports (R40, R46).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from smart_app.errors import FhirAccessError, TokenExpired
from smart_app.fhir.gateway import FhirReader


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Resource types and the interactions the server lists for each (`search-type`, `read`, `create`...)."""

    known: bool = False
    interactions: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    search_params: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    system_interactions: frozenset[str] = frozenset()
    fhir_version: str = ""
    conditional_create: frozenset[str] = frozenset()  # types whose statement says conditionalCreate: true

    @classmethod
    def unknown(cls) -> Capabilities:
        return cls()

    @classmethod
    def from_statement(cls, statement: object) -> Capabilities:
        if not isinstance(statement, Mapping) or statement.get("resourceType") != "CapabilityStatement":
            return cls.unknown()
        rest = _server_rest(statement.get("rest"))
        if rest is None:
            return cls.unknown()
        interactions: dict[str, frozenset[str]] = {}
        search_params: dict[str, frozenset[str]] = {}
        conditional: set[str] = set()
        for resource in _dicts(rest.get("resource")):
            resource_type = resource.get("type")
            if not isinstance(resource_type, str) or not resource_type:
                continue
            interactions[resource_type] = _codes(resource.get("interaction"), "code")
            search_params[resource_type] = _codes(resource.get("searchParam"), "name")
            if resource.get("conditionalCreate") is True:
                conditional.add(resource_type)
        version = statement.get("fhirVersion")
        return cls(
            known=True,
            interactions=MappingProxyType(interactions),
            search_params=MappingProxyType(search_params),
            system_interactions=_codes(rest.get("interaction"), "code"),
            fhir_version=version if isinstance(version, str) else "",
            conditional_create=frozenset(conditional),
        )

    def supports(self, resource_type: str, interaction: str) -> bool:
        return interaction in self.interactions.get(resource_type, frozenset())

    def supports_search(self, resource_type: str) -> bool:
        return self.supports(resource_type, "search-type")

    def supports_read(self, resource_type: str) -> bool:
        return self.supports(resource_type, "read")

    def can_create(self, resource_type: str) -> bool:
        return self.supports(resource_type, "create")

    def can_update(self, resource_type: str) -> bool:
        return self.supports(resource_type, "update")

    def offers_conditional_create(self, resource_type: str) -> bool:
        """The server says it honours If-None-Exist for this type (CapabilityStatement conditionalCreate)."""
        return resource_type in self.conditional_create

    def search_param_names(self, resource_type: str) -> frozenset[str]:
        return self.search_params.get(resource_type, frozenset())

    @property
    def supports_transaction(self) -> bool:
        return "transaction" in self.system_interactions

    @property
    def supports_batch(self) -> bool:
        return "batch" in self.system_interactions


def fetch_capabilities(gateway: FhirReader) -> Capabilities:
    """Read `/metadata` once (the gateway caches it). An unreadable statement is 'unknown', not an error."""
    try:
        return Capabilities.from_statement(gateway.read("metadata"))
    except TokenExpired:
        raise
    except FhirAccessError:
        return Capabilities.unknown()


def _server_rest(rest: object) -> Mapping[str, Any] | None:
    entries = _dicts(rest)
    servers = [entry for entry in entries if entry.get("mode") == "server"]
    return (servers or entries or [None])[0]


def _codes(items: object, key: str) -> frozenset[str]:
    return frozenset(item[key] for item in _dicts(items) if isinstance(item.get(key), str))


def _dicts(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
