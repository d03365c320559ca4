"""Which write-back tier a site gets: structured CarePlan, a filed note, or the app only (R46, R47).

Layer: write-back (shell). Three inputs must agree: the site's configured write mode, what the EHR's
CapabilityStatement says it accepts, and the scopes the EHR granted this launch. The reason is plain
language for the review page ("before anyone signs") and the filing page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..fhir.capabilities import Capabilities
from ..launch.scopes import grants
from ..session import LaunchSession
from ..tenants import Tenant

# What the structured tier must be able to create and update; Provenance is written when allowed.
STRUCTURED_TYPES = ("CarePlan", "Goal", "Task", "CareTeam")
NOTE_TYPE = "DocumentReference"


class TierKind(StrEnum):
    STRUCTURED = "structured"
    NOTE = "note"
    APP_ONLY = "app-only"


TIER_LABELS: dict[TierKind, str] = {
    TierKind.STRUCTURED: "Filed in the EHR as a care plan with goals and tasks",
    TierKind.NOTE: "Filed in the EHR as a plan-of-care note",
    TierKind.APP_ONLY: "Kept in this app only (not filed in the EHR)",
}


@dataclass(frozen=True, slots=True)
class Tier:
    kind: TierKind
    reason: str

    @property
    def label(self) -> str:
        return TIER_LABELS[self.kind]


def tier_for(launch: LaunchSession, tenant: Tenant, capabilities: Capabilities) -> Tier:
    """The tier for this launch: the site's write mode, the EHR's capabilities and the granted scopes."""
    return choose_tier(tenant.write_mode, capabilities, launch.scope)


def choose_tier(write_mode: str, capabilities: Capabilities, scope: str) -> Tier:
    if write_mode == "none":
        return Tier(TierKind.APP_ONLY, "This site is set up to keep plans in the app and not file them in the EHR.")
    why_not_structured = ""
    if write_mode == "careplan":
        why_not_structured = _missing(STRUCTURED_TYPES, ("create", "update"), capabilities, scope)
        if not why_not_structured:
            return Tier(TierKind.STRUCTURED, "The EHR accepts care plans, goals and tasks from this app.")
    why_not_note = _missing((NOTE_TYPE,), ("create",), capabilities, scope)
    if not why_not_note:
        if write_mode == "note":
            return Tier(TierKind.NOTE, "This site is set up to file the plan as a note in the chart.")
        return Tier(TierKind.NOTE, f"The plan is filed as a note because {why_not_structured}.")
    because = f"{why_not_structured}, and {why_not_note}" if why_not_structured else why_not_note
    return Tier(TierKind.APP_ONLY, f"The plan cannot be filed in the EHR because {because}.")


def may_write_provenance(capabilities: Capabilities, scope: str) -> bool:
    """Provenance is written with a fixed id (PUT), so the EHR must allow updating it."""
    return capabilities.can_update("Provenance") and grants(scope, "Provenance", "update")


def _missing(resource_types: tuple[str, ...], interactions: tuple[str, ...], capabilities: Capabilities,
             scope: str) -> str:
    """'' when every type allows every interaction; otherwise the first reason it does not."""
    if not capabilities.known:
        return "the EHR did not say what it accepts (its capability statement could not be read)"
    for resource_type in resource_types:
        if not all(capabilities.supports(resource_type, i) for i in interactions):
            return f"the EHR does not accept {resource_type} records from apps"
    for resource_type in resource_types:
        if not all(grants(scope, resource_type, i) for i in interactions):
            return f"the EHR did not give this app permission to save {resource_type} records"
    return ""
