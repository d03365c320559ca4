"""Settings, read from the environment once, in create_app.

Layer: shell services. Nothing here runs at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .clock import Clock
from .errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///instance/spoc.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app needs to start. Secrets are excluded from repr."""

    tenants_file: Path
    token_keys: tuple[str, ...] = field(repr=False)  # Fernet keys, newest first (MultiFernet rotation)
    secret_key: str = field(repr=False, default="")
    database_url: str = DEFAULT_DATABASE_URL
    session_idle_timeout_s: int = 900  # R34: ≤ 15 min by default
    state_lifetime_s: int = 600  # R12: ≤ 10 min
    fhir_timeout_s: float = 10.0
    max_authorize_url: int = 2000  # R11: longer URLs go by POST when the server allows it
    trusted_hosts: tuple[str, ...] = ()
    time_zone: str = "UTC"  # the site's calendar: what "today" is for due dates and reviews
    clock_offset: timedelta = timedelta(0)  # tests only: added to the real time (SPOC_TEST_CLOCK_OFFSET_S)

    def clock(self) -> Clock:
        """The app's one clock, in the site's time zone (moved to another day only by tests)."""
        try:
            return Clock(self.time_zone, offset=self.clock_offset)
        except (ValueError, KeyError):  # zoneinfo: an unknown or malformed zone name
            raise ConfigError(f"SPOC_TIME_ZONE is not a time zone: {self.time_zone!r}.") from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        missing = [k for k in ("SPOC_TENANTS_FILE", "SPOC_TOKEN_KEYS") if not env.get(k)]
        if missing:
            raise ConfigError(f"Missing environment variables: {', '.join(missing)}")
        return cls(
            tenants_file=Path(env["SPOC_TENANTS_FILE"]),
            token_keys=tuple(k.strip() for k in env["SPOC_TOKEN_KEYS"].split(",") if k.strip()),
            secret_key=env.get("SPOC_SECRET_KEY", ""),
            database_url=env.get("DATABASE_URL") or env.get("SPOC_DATABASE_URL") or DEFAULT_DATABASE_URL,
            session_idle_timeout_s=int(env.get("SPOC_SESSION_IDLE_TIMEOUT_S", "900")),
            fhir_timeout_s=float(env.get("SPOC_FHIR_TIMEOUT_S", "10")),
            trusted_hosts=tuple(h for h in env.get("SPOC_TRUSTED_HOSTS", "").split(",") if h),
            time_zone=env.get("SPOC_TIME_ZONE", "UTC"),
            clock_offset=_offset(env.get("SPOC_TEST_CLOCK_OFFSET_S", "")),
        )


def _offset(value: str) -> timedelta:
    """Tests that start `spoc serve` share their pinned clock with it, to the second."""
    if not value:
        return timedelta(0)
    try:
        return timedelta(seconds=float(value))
    except ValueError:
        raise ConfigError(f"SPOC_TEST_CLOCK_OFFSET_S must be a number of seconds, not {value!r}.") from None
