"""Saving changes to a plan: load the version the user saw, apply one negotiation command, save it as
the next version with a compare-and-swap. Nothing typed is ever silently overwritten.

Layer: shell services. Knows nothing of Flask; views call `change_plan` with a pure command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .audit import AuditTrail
from .errors import InvalidInput
from .plan import diff as plan_diff
from .plan.model import Plan, PlanVersion
from .plan.negotiation import Actor, NegotiationError
from .session import LaunchSession
from .store.plans import PlanConflict, PlanStore

PlanChange = Callable[[Plan, Actor, datetime], Plan]


@dataclass(frozen=True, slots=True)
class Conflict:
    """A stale save: what the others changed since the user's base version, and the version now."""

    base: PlanVersion | None
    latest: PlanVersion
    their_changes: tuple[str, ...]  # described in plain language


def change_plan(plans: PlanStore, audit: AuditTrail, launch: LaunchSession, actor: Actor, *,
                base_version: int | None, change: PlanChange, note: str, action: str) -> PlanVersion | Conflict:
    """Apply `change` to the version the user saw. Returns the new version, or a Conflict when the
    plan moved on since `base_version` (the user's input is theirs to resubmit)."""
    current = plans.current(launch.iss, launch.patient_id)
    current_number = current.version if current else None
    if base_version != current_number:
        return _conflict(plans, current, base_version)
    now = datetime.now(UTC)
    try:
        updated = change(current.plan if current else Plan(), actor, now)
    except NegotiationError as err:
        raise InvalidInput(str(err)) from None
    try:
        saved = plans.save(launch.iss, launch.patient_id, updated, base_version=current_number,
                           saved_by=actor.name, note=note, now=now)
    except PlanConflict as err:  # someone saved between our read and our write
        return _conflict(plans, err.latest, base_version)
    audit.record(f"plan-{action}", "success", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                 launch_id=launch.launch_id, version=saved.version, role=actor.role.value)
    return saved


def _conflict(plans: PlanStore, latest: PlanVersion | None, base_version: int | None) -> Conflict:
    if latest is None:  # the plan the user saw is gone: cannot happen with immutable versions
        raise InvalidInput("This plan no longer exists. Reload the page.")
    base = plans.version(latest.plan_id, base_version) if base_version else None
    changes = plan_diff.worth_showing(plan_diff.diff(base.plan if base else Plan(), latest.plan))
    return Conflict(base=base, latest=latest, their_changes=tuple(plan_diff.describe(c) for c in changes))
