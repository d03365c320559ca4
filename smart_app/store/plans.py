"""Plans and their versions. Every save is a compare-and-swap on the version number: a stale save
is refused with the version that won, never applied over it (issue 4: no lost edits).

Layer: shell services (store).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from ..errors import VersionConflict
from ..plan.model import Plan, PlanVersion
from ..plan.snapshot import plan_from_json, plan_to_json
from .tables import plan_versions, plans


class PlanConflict(VersionConflict):
    """The plan moved on since `base_version`; `latest` is what is saved now."""

    def __init__(self, latest: PlanVersion) -> None:
        super().__init__("Someone else saved this plan while you were editing it.")
        self.latest = latest


class PlanStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def current(self, iss: str, patient_id: str) -> PlanVersion | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(plans).where(plans.c.iss == iss, plans.c.patient_id == patient_id)).first()
            return self._version(conn, row.plan_id, row.current_version) if row else None

    def version(self, plan_id: str, version: int) -> PlanVersion | None:
        with self.engine.connect() as conn:
            return self._version(conn, plan_id, version)

    def history(self, plan_id: str) -> list[PlanVersion]:
        """Every version, oldest first."""
        query = sa.select(plan_versions).where(plan_versions.c.plan_id == plan_id).order_by(plan_versions.c.version)
        with self.engine.connect() as conn:
            return [_version_from(row) for row in conn.execute(query)]

    def latest_signed(self, iss: str, patient_id: str) -> PlanVersion | None:
        current = self.current(iss, patient_id)
        if current is None:
            return None
        query = (sa.select(plan_versions)
                 .where(plan_versions.c.plan_id == current.plan_id, plan_versions.c.state == "signed")
                 .order_by(plan_versions.c.version.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _version_from(row) if row else None

    def save(self, iss: str, patient_id: str, plan: Plan, *, base_version: int | None, saved_by: str,
             now: datetime, note: str = "") -> PlanVersion:
        """Save `plan` as the version after `base_version` (None: the first version).

        Raises PlanConflict when another save got there first."""
        try:
            with self.engine.begin() as conn:
                if base_version is None:
                    plan_id = uuid.uuid4().hex
                    conn.execute(plans.insert().values(plan_id=plan_id, iss=iss, patient_id=patient_id,
                                                       current_version=1, state=plan.state.value,
                                                       created_at=now, updated_at=now))
                    version = 1
                else:
                    plan_id = self._plan_id(conn, iss, patient_id)
                    version = base_version + 1
                    moved = conn.execute(
                        plans.update()
                        .where(plans.c.plan_id == plan_id, plans.c.current_version == base_version)
                        .values(current_version=version, state=plan.state.value, updated_at=now)
                    ).rowcount
                    if not moved:
                        raise _Stale()
                conn.execute(plan_versions.insert().values(
                    plan_id=plan_id, version=version, snapshot=plan_to_json(plan), state=plan.state.value,
                    saved_by=saved_by, saved_at=now, note=note))
        except (_Stale, sa.exc.IntegrityError):
            latest = self.current(iss, patient_id)
            assert latest is not None
            raise PlanConflict(latest) from None
        return PlanVersion(plan_id=plan_id, version=version, plan=plan, saved_by=saved_by, saved_at=now, note=note)

    @staticmethod
    def _plan_id(conn, iss: str, patient_id: str) -> str:
        plan_id = conn.execute(
            sa.select(plans.c.plan_id).where(plans.c.iss == iss, plans.c.patient_id == patient_id)).scalar()
        if plan_id is None:
            raise _Stale()
        return plan_id

    @staticmethod
    def _version(conn, plan_id: str, version: int) -> PlanVersion | None:
        row = conn.execute(sa.select(plan_versions).where(
            plan_versions.c.plan_id == plan_id, plan_versions.c.version == version)).first()
        return _version_from(row) if row else None


class _Stale(Exception):
    pass


def _version_from(row) -> PlanVersion:
    saved_at = row.saved_at if row.saved_at.tzinfo else row.saved_at.replace(tzinfo=UTC)
    return PlanVersion(plan_id=row.plan_id, version=row.version, plan=plan_from_json(row.snapshot),
                       saved_by=row.saved_by, saved_at=saved_at, note=row.note)
