"""About us answers, emergency information, release-of-information consent and family-copy links,
per iss + patient.

Layer: shell services (store). Converts rows to and from plan.about values. The tables are defined
here on the shared metadata; migration 0004 creates them.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from ..errors import VersionConflict
from ..plan.about import (
    EMERGENCY_FIELDS,
    ConsentEntry,
    EmergencyInfo,
    IntakeAnswers,
    IntakeVersion,
    answers_from_mapping,
)
from .schema import about_versions, aware, consent_entries, family_copy_links

INTAKE = "intake"
EMERGENCY = "emergency"


class AboutConflict(VersionConflict):
    """Someone saved this part of the plan after the version the form was based on."""

    def __init__(self) -> None:
        super().__init__("Someone else saved these answers while you were editing. Reload to see them.")


class AboutStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- intake answers and emergency information: versioned ----------------------------------

    def latest_intake(self, iss: str, patient_id: str) -> IntakeVersion | None:
        row = self._latest(iss, patient_id, INTAKE)
        return _intake(row) if row else None

    def intake_history(self, iss: str, patient_id: str) -> list[IntakeVersion]:
        """Every saved version, oldest first."""
        return [_intake(row) for row in self._history(iss, patient_id, INTAKE)]

    def save_intake(self, iss: str, patient_id: str, answers: IntakeAnswers, *, base_version: int,
                    saved_by: str, now: datetime) -> IntakeVersion:
        """Save as the version after `base_version` (0: the first). Raises AboutConflict when stale."""
        version = self._insert(iss, patient_id, INTAKE, answers.as_dict(), base_version, saved_by, now)
        return IntakeVersion(version=version, answers=answers, saved_by=saved_by, saved_at=now)

    def latest_emergency(self, iss: str, patient_id: str) -> tuple[int, EmergencyInfo]:
        """The current version number (0 when none) and the information."""
        row = self._latest(iss, patient_id, EMERGENCY)
        if row is None:
            return 0, EmergencyInfo()
        return row.version, EmergencyInfo(**{k: str(row.content.get(k, "")) for k in EMERGENCY_FIELDS})

    def save_emergency(self, iss: str, patient_id: str, info: EmergencyInfo, *, base_version: int,
                       saved_by: str, now: datetime) -> int:
        content = {k: getattr(info, k) for k in EMERGENCY_FIELDS}
        return self._insert(iss, patient_id, EMERGENCY, content, base_version, saved_by, now)

    def _latest(self, iss: str, patient_id: str, kind: str):
        query = (sa.select(about_versions).where(*_key(iss, patient_id, kind))
                 .order_by(about_versions.c.version.desc()).limit(1))
        with self.engine.connect() as conn:
            return conn.execute(query).first()

    def _history(self, iss: str, patient_id: str, kind: str):
        query = sa.select(about_versions).where(*_key(iss, patient_id, kind)).order_by(about_versions.c.version)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def _insert(self, iss, patient_id, kind, content, base_version, saved_by, now) -> int:
        try:
            with self.engine.begin() as conn:
                latest = conn.execute(sa.select(sa.func.max(about_versions.c.version))
                                      .where(*_key(iss, patient_id, kind))).scalar() or 0
                if latest != base_version:
                    raise AboutConflict()
                conn.execute(about_versions.insert().values(
                    iss=iss, patient_id=patient_id, kind=kind, version=base_version + 1, content=content,
                    saved_by=saved_by, saved_at=now))
        except sa.exc.IntegrityError:  # another save of the same version won the race
            raise AboutConflict() from None
        return base_version + 1

    # -- release-of-information consent -------------------------------------------------------

    def consent(self, iss: str, patient_id: str) -> list[ConsentEntry]:
        """The entries not withdrawn, in the order they were recorded."""
        query = (sa.select(consent_entries)
                 .where(consent_entries.c.iss == iss, consent_entries.c.patient_id == patient_id,
                        consent_entries.c.withdrawn_at.is_(None))
                 .order_by(consent_entries.c.recorded_at, consent_entries.c.entry_id))
        with self.engine.connect() as conn:
            return [_consent(row) for row in conn.execute(query)]

    def add_consent(self, iss: str, patient_id: str, entry: ConsentEntry) -> None:
        with self.engine.begin() as conn:
            conn.execute(consent_entries.insert().values(
                entry_id=entry.entry_id, iss=iss, patient_id=patient_id, recipient=entry.recipient,
                role=entry.role, reference=entry.reference, start_date=entry.start, end_date=entry.end,
                consented_by=entry.consented_by, consented_on=entry.consented_on, recorded_by=entry.recorded_by,
                recorded_at=entry.recorded_at))

    def withdraw_consent(self, iss: str, patient_id: str, entry_id: str, *, by: str, at: datetime) -> bool:
        """Mark the entry withdrawn (kept for the record); False when there is no such live entry."""
        with self.engine.begin() as conn:
            return bool(conn.execute(
                consent_entries.update()
                .where(consent_entries.c.entry_id == entry_id, consent_entries.c.iss == iss,
                       consent_entries.c.patient_id == patient_id, consent_entries.c.withdrawn_at.is_(None))
                .values(withdrawn_at=at, withdrawn_by=by)).rowcount)

    # -- family-copy links ----------------------------------------------------------------------

    def save_link(self, link_hash: str, iss: str, patient_id: str, *, lang: str, document: str,
                  now: datetime, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            _purge_expired_links(conn, now)
            conn.execute(family_copy_links.insert().values(
                link_hash=link_hash, iss=iss, patient_id=patient_id, lang=lang, document=document,
                created_at=now, expires_at=expires_at))

    def open_link(self, link_hash: str | None, now: datetime) -> tuple[str, str, str, str] | None:
        """(iss, patient_id, lang, document) of a link that has not expired; None otherwise. Every
        expired link is deleted first, this one included (None: a link that did not verify)."""
        with self.engine.begin() as conn:
            _purge_expired_links(conn, now)
            row = conn.execute(sa.select(family_copy_links)
                               .where(family_copy_links.c.link_hash == link_hash)).first() if link_hash else None
        return (row.iss, row.patient_id, row.lang, row.document) if row else None


def _purge_expired_links(conn: sa.Connection, now: datetime) -> None:
    """The rendered copies (PHI) of expired links go as soon as anything touches the links."""
    conn.execute(family_copy_links.delete().where(family_copy_links.c.expires_at <= now))


def _key(iss: str, patient_id: str, kind: str):
    return (about_versions.c.iss == iss, about_versions.c.patient_id == patient_id, about_versions.c.kind == kind)


def _intake(row) -> IntakeVersion:
    return IntakeVersion(version=row.version, answers=answers_from_mapping(row.content), saved_by=row.saved_by,
                         saved_at=aware(row.saved_at))


def _consent(row) -> ConsentEntry:
    return ConsentEntry(entry_id=row.entry_id, recipient=row.recipient, role=row.role,
                        consented_by=row.consented_by, consented_on=_day(row.consented_on),
                        reference=row.reference, start=_day(row.start_date) if row.start_date else None,
                        end=_day(row.end_date) if row.end_date else None, recorded_by=row.recorded_by,
                        recorded_at=aware(row.recorded_at))


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value
