"""The launch's medical summary: the one way to get it, with each section's state, and the
coordinator's curation of it.

Layer: services. Knows nothing of Flask. Views, the About us pages, the plan's suggestions, filing and
tracking all take their summary from here.

Only the sections asked for are known: `LaunchSummary.section` refuses a section that was not fetched
rather than presenting it as empty. Unknown is never "none".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ..audit import AuditTrail
from ..clock import Clock
from ..errors import InvalidInput
from ..fhir.queries import fetch_sections
from ..plan import curation
from ..plan.curation import AddedItem, ItemCuration
from ..plan.fhir_text import human_name
from ..plan.model import ROLE_LABELS, Role
from ..plan.record import SECTION_KEYS, SectionFetch, SourceRecord
from ..plan.summary import (
    MedicalSummary,
    PatientHeader,
    SummarySection,
    patient_header,
    summarize,
    summarize_section,
)
from ..session import LaunchSession, SessionStore
from ..store.curation_store import CurationStore
from ..tenants import Tenant
from .ehr_access import EhrAccess, profile_for

UNKNOWN_USER = "A member of the care team"


@dataclass(frozen=True)
class LaunchSummary:
    """The sections fetched for one launch on `today`, mapped, each with its state."""

    patient_id: str
    today: date
    header: PatientHeader | None
    fetched: Mapping[str, SectionFetch]
    sections: Mapping[str, SummarySection] = field(default_factory=dict)

    def section(self, key: str) -> SummarySection:
        """A fetched section (KeyError for one that was not asked for: it is unknown, not empty)."""
        return self.sections[key]

    def get(self, key: str) -> SummarySection | None:
        return self.sections.get(key)

    def medical_summary(self) -> MedicalSummary:
        """The whole summary model; sections not fetched come out empty, so callers use only the
        sections they asked for."""
        return summarize(SourceRecord(self.patient_id, self.fetched), today=self.today)


@dataclass(frozen=True)
class Curation:
    """The coordinator's decisions about the summary of one patient."""

    items: Mapping[str, ItemCuration]
    added: tuple[AddedItem, ...]


