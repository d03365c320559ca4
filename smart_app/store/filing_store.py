"""Filing attempts: every time the app tried to file a signed plan version in the EHR, and how it went.

Layer: shell services (store). Append-only: an attempt is never changed; the latest one is the plan's
filing status. A successful attempt keeps where each resource went in the EHR and at which version,
so the next revision updates those resources with If-Match instead of creating new ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from ..plan.careplan import Difference, InEhr
from .schema import writeback_filings


class FilingOutcome(StrEnum):
    FILED = "filed"  # the EHR answered 200/201 for everything
    FAILED = "failed"  # refused (403/422/5xx) or no answer: signed, not filed
    RECONCILE = "reconcile"  # the EHR's copy changed since we filed it: the user decides
    BLOCKED = "blocked"  # the app's own check refused to send it (invalid resource, wrong patient)
    NOT_FILED = "not-filed"  # app-only tier: nothing is sent


@dataclass(frozen=True, slots=True)
class FilingAttempt:
    iss: str
    patient_id: str
    plan_id: str
    plan_version: int
    tier: str
    outcome: FilingOutcome
    message: str
    attempted_by: str
    attempted_at: datetime
    http_status: int | None = None
    resources: Mapping[str, InEhr] = field(default_factory=dict)
    ehr_link: str = ""
    differences: tuple[Difference, ...] = ()
    attempt_id: int | None = None

    @property
    def filed(self) -> bool:
        return self.outcome is FilingOutcome.FILED


class FilingStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record(self, attempt: FilingAttempt) -> FilingAttempt:
        values = {
            "iss": attempt.iss, "patient_id": attempt.patient_id, "plan_id": attempt.plan_id,
            "plan_version": attempt.plan_version, "tier": attempt.tier, "outcome": attempt.outcome.value,
            "message": attempt.message, "http_status": attempt.http_status,
            "resources": {k: {"reference": v.reference, "version_id": v.version_id}
                          for k, v in attempt.resources.items()},
            "ehr_link": attempt.ehr_link,
            "differences": [{"what": d.what, "ours": d.ours, "theirs": d.theirs} for d in attempt.differences],
            "attempted_by": attempt.attempted_by, "attempted_at": attempt.attempted_at,
        }
        with self.engine.begin() as conn:
            attempt_id = conn.execute(writeback_filings.insert().values(**values)).inserted_primary_key[0]
        return replace(attempt, attempt_id=attempt_id)

    def latest(self, plan_id: str, plan_version: int | None = None) -> FilingAttempt | None:
        """The most recent attempt for the plan (for one version of it, when given)."""
        query = sa.select(writeback_filings).where(writeback_filings.c.plan_id == plan_id)
        if plan_version is not None:
            query = query.where(writeback_filings.c.plan_version == plan_version)
        return self._first(query)

    def last_filed(self, plan_id: str, tier: str) -> FilingAttempt | None:
        """The most recent successful filing of the plan in `tier`, of any version."""
        return self._first(sa.select(writeback_filings).where(
            writeback_filings.c.plan_id == plan_id, writeback_filings.c.tier == tier,
            writeback_filings.c.outcome == FilingOutcome.FILED.value))

    def in_ehr(self, plan_id: str, tier: str) -> dict[str, InEhr]:
        """Where our resources are in the EHR: the last successful filing, brought forward by what the
        failed attempts since then wrote before they stopped (so the next attempt resumes, R51)."""
        last = self.last_filed(plan_id, tier)
        query = sa.select(writeback_filings).where(
            writeback_filings.c.plan_id == plan_id, writeback_filings.c.tier == tier,
            writeback_filings.c.outcome == FilingOutcome.FAILED.value)
        if last is not None:
            query = query.where(writeback_filings.c.id > last.attempt_id)
        found = dict(last.resources) if last else {}
        with self.engine.connect() as conn:
            for row in conn.execute(query.order_by(writeback_filings.c.id)):
                found.update(_attempt_from(row).resources)
        return found

    def attempts(self, plan_id: str) -> list[FilingAttempt]:
        """Every attempt, oldest first."""
        query = sa.select(writeback_filings).where(writeback_filings.c.plan_id == plan_id) \
            .order_by(writeback_filings.c.id)
        with self.engine.connect() as conn:
            return [_attempt_from(row) for row in conn.execute(query)]

    def _first(self, query) -> FilingAttempt | None:
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(writeback_filings.c.id.desc()).limit(1)).first()
        return _attempt_from(row) if row else None


def _attempt_from(row: Any) -> FilingAttempt:
    at = row.attempted_at if row.attempted_at.tzinfo else row.attempted_at.replace(tzinfo=UTC)
    return FilingAttempt(
        iss=row.iss, patient_id=row.patient_id, plan_id=row.plan_id, plan_version=row.plan_version, tier=row.tier,
        outcome=FilingOutcome(row.outcome), message=row.message, attempted_by=row.attempted_by, attempted_at=at,
        http_status=row.http_status,
        resources={k: InEhr(v["reference"], v["version_id"]) for k, v in (row.resources or {}).items()},
        ehr_link=row.ehr_link,
        differences=tuple(Difference(d["what"], d["ours"], d["theirs"]) for d in (row.differences or [])),
        attempt_id=row.id,
    )
