"""The live state of one sandbox instance, shared by its blueprints.

Layer: sandbox. Holds the config, the store, the token registry, the fault book, the FHIR request
log, the patient-portal sessions, the page cursors and the matched result lists behind them;
reached through `sandbox_state()` inside a request.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import current_app, request
from joserfc.jwk import RSAKey

from sandbox.config import Fault, SandboxConfig
from sandbox.search import Query
from sandbox.store import ResourceStore
from sandbox.tokens import TokenRegistry

EXTENSION = "sandbox"
KEPT_RESULT_LISTS = 256  # page cursors whose matched result list is kept; older ones are searched again


class FaultBook:
    """Injected faults with how many times each still fires, matched in order."""

    def __init__(self, faults: list[Fault] = ()):
        self._lock = threading.Lock()
        self._armed: list[list] = []
        self.arm(faults)

    def arm(self, faults: list[Fault]) -> None:
        with self._lock:
            self._armed = [[fault, fault.times, fault.after] for fault in faults]

    def take(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for armed in self._armed:
                fault, remaining, let_through = armed
                if remaining == 0 or fault.method.upper() != method.upper():
                    continue
                if re.search(fault.path_regex, target):
                    if let_through > 0:
                        armed[2] = let_through - 1
                        continue
                    if remaining > 0:
                        armed[1] = remaining - 1
                    return fault
        return None


class RequestLog:
    """Method, path, query, status and time of every /fhir request (no headers, no bodies); the same
    kind of log keeps the grant type and status of every token request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[dict] = []

    def add(self, entry: dict) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class PortalSessions:
    """Signed-in patient-portal sessions: a random cookie value -> the portal account id."""

    def __init__(self):
        self._lock = threading.Lock()
        self._accounts: dict[str, str] = {}

    def sign_in(self, account_id: str) -> str:
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._accounts[session] = account_id
        return session

    def account_id(self, session: str | None) -> str | None:
        with self._lock:
            return self._accounts.get(session) if session else None

    def sign_out(self, session: str | None) -> None:
        with self._lock:
            self._accounts.pop(session or "", None)


@dataclass(frozen=True)
class Cursor:
    query: Query
    offset: int
    page_size: int


@dataclass(frozen=True)
class MatchedResults:
    """A search's whole matched list, kept so that its further pages are slices of it.

    `patient` is the caller's patient context the list was filtered for (None: no patient context).
    The stored resource dicts are never changed in place (the store puts new ones), so holding them
    is safe; pages are deep-copied when sent.
    """

    patient: str | None
    resources: tuple[dict, ...]


class ResultLists:
    """The matched list per page cursor, least recently used first out."""

    def __init__(self, capacity: int = KEPT_RESULT_LISTS):
        self._lock = threading.Lock()
        self._capacity = capacity
        self._lists: OrderedDict[str, MatchedResults] = OrderedDict()

    def keep(self, cursor_id: str, results: MatchedResults) -> None:
        with self._lock:
            self._lists[cursor_id] = results
            self._lists.move_to_end(cursor_id)
            while len(self._lists) > self._capacity:
                self._lists.popitem(last=False)

    def get(self, cursor_id: str) -> MatchedResults | None:
        with self._lock:
            found = self._lists.get(cursor_id)
            if found is not None:
                self._lists.move_to_end(cursor_id)
            return found

    def __len__(self) -> int:
        with self._lock:
            return len(self._lists)


@dataclass
class SandboxState:
    config: SandboxConfig
    store: ResourceStore
    tokens: TokenRegistry = field(default_factory=TokenRegistry)
    faults: FaultBook = field(default_factory=FaultBook)
    log: RequestLog = field(default_factory=RequestLog)
    token_log: RequestLog = field(default_factory=RequestLog)  # /auth/token: grant type and status only
    portal: PortalSessions = field(default_factory=PortalSessions)
    _cursors: dict[str, Cursor] = field(default_factory=dict)
    results: ResultLists = field(default_factory=ResultLists)
    _signing_key: RSAKey | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remember_cursor(self, cursor: Cursor, results: MatchedResults | None = None) -> str:
        """A new cursor id for `cursor`; with `results`, its page is a slice of them while they are kept."""
        cursor_id = secrets.token_urlsafe(12)
        with self._lock:
            self._cursors[cursor_id] = cursor
        if results is not None:
            self.results.keep(cursor_id, results)
        return cursor_id

    def cursor(self, cursor_id: str) -> Cursor | None:
        with self._lock:
            return self._cursors.get(cursor_id)

    def signing_key(self) -> RSAKey:
        """The RSA key id_tokens are signed with, made on first use (key generation is slow)."""
        with self._lock:
            if self._signing_key is None:
                self._signing_key = RSAKey.generate_key(
                    2048, parameters={"kid": "sandbox-id-token", "use": "sig", "alg": "RS256"})
            return self._signing_key


def sandbox_state() -> SandboxState:
    return current_app.extensions[EXTENSION]


def host_url() -> str:
    """This request's scheme and host, so every URL we produce works on any port."""
    return request.host_url.rstrip("/")


def fhir_base() -> str:
    return host_url() + "/fhir"
