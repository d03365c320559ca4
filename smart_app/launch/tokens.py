"""A valid access token for a launch, refreshed shortly before it expires (R19, R32, R33).

Layer: launch. Several processes may serve one launch: the store's compare-and-swap on the token
version makes sure only one of them refreshes, and the others pick up its result.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from ..errors import SessionExpired
from ..session import LaunchSession, SessionStore, TokenSet
from ..tenants import Tenant
from . import oauth
from .context import context_from

log = logging.getLogger("smart_app.launch.tokens")

REFRESH_MARGIN = timedelta(seconds=60)
MIN_REFRESH_INTERVAL = timedelta(seconds=60)
REREAD_AFTER = timedelta(seconds=30)  # pick up another process's refresh within this time


class AccessTokens:
    """Callable: returns the launch's current access token, refreshing it when due."""

    def __init__(self, sessions: SessionStore, launch: LaunchSession, tenant: Tenant, keys: oauth.ClientKeys,
                 *, timeout_s: float) -> None:
        self.sessions = sessions
        self.launch = launch
        self.tenant = tenant
        self.keys = keys
        self.timeout_s = timeout_s
        self._force = False
        self._lock = threading.Lock()  # the gateway's threads share one refresh
        self._held: tuple[TokenSet, int, datetime | None] | None = None  # saves a read + decrypt per request
        self._held_at: datetime | None = None

    def __call__(self) -> str:
        with self._lock:
            return self._current()

    def _stored(self, now: datetime) -> tuple[TokenSet, int, datetime | None]:
        if self._held is None or self._held_at is None or now - self._held_at > REREAD_AFTER:
            self._held, self._held_at = self.sessions.tokens(self.launch.launch_id), now
        return self._held

    def _current(self) -> str:
        now = self.sessions.clock()
        tokens, version, refreshed_at = self._stored(now)
        if self._force or (tokens.expires_at is not None and now >= tokens.expires_at - REFRESH_MARGIN):
            self._held = None  # about to refresh: decide on what the store holds now
            tokens, version, refreshed_at = self._stored(now)
        due = self._force or (tokens.expires_at is not None and now >= tokens.expires_at - REFRESH_MARGIN)
        if not due:
            return tokens.access_token
        recently = refreshed_at is not None and now - refreshed_at < MIN_REFRESH_INTERVAL
        if tokens.refresh_token is None or (recently and not self._force):
            if tokens.expires_at is not None and now >= tokens.expires_at:
                self.sessions.end(self.launch.launch_id, "token-expired")
                raise SessionExpired("Access to the EHR has expired for this session.")
            return tokens.access_token
        self._force = False
        return self._refresh(tokens, version)

    def force_refresh(self) -> None:
        """The EHR rejected the token early (401): refresh on the next call."""
        self._force = True

    def _refresh(self, tokens: TokenSet, version: int) -> str:
        try:
            response = oauth.refresh_tokens(self.tenant, self.launch.token_endpoint, tokens.refresh_token or "",
                                            self.keys, self.timeout_s, now=self.sessions.clock().timestamp())
        except SessionExpired:
            latest, latest_version, _ = self.sessions.tokens(self.launch.launch_id)
            if latest_version != version:  # another process refreshed (and rotated) first
                return latest.access_token
            self.sessions.end(self.launch.launch_id, "refresh-refused")
            raise
        if "patient" in response and response["patient"] != self.launch.patient_id:  # R19, before any other check
            self.sessions.end(self.launch.launch_id, "patient-changed")
            raise SessionExpired("The EHR switched this session to another patient; it has been closed.")
        fresh = context_from({"patient": self.launch.patient_id, **response}, requested_scope=self.launch.scope,
                             now=self.sessions.clock())
        self._held = None
        replaced = self.sessions.replace_tokens(
            self.launch.launch_id, version, TokenSet(fresh.access_token, fresh.refresh_token, fresh.expires_at)
        )
        if not replaced:  # another process refreshed first: use its token
            return self.sessions.tokens(self.launch.launch_id)[0].access_token
        log.info("access token refreshed")
        return fresh.access_token
