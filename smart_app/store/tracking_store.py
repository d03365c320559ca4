"""What is kept with each signed plan version: the summary snapshot the review compares with, the
signed record its documents are rendered from, and the health events someone marked reviewed.

Layer: store. Converts rows to and from plan.review_cycle and plan.signed_record values.

Every table is written once per fact and never updated: a snapshot and a record are what the EHR and the
plan looked like when that version was signed; a reviewed mark is who looked at which event for which
signed version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from ..plan.review_cycle import SummarySnapshot, snapshot_from_json, snapshot_to_json
from ..plan.signed_record import SignedRecord, record_from_json, record_to_json
from .schema import reviewed_events, signed_records, signing_snapshots


@dataclass(frozen=True, slots=True)
class SigningSnapshot:
    plan_id: str
    version: int
    signed_on: date
    snapshot: SummarySnapshot


class TrackingStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def save_snapshot(self, iss: str, patient_id: str, taken: SigningSnapshot, *, at: datetime) -> None:
        """Keep the snapshot of a signed version; a second call for the same version keeps the first."""
        key = (signing_snapshots.c.plan_id == taken.plan_id, signing_snapshots.c.version == taken.version)
        try:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(signing_snapshots.c.version).where(*key)).first():
                    return
                conn.execute(signing_snapshots.insert().values(
                    plan_id=taken.plan_id, version=taken.version, iss=iss, patient_id=patient_id,
                    signed_on=taken.signed_on, snapshot=snapshot_to_json(taken.snapshot), recorded_at=at))
        except sa.exc.IntegrityError:  # the same signing recorded at the same moment by another request
            return

    def snapshot(self, plan_id: str, version: int) -> SigningSnapshot | None:
        query = sa.select(signing_snapshots).where(signing_snapshots.c.plan_id == plan_id,
                                                   signing_snapshots.c.version == version)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return SigningSnapshot(plan_id=row.plan_id, version=row.version, signed_on=row.signed_on,
                               snapshot=snapshot_from_json(row.snapshot))

    def save_signed_record(self, iss: str, patient_id: str, plan_id: str, version: int, record: SignedRecord, *,
                           at: datetime) -> None:
        """Keep what was signed with the signed version; a second call for the same version keeps the first."""
        key = (signed_records.c.plan_id == plan_id, signed_records.c.version == version)
        try:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(signed_records.c.version).where(*key)).first():
                    return
                conn.execute(signed_records.insert().values(plan_id=plan_id, version=version, iss=iss,
                                                            patient_id=patient_id, record=record_to_json(record),
                                                            recorded_at=at))
        except sa.exc.IntegrityError:  # the same signing recorded at the same moment by another request
            return

    def signed_record(self, plan_id: str, version: int) -> SignedRecord | None:
        query = sa.select(signed_records.c.record).where(signed_records.c.plan_id == plan_id,
                                                         signed_records.c.version == version)
        with self.engine.connect() as conn:
            data = conn.execute(query).scalar()
        return record_from_json(data) if data is not None else None

    def mark_reviewed(self, iss: str, patient_id: str, signed_version: int, event_id: str, *, by: str,
                      at: datetime) -> None:
        key = (reviewed_events.c.iss == iss, reviewed_events.c.patient_id == patient_id,
               reviewed_events.c.signed_version == signed_version, reviewed_events.c.event_id == event_id)
        try:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(reviewed_events.c.event_id).where(*key)).first():
                    return
                conn.execute(reviewed_events.insert().values(
                    iss=iss, patient_id=patient_id, signed_version=signed_version, event_id=event_id,
                    reviewed_by=by, reviewed_at=at))
        except sa.exc.IntegrityError:  # marked by someone else at the same moment: already reviewed
            return

    def reviewed(self, iss: str, patient_id: str, signed_version: int) -> frozenset[str]:
        query = sa.select(reviewed_events.c.event_id).where(
            reviewed_events.c.iss == iss, reviewed_events.c.patient_id == patient_id,
            reviewed_events.c.signed_version == signed_version)
        with self.engine.connect() as conn:
            return frozenset(conn.execute(query).scalars())
