"""Launch ids, authorization codes, access and refresh tokens and client-assertion ids.

Layer: sandbox. Imports: stdlib and sandbox.scopes only. Everything lives in memory under a lock.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sandbox.scopes import Grant

LAUNCH_LIFETIME_S = 600
CODE_LIFETIME_S = 60


@dataclass(frozen=True)
class LaunchContext:
    """What the chart knows when it launches the app (or, standalone, the picker or portal sign-in chose)."""

    patient: str | None = None
    user: str | None = None  # the FHIR id of the signed-in user, a resource of type user_type
    encounter: str | None = None
    need_patient_banner: bool = True
    user_type: str = "Practitioner"  # a portal user: "RelatedPerson" or "Patient"


@dataclass(frozen=True)
class Authorization:
    """What a code, an access token and a refresh token each stand for."""

    client_id: str
    grant: Grant
    context: LaunchContext
    nonce: str | None = None


@dataclass(frozen=True)
class PendingCode:
    authorization: Authorization
    redirect_uri: str
    code_challenge: str
    expires_at: float


@dataclass(frozen=True)
class _Expiring:
    authorization: Authorization
    expires_at: float


class TokenRegistry:
    """Single-use codes, rotating refresh tokens, expiring access tokens, never-reused jti."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._launches: dict[str, tuple[LaunchContext, float]] = {}
        self._codes: dict[str, PendingCode] = {}
        self._access: dict[str, _Expiring] = {}
        self._refresh: dict[str, Authorization] = {}
        self._jtis: dict[tuple[str, str], float] = {}

    def issue_launch(self, context: LaunchContext) -> str:
        launch_id = secrets.token_urlsafe(16)
        with self._lock:
            self._launches[launch_id] = (context, self._clock() + LAUNCH_LIFETIME_S)
        return launch_id

    def launch(self, launch_id: str) -> LaunchContext | None:
        with self._lock:
            found = self._launches.get(launch_id)
        if found is None or found[1] < self._clock():
            return None
        return found[0]

    def issue_code(self, authorization: Authorization, redirect_uri: str, code_challenge: str) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = PendingCode(
                authorization, redirect_uri, code_challenge, self._clock() + CODE_LIFETIME_S)
        return code

    def take_code(self, code: str) -> PendingCode | None:
        """The code's grant, once: a second attempt finds nothing."""
        with self._lock:
            pending = self._codes.pop(code, None)
        if pending is None or pending.expires_at < self._clock():
            return None
        return pending

    def issue_access(self, authorization: Authorization, lifetime_s: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._access[token] = _Expiring(authorization, self._clock() + lifetime_s)
        return token

    def access(self, token: str) -> Authorization | None:
        with self._lock:
            found = self._access.get(token)
        if found is None or found.expires_at <= self._clock():
            return None
        return found.authorization

    def issue_refresh(self, authorization: Authorization) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[token] = authorization
        return token

    def take_refresh(self, token: str, client_id: str) -> Authorization | None:
        """The refresh token's grant, once (rotation); bound to the client it was issued to."""
        with self._lock:
            found = self._refresh.get(token)
            if found is None or found.client_id != client_id:
                return None
            del self._refresh[token]
        return found

    def expire_all_access(self) -> None:
        with self._lock:
            self._access = {t: replace(a, expires_at=0.0) for t, a in self._access.items()}

    def revoke_all_refresh(self) -> None:
        with self._lock:
            self._refresh.clear()

    def use_jti(self, client_id: str, jti: str, expires_at: float) -> bool:
        """True the first time a client assertion id is seen; False on any reuse."""
        now = self._clock()
        with self._lock:
            self._jtis = {k: exp for k, exp in self._jtis.items() if exp >= now - 600}
            if (client_id, jti) in self._jtis:
                return False
            self._jtis[(client_id, jti)] = expires_at
            return True
