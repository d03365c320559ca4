"""The plan's history as people read it: one group per revision, newest first, headed by how it stands
("Revision 3 · signed 3 Dec 2026 by Jordan Lee (Care coordinator) and Dr Sam Ortiz (Primary care
clinician)"), with the saves of that revision folded under it, newest first, each change described.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .diff import Change, ChangeKind, Entity, describe, diff, worth_showing
from .i18n import format_date
from .model import Plan, PlanState, PlanVersion
from .people import listed, person_label

_STATE_WORDS = {PlanState.DRAFT: "draft", PlanState.IN_REVIEW: "in review"}
# Opening a revision clears these; "Revision N opened" says it.
_CLEARED_ON_OPENING = (Entity.POSITION, Entity.RESOLUTION, Entity.SIGNOFF)


@dataclass(frozen=True, slots=True)
class HistoryStep:
    """One saved version: who saved it, when, their note, and what it changed, in words."""

    version: int
    saved_by: str
    saved_at: datetime
    note: str
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RevisionHistory:
    revision: int
    headline: str
    state: PlanState  # as the revision stands in its last version
    steps: tuple[HistoryStep, ...]  # newest first


def history(versions: Iterable[PlanVersion]) -> tuple[RevisionHistory, ...]:
    """The versions grouped by revision, newest revision first."""
    steps: dict[int, list[HistoryStep]] = {}
    last: dict[int, Plan] = {}
    previous = Plan()
    for version in sorted(versions, key=lambda v: v.version):
        plan = version.plan
        changes = tuple(describe(c) for c in _shown_changes(previous, plan))
        steps.setdefault(plan.revision, []).append(
            HistoryStep(version.version, version.saved_by, version.saved_at, version.note, changes))
        last[plan.revision] = plan
        previous = plan
    return tuple(
        RevisionHistory(revision, headline(last[revision]), last[revision].state, tuple(reversed(steps[revision])))
        for revision in sorted(steps, reverse=True)
    )


def headline(plan: Plan) -> str:
    """"Revision 3 · signed 3 Dec 2026 by A and B", "Revision 4 · in review", "Revision 1 · draft"."""
    if plan.state is not PlanState.SIGNED:
        return f"Revision {plan.revision} · {_STATE_WORDS[plan.state]}"
    when = f" {format_date(plan.signed_at.date(), short=True)}" if plan.signed_at else ""
    signers = [person_label(s.name, s.role) for s in plan.signoffs]
    by = f" by {listed(signers)}" if signers else ""
    return f"Revision {plan.revision} · signed{when}{by}"


def _shown_changes(before: Plan, after: Plan) -> tuple[Change, ...]:
    changes = worth_showing(diff(before, after))
    if after.revision == before.revision:
        return changes
    kept = [c for c in changes if not (
        (c.entity in _CLEARED_ON_OPENING and c.kind is ChangeKind.REMOVED)
        or (c.entity is Entity.PLAN and c.field == "state"))]
    return tuple(sorted(kept, key=lambda c: not (c.entity is Entity.PLAN and c.field == "revision")))
