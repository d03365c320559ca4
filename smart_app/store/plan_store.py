"""Plans and their versions, each version immutable. `update` saves what a decision makes of the latest
version with no other save in between (a row lock); `save` is a plain compare-and-swap on the version
number for callers that already know the version they build on. Nothing is ever applied over a save it
did not see (issues 4 and 16: no lost edits).

Layer: store.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa

from ..errors import VersionConflict
from ..plan.model import Plan, PlanVersion
from ..plan.snapshot import plan_from_json, plan_to_json
from .schema import plan_versions, plans


class PlanConflict(VersionConflict):
    """The plan moved on since `base_version`; `latest` is what is saved now."""

    def __init__(self, latest: PlanVersion) -> None:
        super().__init__("Someone else saved this plan while you were editing it.")
        self.latest = latest


class PlanStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

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

    def update(self, iss: str, patient_id: str, decide: Callable[[PlanVersion | None], T], *, saved_by: str,
               now: datetime, note: str = "") -> T | PlanVersion:
        """Save what `decide` makes of the latest version, with no other save of this plan in between:
        the plan's row is locked (PostgreSQL) or writes to it are taken one at a time (SQLite, one
        process). `decide` returns the Plan to save, or anything else (a conflict to show) to save
        nothing; that value is returned as it is. Many people saving at once each wait their turn
        instead of retrying a compare-and-swap."""
        for attempt in (1, 2):  # a second try only when two people created the plan at the same moment
            try:
                return self._update(iss, patient_id, decide, saved_by=saved_by, now=now, note=note)
            except sa.exc.IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _update(self, iss: str, patient_id: str, decide: Callable[[PlanVersion | None], T], *, saved_by: str,
                now: datetime, note: str) -> T | PlanVersion:
        with self._local_lock(iss, patient_id):
            with self.engine.begin() as conn:
                row = conn.execute(sa.select(plans).where(plans.c.iss == iss, plans.c.patient_id == patient_id)
                                   .with_for_update()).first()
                latest = self._version(conn, row.plan_id, row.current_version) if row else None
                decided = decide(latest)
                if not isinstance(decided, Plan):
                    return decided
                version = (latest.version + 1) if latest else 1
                plan_id = latest.plan_id if latest else uuid.uuid4().hex
                if latest is None:
                    conn.execute(plans.insert().values(plan_id=plan_id, iss=iss, patient_id=patient_id,
                                                       current_version=1, state=decided.state.value,
                                                       created_at=now, updated_at=now))
                else:
                    conn.execute(plans.update().where(plans.c.plan_id == plan_id)
                                 .values(current_version=version, state=decided.state.value, updated_at=now))
                conn.execute(plan_versions.insert().values(
                    plan_id=plan_id, version=version, snapshot=plan_to_json(decided), state=decided.state.value,
                    saved_by=saved_by, saved_at=now, note=note))
        return PlanVersion(plan_id=plan_id, version=version, plan=decided, saved_by=saved_by, saved_at=now, note=note)

    def _local_lock(self, iss: str, patient_id: str) -> threading.Lock:
        """SQLite has no row locks: saves of one plan in this process are taken one at a time."""
        if self.engine.dialect.name != "sqlite":
            return _NO_LOCK
        with self._locks_guard:
            return self._locks.setdefault((iss, patient_id), threading.Lock())

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


_NO_LOCK = contextlib.nullcontext()
T = TypeVar("T")


def _version_from(row) -> PlanVersion:
    saved_at = row.saved_at if row.saved_at.tzinfo else row.saved_at.replace(tzinfo=UTC)
    return PlanVersion(plan_id=row.plan_id, version=row.version, plan=plan_from_json(row.snapshot),
                       saved_by=row.saved_by, saved_at=saved_at, note=row.note)
