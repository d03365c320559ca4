"""Launch sessions and authorizations in flight against a clock the test moves: the state lifetime
(R12) and the idle timeout (R34) just inside and just past their limits, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from smart_app.errors import LaunchError, SessionExpired
from smart_app.security import TokenCipher
from smart_app.session import LAST_SEEN_STEP, PendingAuthorization, SessionStore, TokenSet
from smart_app.store import create_engine
from smart_app.store.schema import aware, launch_sessions

ISS = "https://ehr.example/fhir"
STATE_LIFETIME_S, IDLE_TIMEOUT_S = 600, 900


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions(database_url, clock):
    engine = create_engine(database_url)
    yield SessionStore(engine, TokenCipher((Fernet.generate_key().decode(),)), idle_timeout_s=IDLE_TIMEOUT_S,
                       state_lifetime_s=STATE_LIFETIME_S, clock=clock)
    engine.dispose()


def pending() -> PendingAuthorization:
    return PendingAuthorization(iss=ISS, kind="ehr", code_verifier="v" * 64, token_endpoint=f"{ISS}/token",
                                issuer=None, jwks_uri=None, scope="launch")


def a_launch(sessions: SessionStore, browser: str = "browser-1") -> str:
    return sessions.create(iss=ISS, patient_id="p1", fhir_user=None, encounter_id=None, need_patient_banner=True,
                           intent=None, scope="launch", browser=browser, tokens=TokenSet("at", None, None),
                           token_endpoint=f"{ISS}/token")


def test_a_state_used_just_inside_its_lifetime_is_accepted(sessions, clock):
    sessions.begin_authorization("state-1", "browser-1", pending())
    clock.advance(STATE_LIFETIME_S - 1)
    assert sessions.consume_authorization("state-1", "browser-1").iss == ISS  # R12


def test_a_state_used_just_past_its_lifetime_is_refused(sessions, clock):
    sessions.begin_authorization("state-1", "browser-1", pending())
    clock.advance(STATE_LIFETIME_S + 1)
    with pytest.raises(LaunchError, match="expired"):  # R12
        sessions.consume_authorization("state-1", "browser-1")


def test_a_session_used_just_inside_the_idle_timeout_stays_open_and_its_idle_clock_restarts(sessions, clock):
    launch_id = a_launch(sessions)
    for _ in range(3):
        clock.advance(IDLE_TIMEOUT_S - 1)
        assert sessions.load(launch_id, "browser-1").patient_id == "p1"  # R34


def test_pages_in_quick_succession_restart_the_idle_clock_once_a_step_so_it_never_runs_late(sessions, clock):
    launch_id = a_launch(sessions)
    created = clock.now

    def last_seen() -> datetime:
        with sessions.engine.connect() as conn:
            return aware(conn.execute(sa.select(launch_sessions.c.last_seen_at)).scalar_one())

    clock.advance(LAST_SEEN_STEP.total_seconds() - 1)
    sessions.load(launch_id, "browser-1")
    assert last_seen() == created  # no write for a page a moment after the last
    clock.advance(1)
    sessions.load(launch_id, "browser-1")
    assert last_seen() == clock.now
    clock.advance(IDLE_TIMEOUT_S - 1)  # counted from the restart, which is never later than the page
    assert sessions.load(launch_id, "browser-1").patient_id == "p1"


def test_a_session_idle_just_past_the_timeout_has_ended(sessions, clock):
    launch_id = a_launch(sessions)
    clock.advance(IDLE_TIMEOUT_S + 1)
    with pytest.raises(SessionExpired, match="without activity"):  # R34
        sessions.load(launch_id, "browser-1")
    with sessions.engine.connect() as conn:  # ended for good, and why
        ended = conn.execute(sa.select(launch_sessions.c.ended_at, launch_sessions.c.end_reason)).one()
    assert ended.end_reason == "idle" and ended.ended_at is not None
