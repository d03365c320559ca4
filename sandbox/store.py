"""The sandbox's in-memory FHIR resource store, versioned, behind one lock.

Layer: sandbox. Imports: stdlib only.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex[:20]


@dataclass(frozen=True)
class Gone:
    """What a read of a deleted resource finds."""

    version_id: str


class ResourceStore:
    """Current and past versions of every resource, keyed by (type, id).

    Readers get deep copies, so nothing outside the lock can change a stored resource.
    """

    def __init__(self, resources: list[dict] = (), *, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.lock = threading.RLock()
        self.now = now
        self._current: dict[tuple[str, str], dict | Gone] = {}
        self._of_type: dict[str, dict[str, dict | Gone]] = {}  # the same, by type: a search scans one type
        self._history: dict[tuple[str, str], list[dict]] = {}
        for resource in resources:
            self.put(resource, keep_meta=True)

    @contextmanager
    def locked(self) -> Iterator[ResourceStore]:
        with self.lock:
            yield self

    def get(self, resource_type: str, resource_id: str) -> dict | Gone | None:
        with self.lock:
            found = self._current.get((resource_type, resource_id))
            return found if isinstance(found, Gone) else copy.deepcopy(found)

    def version(self, resource_type: str, resource_id: str, version_id: str) -> dict | None:
        with self.lock:
            for resource in self._history.get((resource_type, resource_id), ()):
                if resource["meta"]["versionId"] == version_id:
                    return copy.deepcopy(resource)
            return None

    def resolve(self, reference: str) -> dict | None:
        """The current resource a relative "Type/id" reference points at, if any."""
        parts = reference.split("/")
        if len(parts) < 2:
            return None
        found = self.get(parts[-2], parts[-1])
        return None if isinstance(found, Gone) else found

    def peek(self, reference: str) -> dict | None:
        """`resolve` without copying: for matching and includes only, never mutate the result.

        Safe for the same reason as `scan`: a stored version is never changed in place.
        """
        parts = reference.split("/")
        if len(parts) < 2:
            return None
        with self.lock:
            found = self._current.get((parts[-2], parts[-1]))
        return found if isinstance(found, dict) else None

    def all_of(self, resource_type: str) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(r) for r in self._of_type.get(resource_type, {}).values() if not isinstance(r, Gone)]

    def types(self) -> set[str]:
        with self.lock:
            return {t for t, held in self._of_type.items() if any(not isinstance(r, Gone) for r in held.values())}

    def put(self, resource: dict, *, keep_meta: bool = False) -> dict:
        """Store a new version (version 1 when new); returns the stored copy."""
        stored = copy.deepcopy(resource)
        stored.setdefault("id", new_id())
        key = (stored["resourceType"], stored["id"])
        with self.lock:
            history = self._history.setdefault(key, [])
            meta = stored.setdefault("meta", {})
            meta["versionId"] = str(len(history) + 1)
            if not (keep_meta and meta.get("lastUpdated")):
                meta["lastUpdated"] = instant(self.now())
            history.append(stored)
            self._current[key] = stored
            self._of_type.setdefault(key[0], {})[key[1]] = stored
            return copy.deepcopy(stored)

    def delete(self, resource_type: str, resource_id: str) -> bool:
        with self.lock:
            key = (resource_type, resource_id)
            if not isinstance(self._current.get(key), dict):
                return False
            self._current[key] = self._of_type[resource_type][resource_id] = Gone(str(len(self._history[key]) + 1))
            return True

    def scan(self, resource_type: str) -> list[dict]:
        """The current resources of a type without copying: for matching only, never mutate them.

        Safe because a stored version is never changed in place; `put` stores a new dict.
        """
        with self.lock:
            return [r for r in self._of_type.get(resource_type, {}).values() if isinstance(r, dict)]
