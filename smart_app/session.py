"""Server-side launch sessions and in-flight authorizations (R27, R28, R29, R34).

Layer: shell services. Tokens are encrypted at rest; the browser only ever holds a random handle
(in the URL path of the app's pages) bound to a random, HttpOnly, partitioned browser cookie.
Several app processes share these rows, so a launch begun on one completes on another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .errors import LaunchError, SessionExpired
from .security import TokenCipher, browser_ids, digest, new_handle, same_secret
from .store.schema import acting_roles, aware, folded_sections, launch_sessions, pending_authorizations


PROFESSIONAL_AUDIENCE = "professional"
FAMILY_AUDIENCE = "family"


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    iss: str
    kind: str
    code_verifier: str
    token_endpoint: str
    issuer: str | None
    jwks_uri: str | None
    scope: str
    browser: str = ""  # the browser id it is bound to, once consumed

@dataclass(frozen=True, slots=True)
class LaunchSession:
    """One launch of the app for one patient, by one user, from one EHR."""

    launch_id: str
    iss: str
    patient_id: str
    fhir_user: str | None
    encounter_id: str | None
    need_patient_banner: bool
    intent: str | None
    scope: str
    csrf_token: str
    token_endpoint: str
    expires_at: datetime | None
    refreshed_at: datetime | None
    token_version: int
    has_refresh_token: bool
    acting_role: str | None = None
    audience: str = "professional"  # "family": the patient or a parent signed in through the portal
    person_name: str | None = None  # a family launch: who signed in, as the EHR names them
    access_rule: str | None = None  # a family launch: the rule that let them in, once admitted

    @property
    def is_family(self) -> bool:
        return self.audience == FAMILY_AUDIENCE

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


LAST_SEEN_STEP = timedelta(seconds=30)


class SessionStore:
    def __init__(self, engine: sa.Engine, cipher: TokenCipher, *, idle_timeout_s: int, state_lifetime_s: int,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.cipher = cipher
        self.idle_timeout = timedelta(seconds=idle_timeout_s)
        self.state_lifetime = timedelta(seconds=state_lifetime_s)
        self.clock = clock  # the app's Clock.now: an aware UTC datetime

    # -- authorizations in flight ------------------------------------------------------------
    def begin_authorization(self, state: str, browser: str, pending: PendingAuthorization) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                pending_authorizations.insert().values(
                    state_hash=digest(state),
                    browser_hash=digest(browser),
                    iss=pending.iss,
                    kind=pending.kind,
                    code_verifier=self.cipher.encrypt(pending.code_verifier),
                    token_endpoint=pending.token_endpoint,
                    issuer=pending.issuer,
                    jwks_uri=pending.jwks_uri,
                    scope=pending.scope,
                    created_at=self.clock(),
                )
            )

    def consume_authorization(self, state: str | None, browser_cookie: str | None) -> PendingAuthorization:
        """The pending authorization for `state`, marked used. Unknown, used, expired or
        other-browser states are refused (R12, R13); the compare-and-set makes it single-use
        across processes."""
        if not state:
            raise LaunchError("The EHR's reply carried no state, so it cannot be matched to a launch.")
        now = self.clock()
        table = pending_authorizations
        with self.engine.begin() as conn:
            claimed = conn.execute(
                table.update()
                .where(table.c.state_hash == digest(state), table.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            row = conn.execute(sa.select(table).where(table.c.state_hash == digest(state))).first()
        if row is None:
            raise LaunchError("This sign-in reply does not match any launch in progress.")
        if not claimed:
            raise LaunchError("This sign-in reply was already used. Each launch can be completed only once.")
        if now - aware(row.created_at) > self.state_lifetime:
            raise LaunchError("This launch took too long to complete and has expired.")
        browser = _bound_id(row.browser_hash, browser_cookie)
        if browser is None:
            raise LaunchError("This sign-in reply belongs to a launch started in another browser.")
        return PendingAuthorization(
            iss=row.iss,
            kind=row.kind,
            code_verifier=self.cipher.decrypt(row.code_verifier),
            token_endpoint=row.token_endpoint,
            issuer=row.issuer,
            jwks_uri=row.jwks_uri,
            scope=row.scope,
            browser=browser,
        )

    def issuer_of_state(self, state: str | None, browser_cookie: str | None) -> str | None:
        """The tenant `iss` of a live authorization this browser began with `state`, without consuming
        it (for error pages); None for any other state."""
        if not state:
            return None
        table = pending_authorizations
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(table.c.iss, table.c.browser_hash, table.c.created_at)
                               .where(table.c.state_hash == digest(state))).first()
        if row is None or self.clock() - aware(row.created_at) > self.state_lifetime:
            return None
        return row.iss if _bound_id(row.browser_hash, browser_cookie) else None

    # -- launch sessions ---------------------------------------------------------------------
    def create(
        self,
        *,
        iss: str,
        patient_id: str,
        fhir_user: str | None,
        encounter_id: str | None,
        need_patient_banner: bool,
        intent: str | None,
        scope: str,
        browser: str,
        tokens: TokenSet,
        token_endpoint: str,
        audience: str = PROFESSIONAL_AUDIENCE,
        person_name: str | None = None,
    ) -> str:
        launch_id = new_handle()
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                launch_sessions.insert().values(
                    launch_id=launch_id,
                    iss=iss,
                    patient_id=patient_id,
                    fhir_user=fhir_user,
                    encounter_id=encounter_id,
                    need_patient_banner=need_patient_banner,
                    intent=intent,
                    scope=scope,
                    browser_hash=digest(browser),
                    csrf_token=new_handle(),
                    access_token=self.cipher.encrypt(tokens.access_token),
                    refresh_token=self.cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None,
                    token_endpoint=token_endpoint,
                    expires_at=tokens.expires_at,
                    token_version=1,
                    created_at=now,
                    last_seen_at=now,
                    audience=audience,
                    person_name=person_name,
                )
            )
        return launch_id

    def load(self, launch_id: str, browser_cookie: str | None) -> LaunchSession:
        """The live session for this handle and browser, its idle clock restarted (R34) when it last was
        LAST_SEEN_STEP ago or more: a launch's pages come in quick succession, and each restart was a
        write and a commit. So a session may end up to that much before the idle timeout, never after."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(launch_sessions).where(launch_sessions.c.launch_id == launch_id)).first()
            if row is None or _bound_id(row.browser_hash, browser_cookie) is None:
                raise SessionExpired("This Shared Plan of Care session is not open in this browser.")
            if row.ended_at is not None:
                raise SessionExpired("This Shared Plan of Care session has ended.")
            quiet = now - aware(row.last_seen_at)
            idle = quiet > self.idle_timeout
            if idle or quiet >= LAST_SEEN_STEP:
                change = {"ended_at": now, "end_reason": "idle"} if idle else {"last_seen_at": now}
                conn.execute(launch_sessions.update().where(launch_sessions.c.launch_id == launch_id).values(**change))
        if idle:  # raised once committed: raising inside begin() rolled the end back
            raise SessionExpired("This session ended after a period without activity.")
        return _session_from(row)

    def tokens(self, launch_id: str) -> tuple[TokenSet, int, datetime | None]:
        """The launch's tokens, their version (for compare-and-swap) and when they were last refreshed."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(launch_sessions).where(launch_sessions.c.launch_id == launch_id)).first()
        if row is None or row.ended_at is not None:
            raise SessionExpired("This Shared Plan of Care session has ended.")
        return (
            TokenSet(
                access_token=self.cipher.decrypt(row.access_token),
                refresh_token=self.cipher.decrypt(row.refresh_token) if row.refresh_token else None,
                expires_at=aware(row.expires_at),
            ),
            row.token_version,
            aware(row.refreshed_at),
        )

    def replace_tokens(self, launch_id: str, expected_version: int, tokens: TokenSet) -> bool:
        """Compare-and-swap on token_version, so two processes never both refresh (R32)."""
        values: dict = {
            "access_token": self.cipher.encrypt(tokens.access_token),
            "expires_at": tokens.expires_at,
            "refreshed_at": self.clock(),
            "token_version": expected_version + 1,
        }
        if tokens.refresh_token:  # R32: keep the old refresh token when none is returned
            values["refresh_token"] = self.cipher.encrypt(tokens.refresh_token)
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    launch_sessions.update()
                    .where(
                        launch_sessions.c.launch_id == launch_id,
                        launch_sessions.c.token_version == expected_version,
                        launch_sessions.c.ended_at.is_(None),
                    )
                    .values(**values)
                ).rowcount
            )

    def clear_encounter(self, launch_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(launch_sessions.update().where(launch_sessions.c.launch_id == launch_id)
                         .values(encounter_id=None))

    def set_acting_role(self, launch: LaunchSession, role: str) -> None:
        """The role for this launch, remembered as the user's default at this site."""
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(launch_sessions.update().where(launch_sessions.c.launch_id == launch.launch_id)
                         .values(acting_role=role))
            if launch.fhir_user:
                key = (acting_roles.c.iss == launch.iss, acting_roles.c.fhir_user == launch.fhir_user)
                if not conn.execute(acting_roles.update().where(*key).values(role=role, updated_at=now)).rowcount:
                    conn.execute(acting_roles.insert().values(iss=launch.iss, fhir_user=launch.fhir_user, role=role,
                                                              updated_at=now))

    def remembered_role(self, launch: LaunchSession) -> str | None:
        if not launch.fhir_user:
            return None
        with self.engine.connect() as conn:
            return conn.execute(sa.select(acting_roles.c.role).where(
                acting_roles.c.iss == launch.iss, acting_roles.c.fhir_user == launch.fhir_user)).scalar()

    def folded_sections(self, launch: LaunchSession) -> frozenset[str]:
        """The summary sections this user keeps folded at this site (none for a launch without a user)."""
        if not launch.fhir_user:
            return frozenset()
        with self.engine.connect() as conn:
            return frozenset(conn.execute(sa.select(folded_sections.c.section).where(
                folded_sections.c.iss == launch.iss, folded_sections.c.fhir_user == launch.fhir_user)).scalars())

    def set_folded(self, launch: LaunchSession, section: str, folded: bool) -> None:
        if not launch.fhir_user:
            return
        key = (folded_sections.c.iss == launch.iss, folded_sections.c.fhir_user == launch.fhir_user,
               folded_sections.c.section == section)
        try:
            with self.engine.begin() as conn:
                conn.execute(folded_sections.delete().where(*key))
                if folded:
                    conn.execute(folded_sections.insert().values(iss=launch.iss, fhir_user=launch.fhir_user,
                                                                 section=section, updated_at=self.clock()))
        except sa.exc.IntegrityError:  # the same fold from another tab at the same moment: already kept
            pass

    def admit_family(self, launch_id: str, *, person_name: str, access_rule: str) -> None:
        """A family launch checked against the EHR: who they are and the rule that lets them in."""
        with self.engine.begin() as conn:
            conn.execute(launch_sessions.update().where(launch_sessions.c.launch_id == launch_id)
                         .values(person_name=person_name, access_rule=access_rule))

    def end(self, launch_id: str, reason: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                launch_sessions.update()
                .where(launch_sessions.c.launch_id == launch_id, launch_sessions.c.ended_at.is_(None))
                .values(ended_at=self.clock(), end_reason=reason)
            )


def _bound_id(browser_hash: str, browser_cookie: str | None) -> str | None:
    """The id in the browser cookie that `browser_hash` was made from; None when it holds none."""
    return next((i for i in browser_ids(browser_cookie) if same_secret(browser_hash, digest(i))), None)


def _session_from(row) -> LaunchSession:
    return LaunchSession(
        launch_id=row.launch_id,
        iss=row.iss,
        patient_id=row.patient_id,
        fhir_user=row.fhir_user,
        encounter_id=row.encounter_id,
        need_patient_banner=bool(row.need_patient_banner),
        intent=row.intent,
        scope=row.scope,
        csrf_token=row.csrf_token,
        token_endpoint=row.token_endpoint,
        expires_at=aware(row.expires_at),
        refreshed_at=aware(row.refreshed_at),
        token_version=row.token_version,
        has_refresh_token=row.refresh_token is not None,
        acting_role=row.acting_role,
        audience=row.audience,
        person_name=row.person_name,
        access_rule=row.access_rule,
    )