class SummaryService:
    def __init__(self, ehr: EhrAccess, curations: CurationStore, sessions: SessionStore, audit: AuditTrail,
                 clock: Clock) -> None:
        self.ehr = ehr
        self.curations = curations
        self.sessions = sessions
        self.audit = audit
        self.clock = clock

    # -- reading the EHR ------------------------------------------------------------------------------

    def expect_launch(self, tenant: Tenant) -> None:
        """A launch at this site has begun: what the summary needs of the site alone, read meanwhile."""
        self.ehr.read_capabilities_early(tenant)

    def fetches(self, launch: LaunchSession, tenant: Tenant,
                keys: Sequence[str] = SECTION_KEYS) -> Iterator[SectionFetch]:
        """Each section as soon as the EHR has answered for it (in parallel); one audit row each."""
        gateway = self.ehr.gateway(launch, tenant)
        events = []
        try:
            for fetch in fetch_sections(gateway, launch.patient_id, profile_for(tenant), today=self.clock.today(),
                                        capabilities=lambda: self.ehr.capabilities(tenant, gateway), keys=keys):
                events.append({"action": "fhir-search", "outcome": "failure" if fetch.state == "failed" else "success",
                               "iss": launch.iss, "patient_id": launch.patient_id, "user": launch.fhir_user,
                               "launch_id": launch.launch_id, "section": fetch.key, "count": len(fetch.resources)})
                yield fetch
        finally:  # R63: one row per section, written together once the page has what it needs
            self.audit.record_many(events)

    def map_section(self, launch: LaunchSession, fetch: SectionFetch) -> SummarySection:
        return summarize_section(fetch, today=self.clock.today(), patient_id=launch.patient_id)

    def summary(self, launch: LaunchSession, tenant: Tenant, keys: Sequence[str] = SECTION_KEYS, *,
                fetched: Mapping[str, SectionFetch] | None = None) -> LaunchSummary:
        """The sections `keys` of the summary (those in `fetched` are not fetched again)."""
        have = {key: f for key, f in (fetched or {}).items() if key in keys}
        missing = tuple(key for key in keys if key not in have)
        if missing:
            have.update((f.key, f) for f in self.fetches(launch, tenant, missing))
        header = patient_header(have["patient"], patient_id=launch.patient_id) if "patient" in have else None
        return LaunchSummary(
            patient_id=launch.patient_id,
            today=self.clock.today(),
            header=header,
            fetched=have,
            sections={key: self.map_section(launch, have[key]) for key in keys},
        )

    def header(self, launch: LaunchSession, tenant: Tenant) -> PatientHeader | None:
        """The banner's facts from the Patient resource (read once per launch); None if unreadable."""
        patient = self.ehr.read(launch, tenant, f"Patient/{launch.patient_id}")
        if patient is None:
            return None
        return patient_header(SectionFetch("patient", (patient,)), patient_id=launch.patient_id)

    def user_name(self, launch: LaunchSession, tenant: Tenant) -> str:
        """How the signed-in user is named on what they save: their name in the EHR (fhirUser), else
        the role they work in, else a neutral phrase."""
        resource = self.ehr.read(launch, tenant, launch.fhir_user) if launch.fhir_user else None
        name = human_name(resource.get("name")) if resource else ""
        if name:
            return name
        if launch.acting_role in {r.value for r in Role}:
            return ROLE_LABELS[Role(launch.acting_role)]
        return UNKNOWN_USER

    def encounter_belongs_to_patient(self, launch: LaunchSession, tenant: Tenant) -> bool:
        """Whether the launch encounter's subject is the launch patient (R20); False if unreadable."""
        encounter = self.ehr.read(launch, tenant, f"Encounter/{launch.encounter_id}")
        subject = encounter.get("subject") if encounter and isinstance(encounter.get("subject"), dict) else {}
        return subject.get("reference") in (f"Patient/{launch.patient_id}",
                                             f"{tenant.iss.rstrip('/')}/Patient/{launch.patient_id}")

    # -- the reader's folds --------------------------------------------------------------------------

    def folded(self, launch: LaunchSession) -> frozenset[str]:
        """The sections this user keeps folded, remembered across launches at this site."""
        return self.sessions.folded_sections(launch)

    def fold(self, launch: LaunchSession, section: object, folded: bool) -> None:
        if section not in SECTION_KEYS:
            raise InvalidInput("That part of the summary does not exist.")
        self.sessions.set_folded(launch, str(section), folded)

    # -- the coordinator's curation -------------------------------------------------------------------

    def curation(self, launch: LaunchSession) -> Curation:
        return Curation(self.curations.curations(launch.iss, launch.patient_id),
                        tuple(self.curations.added(launch.iss, launch.patient_id)))

    def hide(self, launch: LaunchSession, tenant: Tenant, ref: object, reason: object) -> None:
        self._curate(launch, tenant, ref, lambda current, ref, by, now: curation.hide(current, ref, reason, by=by,
                                                                                         at=now))

    def unhide(self, launch: LaunchSession, tenant: Tenant, ref: object) -> None:
        self._curate(launch, tenant, ref, lambda current, ref, by, now: curation.unhide(current, ref, by=by, at=now))

    def annotate(self, launch: LaunchSession, tenant: Tenant, ref: object, note: object) -> None:
        self._curate(launch, tenant, ref, lambda current, ref, by, now: curation.annotate(current, ref, note, by=by,
                                                                                             at=now))

    def add_item(self, launch: LaunchSession, tenant: Tenant, item_id: str, section: object, label: object,
                 contact: object, note: object) -> AddedItem:
        item = _checked(lambda: curation.new_added_item(item_id, section, label, contact, note,
                                                        by=self.user_name(launch, tenant), at=self.clock.now()))
        self.curations.add(launch.iss, launch.patient_id, item)
        self._audit(launch, "curation-add", section=item.section)
        return item

    def remove_item(self, launch: LaunchSession, item_id: str) -> None:
        if not self.curations.remove(launch.iss, launch.patient_id, item_id, at=self.clock.now()):
            raise InvalidInput("That item was already removed.")
        self._audit(launch, "curation-remove")

    def _curate(self, launch: LaunchSession, tenant: Tenant, ref: object, change) -> None:
        if not curation.is_item_ref(ref):
            raise InvalidInput("That item could not be found.")
        current = self.curations.curation(launch.iss, launch.patient_id, ref)
        updated = _checked(lambda: change(current, ref, self.user_name(launch, tenant), self.clock.now()))
        self.curations.save_curation(launch.iss, launch.patient_id, updated)
        self._audit(launch, "curation", resource_type=str(ref).split("/")[0])

    def _audit(self, launch: LaunchSession, action: str, **detail) -> None:
        self.audit.record(action, "success", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                          launch_id=launch.launch_id, **detail)


def _checked(make):
    try:
        return make()
    except curation.CurationError as err:
        raise InvalidInput(str(err)) from None
