"""The append-only audit trail (R63, R65): who, which patient, what, when, outcome.

Layer: shell services. Details are codes, ids and counts only: never tokens, never free text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .clock import Clock
from .security import digest
from .store.tables import audit_events

log = logging.getLogger("smart_app.audit")

SAFE_DETAIL_TYPES = (str, int, float, bool, type(None))


class AuditTrail:
    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def record(
        self,
        action: str,
        outcome: str,
        *,
        iss: str | None = None,
        patient_id: str | None = None,
        user: str | None = None,
        launch_id: str | None = None,
        **detail: Any,
    ) -> None:
        safe = {k: v for k, v in detail.items() if isinstance(v, SAFE_DETAIL_TYPES)}
        with self.engine.begin() as conn:
            conn.execute(
                audit_events.insert().values(
                    at=self.clock.now(),
                    action=action,
                    outcome=outcome,
                    iss=iss,
                    patient_id=patient_id,
                    user=user,
                    launch_id_hash=digest(launch_id) if launch_id else None,
                    detail=safe,
                )
            )
        log.info("audit %s %s", action, outcome)

    def record_many(self, events: list[dict[str, Any]]) -> None:
        """Several events in one transaction (e.g. one per summary section), off the hot path."""
        if not events:
            return
        now: datetime = self.clock.now()
        rows = []
        for event in events:
            event = dict(event)
            launch_id = event.pop("launch_id", None)
            fixed = {k: event.pop(k, None) for k in ("action", "outcome", "iss", "patient_id", "user")}
            rows.append({**fixed, "at": now, "launch_id_hash": digest(launch_id) if launch_id else None,
                         "detail": {k: v for k, v in event.items() if isinstance(v, SAFE_DETAIL_TYPES)}})
        with self.engine.begin() as conn:
            conn.execute(audit_events.insert(), rows)

    def for_patient(self, iss: str, patient_id: str) -> list[Mapping[str, Any]]:
        """Every event about one patient at one site, oldest first (accounting of disclosures)."""
        query = (
            sa.select(audit_events)
            .where(audit_events.c.iss == iss, audit_events.c.patient_id == patient_id)
            .order_by(audit_events.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
