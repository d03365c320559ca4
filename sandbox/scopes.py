"""SMART scopes the sandbox understands (v1 and v2), and what a granted set allows.

Layer: sandbox. Imports: stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTEXT_SCOPES = frozenset(
    {"launch", "launch/patient", "launch/encounter", "openid", "fhirUser", "offline_access", "online_access"}
)
_V1 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$")
_V2 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(c?r?u?d?s?)(\?.*)?$")
_V1_LETTERS = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True)
class ResourceScope:
    level: str  # patient | user | system
    resource_type: str  # a type or "*"
    letters: str  # subset of "cruds"

    def allows(self, resource_type: str, letter: str) -> bool:
        return self.resource_type in ("*", resource_type) and letter in self.letters


@dataclass(frozen=True)
class Grant:
    """The scopes a token carries, in the order they were requested."""

    scopes: tuple[str, ...]

    @property
    def resource_scopes(self) -> tuple[ResourceScope, ...]:
        return tuple(s for s in map(parse_resource_scope, self.scopes) if s)

    def allows(self, resource_type: str, letter: str) -> bool:
        return any(s.allows(resource_type, letter) for s in self.resource_scopes)

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def __str__(self) -> str:
        return " ".join(self.scopes)


def parse_resource_scope(scope: str, *, v2: bool = True) -> ResourceScope | None:
    if match := _V1.match(scope):
        level, resource_type, action = match.groups()
        return ResourceScope(level, resource_type, _V1_LETTERS[action])
    if v2 and (match := _V2.match(scope)) and match.group(3):
        level, resource_type, letters, _refinement = match.groups()
        return ResourceScope(level, resource_type, letters)
    return None


def understood(requested: str, *, permission_v2: bool) -> Grant:
    """Keep the requested scopes this server understands; drop the rest silently."""
    kept = []
    for scope in requested.split():
        known = scope in CONTEXT_SCOPES or parse_resource_scope(scope, v2=permission_v2)
        if known and scope not in kept:
            kept.append(scope)
    return Grant(tuple(kept))


def narrowed(grant: Grant, requested: str | None) -> Grant:
    """On refresh a client may ask for a subset of what it was granted, never more."""
    if not requested:
        return grant
    return Grant(tuple(s for s in requested.split() if s in grant.scopes))
