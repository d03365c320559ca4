"""What the EHR returned for one patient, section by section, before any mapping.

Layer: pure core (smart_app.plan). Imports: stdlib only.

The query plan (smart_app.fhir.queries) fills a SourceRecord; plan.summary maps it. Resources stay
raw FHIR JSON here: this is the one model type allowed to carry them, because it is the input edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

FhirJson = Mapping[str, Any]


class SectionState(StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # capped paging or a warning OperationOutcome: show what we have, say so
    FAILED = "failed"  # the EHR refused or errored: show "failed", offer a retry
    NOT_OFFERED = "not-offered"  # this EHR does not share this section with apps (by its capabilities)


# Section keys, in the order the summary shows them. The query plan fills each with every resource it
# fetched for that section, resolved references included (e.g. Medication, PractitionerRole).
SECTION_KEYS: tuple[str, ...] = (
    "patient",  # Patient, RelatedPerson
    "conditions",  # Condition
    "medications",  # MedicationRequest, MedicationStatement, Medication
    "allergies",  # AllergyIntolerance
    "procedures",  # Procedure
    "equipment",  # Device, DeviceUseStatement, DeviceRequest
    "care_team",  # CareTeam, Practitioner, PractitionerRole, Organization, RelatedPerson
    "encounters",  # Encounter (+ Practitioner/PractitionerRole/Organization they point at)
    "services",  # ServiceRequest (referrals, therapies, home services)
    "goals",  # Goal
    "care_plans",  # CarePlan
    "documents",  # DocumentReference (advance directives, POLST, prior plan-of-care notes)
)


@dataclass(frozen=True, slots=True)
class SectionFetch:
    """One section as fetched: its resources, whether it is whole, and notes for the reader."""

    key: str
    resources: tuple[FhirJson, ...] = ()
    state: SectionState = SectionState.COMPLETE
    notes: tuple[str, ...] = ()  # plain-language, no PHI: "The EHR says this list may be incomplete."


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """Everything fetched for one patient. `sections` maps a SECTION_KEYS key to its fetch."""

    patient_id: str
    sections: Mapping[str, SectionFetch] = field(default_factory=dict)

    def section(self, key: str) -> SectionFetch:
        return self.sections.get(key) or SectionFetch(key=key)
