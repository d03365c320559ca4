"""The family's requests to the care team, and when each family member last looked at their plan.

Layer: store. Converts rows to and from plan.family values. A request is written once by the family
and closed once by a professional (compare-and-set on its status: two people never both close it).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..plan.family import FamilyRequest, RequestKind, RequestStatus
from .schema import aware, family_access_grants, family_requests, family_visits


class FamilyStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add_request(self, iss: str, patient_id: str, request: FamilyRequest) -> None:
        with self.engine.begin() as conn:
            conn.execute(family_requests.insert().values(
                request_id=request.request_id, iss=iss, patient_id=patient_id, kind=request.kind.value,
                subject_id=request.subject_id, text=request.text, by_name=request.by_name, by_user=request.by_user,
                at=request.at, status=request.status.value, reply=request.reply))

    def requests(self, iss: str, patient_id: str, *, kinds: tuple[RequestKind, ...] | None = None,
                 by_user: str | None = None) -> tuple[FamilyRequest, ...]:
        """The patient's requests, oldest first; of some kinds, or by one person, when asked."""
        table = family_requests
        query = sa.select(table).where(table.c.iss == iss, table.c.patient_id == patient_id)
        if kinds is not None:
            query = query.where(table.c.kind.in_([k.value for k in kinds]))
        if by_user is not None:
            query = query.where(table.c.by_user == by_user)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(table.c.at, table.c.request_id)).all()
        return tuple(_request_from(row) for row in rows)

    def request(self, iss: str, patient_id: str, request_id: str) -> FamilyRequest | None:
        table = family_requests
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.iss == iss, table.c.patient_id == patient_id,
                                                      table.c.request_id == request_id)).first()
        return _request_from(row) if row is not None else None

    def close_request(self, iss: str, patient_id: str, request_id: str, status: RequestStatus, *, reply: str,
                      by: str, at: datetime) -> bool:
        """Close an open request; False when it was not open any more (someone else answered it)."""
        table = family_requests
        with self.engine.begin() as conn:
            return bool(conn.execute(
                table.update()
                .where(table.c.iss == iss, table.c.patient_id == patient_id, table.c.request_id == request_id,
                       table.c.status == RequestStatus.OPEN.value)
                .values(status=status.value, reply=reply, closed_by=by, closed_at=at)).rowcount)

    # -- visits --------------------------------------------------------------------------------------

    def seen_version(self, iss: str, patient_id: str, fhir_user: str) -> int | None:
        table = family_visits
        with self.engine.connect() as conn:
            return conn.execute(sa.select(table.c.seen_version).where(
                table.c.iss == iss, table.c.patient_id == patient_id, table.c.fhir_user == fhir_user)).scalar()

    def record_visit(self, iss: str, patient_id: str, fhir_user: str, version: int, *, at: datetime) -> None:
        table = family_visits
        key = (table.c.iss == iss, table.c.patient_id == patient_id, table.c.fhir_user == fhir_user)
        try:
            with self.engine.begin() as conn:
                if not conn.execute(table.update().where(*key).values(seen_version=version, seen_at=at)).rowcount:
                    conn.execute(table.insert().values(iss=iss, patient_id=patient_id, fhir_user=fhir_user,
                                                       seen_version=version, seen_at=at))
        except sa.exc.IntegrityError:  # the same person's other tab recorded it at the same moment
            pass

    # -- a parent's access to an adolescent's plan, where the site asks ------------------------------

    def granted(self, iss: str, patient_id: str, fhir_user: str) -> bool:
        table = family_access_grants
        with self.engine.connect() as conn:
            return conn.execute(sa.select(table.c.fhir_user).where(
                table.c.iss == iss, table.c.patient_id == patient_id, table.c.fhir_user == fhir_user)).first() is not None

    def grant(self, iss: str, patient_id: str, fhir_user: str, *, by: str, at: datetime) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(family_access_grants.insert().values(iss=iss, patient_id=patient_id, fhir_user=fhir_user,
                                                                  granted_by=by, granted_at=at))
        except sa.exc.IntegrityError:  # granted already (another request of theirs, answered before)
            pass


def _request_from(row) -> FamilyRequest:
    return FamilyRequest(
        request_id=row.request_id, kind=RequestKind(row.kind), subject_id=row.subject_id, text=row.text,
        by_name=row.by_name, by_user=row.by_user, at=aware(row.at), status=RequestStatus(row.status),
        reply=row.reply or "", closed_by=row.closed_by or "", closed_at=aware(row.closed_at))
