"""The portable medical summary: FHIR JSON, section by section, mapped into typed summary items.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. No clock: callers pass
`today`.

Each section maps alone (`summarize_section`), resolving references only from that section's own
resources, so the page can fill sections in as their searches finish. Rules every section follows:
entered-in-error is never shown; active items and stopped/resolved ones are kept apart; a
data-absent-reason reads "unknown"; OperationOutcome and Provenance resources are never items; every
item carries a `Source` saying where it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from smart_app.plan.dates import add_months, one_year_before
from smart_app.plan.fhir_text import (
    Code,
    as_list,
    as_mapping,
    code_of,
    codings_of,
    data_absent,
    display_of,
    fhir_date,
    field_absent,
    first_text,
    human_name,
    is_entered_in_error,
    mappings,
    period_end,
    period_start,
    reference_of,
    string_of,
    target_of,
    telecom_phone,
    text_of,
)
from smart_app.plan.record import SECTION_KEYS, FhirJson, SectionFetch, SectionState, SourceRecord

__all__ = [
    "SECTION_TITLES",
    "AllergyItem",
    "CarePlanItem",
    "CareTeamMember",
    "Code",
    "ConditionItem",
    "ConditionStatus",
    "Contact",
    "DocumentItem",
    "EncounterItem",
    "EncounterKind",
    "EquipmentItem",
    "EquipmentKind",
    "GoalItem",
    "HospitalUse",
    "MedicalSummary",
    "MedicationItem",
    "PatientHeader",
    "ProcedureItem",
    "ServiceItem",
    "Source",
    "SpecialistSeen",
    "SummaryItem",
    "SummarySection",
    "hospital_use_from",
    "hospital_use_of",
    "item_key",
    "patient_header",
    "summarize",
    "summarize_section",
]

UNKNOWN = "unknown"

# What each section holds. The query plan asks the EHR for exactly this (smart_app.fhir.queries), and the
# mapping keeps exactly this whatever the EHR sent back: a server that ignores a filter, or a proxy that
# mangles one, must not change what is shown as current.
ENCOUNTER_LOOKBACK_MONTHS = 24
ORDER_INTENTS = frozenset({"order", "plan", "original-order", "reflex-order", "filler-order", "instance-order"})
MEDICATION_ORDER_STATUSES = ("active", "on-hold")
MEDICATION_STATEMENT_STATUSES = ("active", "on-hold", "intended")
GOAL_LIFECYCLES = ("proposed", "planned", "accepted", "active", "on-hold")
ASSESS_PLAN = ("http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "assess-plan")
ADVANCE_DIRECTIVES_CATEGORY = ("http://loinc.org", "42348-3")
PERSONAL_ADVANCE_CARE_PLAN_TYPE = ("http://loinc.org", "81334-5")
MAY_BE_INCOMPLETE = "The EHR says this list may be incomplete."

SECTION_TITLES: Mapping[str, str] = {
    "patient": "Family and contacts",
    "conditions": "Conditions",
    "medications": "Medications",
    "allergies": "Allergies",
    "procedures": "Procedures and surgeries",
    "equipment": "Equipment and devices",
    "care_team": "Care team",
    "encounters": "Visits and hospital stays",
    "services": "Services and referrals",
    "goals": "Goals",
    "care_plans": "Care plans",
    "documents": "Advance directives and documents",
}

# ---------------------------------------------------------------------------------------------------
# The summary model
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """Where an item came from: the EHR resource, when it was recorded, and who recorded it."""

    resource_type: str
    reference: str  # "Condition/123", or "" when the EHR sent no id
    recorded: date | None = None
    author: str = ""  # "" when the EHR does not say
    by_this_app: bool = False  # the app filed it (it carries our identifier): never news to the plan


class ConditionStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"
    INACTIVE = "inactive"


class EquipmentKind(StrEnum):
    DEVICE = "device"
    IN_USE = "in use"
    ORDERED = "ordered"


class EncounterKind(StrEnum):
    EMERGENCY = "emergency"
    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ConditionItem:
    label: str
    codes: tuple[Code, ...]
    onset: date | None
    onset_text: str  # "", "unknown", "age 3 a", or the EHR's own onset text
    status: ConditionStatus
    category: str
    source: Source


@dataclass(frozen=True, slots=True)
class MedicationItem:
    label: str
    dose_text: str
    status: str  # the EHR's status: active, on-hold, completed, stopped, intended...
    active: bool
    codes: tuple[Code, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class AllergyItem:
    label: str
    reactions: tuple[str, ...]
    criticality: str  # "high", "low", "unable to assess", "unknown" or ""
    status: str
    source: Source
    no_known: bool = False  # "no known allergies" recorded: a positive statement, not an empty list


@dataclass(frozen=True, slots=True)
class ProcedureItem:
    label: str
    performed: date | None
    status: str
    source: Source


@dataclass(frozen=True, slots=True)
class EquipmentItem:
    label: str
    kind: EquipmentKind
    supplier: str
    status: str
    source: Source


@dataclass(frozen=True, slots=True)
class CareTeamMember:
    name: str
    role: str
    specialty: str
    phone: str
    organization: str
    source: Source  # the CareTeam
    member: str = ""  # "PractitionerRole/7": who this is, when the EHR says

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class EncounterItem:
    label: str
    kind: EncounterKind
    start: date | None
    end: date | None
    status: str
    clinician: str
    specialty: str
    organization: str
    source: Source


@dataclass(frozen=True, slots=True)
class SpecialistSeen:
    name: str
    specialty: str
    organization: str
    last_seen: date | None


@dataclass(frozen=True, slots=True)
class HospitalUse:
    """Emergency visits and admissions that started in the twelve months up to `today`."""

    ed_visits_12m: int
    admissions_12m: int
    specialists_seen: tuple[SpecialistSeen, ...]
    since: date
    complete: bool  # False when the encounter list was capped or flagged: counts are then minimums
    last_ed_visit: date | None = None  # the latest in the encounters read (24 months), not only the last 12
    last_admission: date | None = None


@dataclass(frozen=True, slots=True)
class ServiceItem:
    label: str
    category: str  # "Referral", "Home health", ... as the EHR codes it
    status: str
    performer: str
    requested: date | None
    source: Source


@dataclass(frozen=True, slots=True)
class GoalItem:
    label: str
    status: str
    achievement: str
    expressed_by: str
    due: date | None
    source: Source


@dataclass(frozen=True, slots=True)
class CarePlanItem:
    label: str
    status: str
    category: str
    start: date | None
    end: date | None
    source: Source


@dataclass(frozen=True, slots=True)
class DocumentItem:
    label: str
    kind: str
    status: str
    dated: date | None
    source: Source


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    relationship: str
    phone: str
    source: Source

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class PatientHeader:
    name: str
    birth_date: date | None
    sex: str
    mrn: str
    language: str
    source: Source


SummaryItem = (
    ConditionItem
    | MedicationItem
    | AllergyItem
    | ProcedureItem
    | EquipmentItem
    | CareTeamMember
    | EncounterItem
    | ServiceItem
    | GoalItem
    | CarePlanItem
    | DocumentItem
    | Contact
)


@dataclass(frozen=True, slots=True)
class SummarySection:
    """One section of the summary: current items, stopped/resolved items shown apart, and its state."""

    key: str
    title: str
    active: tuple[SummaryItem, ...] = ()
    inactive: tuple[SummaryItem, ...] = ()
    state: SectionState = SectionState.COMPLETE
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.active)

    @property
    def is_empty(self) -> bool:
        return not self.active and not self.inactive


@dataclass(frozen=True, slots=True)
class MedicalSummary:
    patient: PatientHeader | None  # None when the Patient could not be read
    contacts: SummarySection  # key "patient": family and contacts, with the patient fetch's state
    sections: tuple[SummarySection, ...]  # SECTION_KEYS order, "patient" excluded
    hospital_use: HospitalUse | None  # None when the encounter search failed

    def section(self, key: str) -> SummarySection:
        if key == self.contacts.key:
            return self.contacts
        return next((s for s in self.sections if s.key == key), _empty_section(key))


# ---------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------


def summarize(record: SourceRecord, *, today: date) -> MedicalSummary:
    """The whole medical summary of a fetched record."""
    patient_fetch = record.section("patient")
    sections = tuple(
        summarize_section(record.section(key), today=today) for key in SECTION_KEYS if key != "patient"
    )
    encounters = next((s for s in sections if s.key == "encounters"), _empty_section("encounters"))
    return MedicalSummary(
        patient=patient_header(patient_fetch, patient_id=record.patient_id),
        contacts=summarize_section(patient_fetch, today=today, patient_id=record.patient_id),
        sections=sections,
        hospital_use=hospital_use_of(encounters, today=today),
    )


def summarize_section(fetch: SectionFetch, *, today: date, patient_id: str = "") -> SummarySection:
    """One section of the summary, from that section's fetch alone.

    `patient_id` only matters for the "patient" section, whose items are the patient's contacts.
    """
    index = _Index(fetch.resources)
    mapper = _MAPPERS.get(fetch.key)
    placed = list(mapper(index, today, patient_id)) if mapper else []
    notes = tuple(fetch.notes)
    if not notes and index.has_outcome:
        notes = (MAY_BE_INCOMPLETE,)
    return SummarySection(
        key=fetch.key,
        title=SECTION_TITLES.get(fetch.key, fetch.key.replace("_", " ").capitalize()),
        active=_sorted(fetch.key, [item for item, active in placed if active]),
        inactive=_sorted(fetch.key, [item for item, active in placed if not active]),
        state=fetch.state,
        notes=notes,
    )


def patient_header(fetch: SectionFetch, *, patient_id: str = "") -> PatientHeader | None:
    """The banner line for the patient section's Patient (the one with `patient_id` when given)."""
    index = _Index(fetch.resources)
    patient = _the_patient(index, patient_id)
    if patient is None:
        return None
    return PatientHeader(
        name=first_text(human_name(patient.get("name")), field_absent(patient, "name"), "Name not available"),
        birth_date=fhir_date(patient.get("birthDate")),
        sex=first_text(string_of(patient.get("gender")), field_absent(patient, "gender")),
        mrn=_mrn(patient),
        language=_preferred_language(patient),
        source=_source(patient, index),
    )


def hospital_use_from(fetch: SectionFetch, *, today: date) -> HospitalUse | None:
    """ED visits and admissions in the year up to `today`, and the clinicians seen outside hospital.

    `fetch` is the encounters fetch; None when that search failed.
    """
    return hospital_use_of(summarize_section(replace(fetch, key="encounters"), today=today), today=today)


def hospital_use_of(encounters: SummarySection, *, today: date) -> HospitalUse | None:
    """hospital_use_from for an encounters section already summarized (saves mapping it twice)."""
    if encounters.state is SectionState.FAILED:
        return None
    since = one_year_before(today)
    visits = [item for item in encounters.active if isinstance(item, EncounterItem)]
    recent = [v for v in visits if v.start is not None and since <= v.start <= today]
    return HospitalUse(
        ed_visits_12m=sum(1 for v in recent if v.kind is EncounterKind.EMERGENCY),
        admissions_12m=sum(1 for v in recent if v.kind is EncounterKind.INPATIENT),
        specialists_seen=_specialists_seen(visits),
        since=since,
        complete=encounters.state is SectionState.COMPLETE,
        last_ed_visit=_latest(visits, EncounterKind.EMERGENCY, today),
        last_admission=_latest(visits, EncounterKind.INPATIENT, today),
    )


def _latest(visits: Iterable[EncounterItem], kind: EncounterKind, today: date) -> date | None:
    return max((v.start for v in visits if v.kind is kind and v.start is not None and v.start <= today),
               default=None)


def item_key(item: SummaryItem) -> str:
    """A stable key for an item across launches, for curation (hide, annotate) stored with the plan."""
    if isinstance(item, CareTeamMember) and item.member:
        return item.member
    if isinstance(item, CareTeamMember | Contact) and item.source.resource_type in ("CareTeam", "Patient"):
        return f"{item.source.reference or item.source.resource_type}|{item.name.casefold()}"
    return item.source.reference or f"{item.source.resource_type}|{item.label.casefold()}"


# ---------------------------------------------------------------------------------------------------
# Reading a section: its resources indexed by reference, Provenance by target
# ---------------------------------------------------------------------------------------------------

_NEVER_ITEMS = frozenset({"OperationOutcome", "Provenance", "Bundle"})

Placed = tuple[SummaryItem, bool]  # an item and whether it belongs in the active list
Mapper = Callable[["_Index", date, str], Iterable[Placed]]


class _Index:
    """A section's resources, each once and entered-in-error left out, with reference lookups."""

    __slots__ = ("_by_kind", "_by_reference", "_provenance", "has_outcome")

    def __init__(self, resources: Iterable[Any]) -> None:
        self._by_kind: dict[str, list[Mapping[str, Any]]] = {}
        self._by_reference: dict[str, Mapping[str, Any]] = {}
        self._provenance: dict[str, Mapping[str, Any]] = {}
        self.has_outcome = False
        seen: set[str] = set()
        for resource in resources if isinstance(resources, Iterable) else ():
            if isinstance(resource, Mapping):
                self._add(resource, seen)

    def _add(self, resource: Mapping[str, Any], seen: set[str]) -> None:
        kind = string_of(resource.get("resourceType"))
        reference = reference_of(resource)
        if reference in seen:
            return  # the same resource on two pages: the first copy stands
        if reference:
            seen.add(reference)
        if is_entered_in_error(resource):
            return  # neither shown nor used to name anything else
        if reference:
            self._by_reference[reference] = resource
        if kind == "OperationOutcome":
            self.has_outcome = True
        elif kind == "Provenance":
            for target in mappings(resource.get("target")):
                self._provenance.setdefault(target_of(target), resource)
        if kind not in _NEVER_ITEMS:
            self._by_kind.setdefault(kind, []).append(resource)

    def of_type(self, kind: str) -> list[Mapping[str, Any]]:
        """The section's resources of this type, in the order the EHR sent them."""
        return self._by_kind.get(kind, [])

    def resolve(self, reference: Any, holder: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        """The resource a Reference points at: contained in `holder`, or in this section; else {}."""
        target = target_of(reference)
        if target.startswith("#") and holder is not None:
            wanted = target[1:]
            return next(
                (c for c in mappings(holder.get("contained")) if string_of(c.get("id")) == wanted), {}
            )
        return self._by_reference.get(target, {}) if target else {}

    def provenance_of(self, resource: Mapping[str, Any]) -> Mapping[str, Any]:
        return self._provenance.get(reference_of(resource), {})

    def name_of(self, reference: Any, holder: Mapping[str, Any] | None = None) -> str:
        """A display name for whoever a Reference points at: resolved first, then its display."""
        return first_text(_name_of_resource(self.resolve(reference, holder), self), display_of(reference))


def _name_of_resource(resource: Mapping[str, Any], index: _Index | None = None) -> str:
    kind = string_of(resource.get("resourceType"))
    if kind in ("Practitioner", "Patient", "RelatedPerson"):
        return human_name(resource.get("name"))
    if kind in ("Organization", "CareTeam", "Group", "HealthcareService", "Location"):
        return string_of(resource.get("name"))
    if kind == "PractitionerRole" and index is not None:
        # One level only: a role pointing at another role must not send us round in circles.
        return first_text(
            *(
                first_text(_name_of_resource(index.resolve(ref, resource)), display_of(ref))
                for ref in (resource.get("practitioner"), resource.get("organization"))
            )
        )
    if kind == "Device":
        return _device_name(resource)
    return ""


# Where each resource type keeps its recorded date and its author, in order of preference.
_RECORDED: Mapping[str, tuple[str, ...]] = {
    "Condition": ("recordedDate",),
    "AllergyIntolerance": ("recordedDate",),
    "MedicationRequest": ("authoredOn",),
    "MedicationStatement": ("dateAsserted",),
    "DeviceUseStatement": ("recordedOn",),
    "DeviceRequest": ("authoredOn",),
    "ServiceRequest": ("authoredOn",),
    "Goal": ("statusDate",),
    "CarePlan": ("created",),
    "DocumentReference": ("date",),
}
_AUTHOR: Mapping[str, tuple[str, ...]] = {
    "Condition": ("recorder", "asserter"),
    "AllergyIntolerance": ("recorder", "asserter"),
    "MedicationRequest": ("requester", "recorder"),
    "MedicationStatement": ("informationSource",),
    "Procedure": ("recorder", "asserter"),
    "DeviceUseStatement": ("source",),
    "DeviceRequest": ("requester",),
    "ServiceRequest": ("requester",),
    "Goal": ("expressedBy",),
    "CarePlan": ("author",),
    "DocumentReference": ("author",),
}


def _source(resource: Mapping[str, Any], index: _Index) -> Source:
    kind = string_of(resource.get("resourceType"))
    provenance = index.provenance_of(resource)
    recorded = next(
        (d for d in (fhir_date(resource.get(key)) for key in _RECORDED.get(kind, ())) if d is not None),
        None,
    )
    author = first_text(
        *(
            index.name_of(ref, resource)
            for key in _AUTHOR.get(kind, ())
            for ref in mappings(resource.get(key))
        ),
        _provenance_author(provenance, index),
    )
    updated = fhir_date(as_mapping(resource.get("meta")).get("lastUpdated"))
    return Source(
        resource_type=kind,
        reference=reference_of(resource),
        recorded=recorded or fhir_date(provenance.get("recorded")) or updated,
        author=author,
        by_this_app=filed_by_this_app(resource),
    )


APP_IDENTIFIER_PREFIX = "urn:spoc:"  # the systems of the identifiers the app files under (plan.careplan)


def filed_by_this_app(resource: Mapping[str, Any]) -> bool:
    """The app's own write, read back: it carries one of our identifiers."""
    return any(string_of(i.get("system")).startswith(APP_IDENTIFIER_PREFIX)
               for i in mappings(resource.get("identifier")))


def _provenance_author(provenance: Mapping[str, Any], index: _Index) -> str:
    agents = mappings(provenance.get("agent"))
    authors = [a for a in agents if code_of(a.get("type")) == "author"]
    return first_text(*(index.name_of(a.get("who"), provenance) for a in (*authors, *agents)))


def _label(resource: Mapping[str, Any], key: str, fallback: str) -> str:
    return first_text(text_of(resource.get(key)), field_absent(resource, key), fallback)


def _status(resource: Mapping[str, Any], key: str = "status") -> str:
    return first_text(code_of(resource.get(key)), field_absent(resource, key))


def _is_true(value: Any) -> bool:
    return value is True


# ---------------------------------------------------------------------------------------------------
# One mapping per resource type
# ---------------------------------------------------------------------------------------------------

_CONDITION_STATUS = {
    "active": ConditionStatus.ACTIVE,
    "recurrence": ConditionStatus.ACTIVE,
    "relapse": ConditionStatus.ACTIVE,
    "inactive": ConditionStatus.INACTIVE,
    "remission": ConditionStatus.INACTIVE,
    "resolved": ConditionStatus.RESOLVED,
}
_ABATEMENT = ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString")


def _conditions(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    for condition in index.of_type("Condition"):
        placed = condition_from(condition, index)
        if placed:
            yield placed


def condition_from(condition: FhirJson, index: _Index) -> Placed | None:
    """A Condition as a summary item, or None when it was refuted."""
    if code_of(condition.get("verificationStatus")) == "refuted":
        return None
    clinical = code_of(condition.get("clinicalStatus"))
    if clinical in _CONDITION_STATUS:
        status = _CONDITION_STATUS[clinical]
    elif any(condition.get(key) for key in _ABATEMENT):
        status = ConditionStatus.RESOLVED
    else:  # missing or unreadable: show it as current rather than hide it
        status = ConditionStatus.ACTIVE
    item = ConditionItem(
        label=_label(condition, "code", "Condition (name not available)"),
        codes=_codes(condition.get("code")),
        onset=fhir_date(condition.get("onsetDateTime")) or period_start(condition.get("onsetPeriod")),
        onset_text=_onset_text(condition),
        status=status,
        category=_condition_category(condition.get("category")),
        source=_source(condition, index),
    )
    return item, status is ConditionStatus.ACTIVE


_CONDITION_CATEGORIES = {
    "problem-list-item": "Problem list",
    "health-concern": "Health concern",
    "encounter-diagnosis": "Encounter diagnosis",
    "sdoh": "Social needs",
}


# How conditions are grouped on every page: the category decides the group, never whether a condition
# is shown (R4 lets a Condition carry no category at all).
def _condition_category(categories: Any) -> str:
    return _worded(categories, _CONDITION_CATEGORIES)


def _worded(concepts: Any, words: Mapping[str, str]) -> str:
    """A concept's own text or display; else our word for its code (EHRs often omit displays)."""
    for concept in as_list(concepts):
        text = string_of(as_mapping(concept).get("text")) or first_text(
            *(c.display for c in codings_of(concept))
        )
        if text:
            return text
        for coding in codings_of(concept):
            if coding.code.lower() in words:
                return words[coding.code.lower()]
    return text_of(concepts)


def _codes(concept: Any) -> tuple[Code, ...]:
    return tuple(
        c
        for c in codings_of(concept)
        if c.system != "http://terminology.hl7.org/CodeSystem/data-absent-reason"
    )


def _onset_text(condition: Mapping[str, Any]) -> str:
    age = as_mapping(condition.get("onsetAge"))
    if string_of(age.get("value")):
        unit = first_text(string_of(age.get("unit")), string_of(age.get("code")))
        return f"age {string_of(age.get('value'))} {unit}".strip()
    return first_text(
        string_of(condition.get("onsetString")),
        field_absent(condition, "onsetDateTime"),
        field_absent(condition, "onsetPeriod"),
    )


_REQUEST_ACTIVE = frozenset(MEDICATION_ORDER_STATUSES)
_REQUEST_SHOWN = _REQUEST_ACTIVE | {"completed"}
_STATEMENT_ACTIVE = frozenset({*MEDICATION_STATEMENT_STATUSES, "unknown", ""})
_STATEMENT_INACTIVE = frozenset({"completed", "stopped"})
NO_MEDICATION_NAME = "Medication (name not available)"


def _medications(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    orders = [p for p in (medication_from(r, index) for r in index.of_type("MedicationRequest")) if p]
    yield from orders
    active_orders = _OrderedMedicines([item for item, active in orders if active])
    all_orders = _OrderedMedicines([item for item, _ in orders])
    for statement in index.of_type("MedicationStatement"):
        placed = medication_from(statement, index)
        # The EHR often lists one medicine both as an order and as a statement: show it once. A
        # statement still being taken stands beside a completed order of the same medicine.
        if placed and not (active_orders if placed[1] else all_orders).include(statement, placed[0]):
            yield placed


class _OrderedMedicines:
    """What a set of medication orders names, to recognise a statement that repeats one of them."""

    __slots__ = ("codes", "names", "references")

    def __init__(self, orders: list[MedicationItem]) -> None:
        self.references = {o.source.reference for o in orders if o.source.reference}
        self.names = {o.label.casefold() for o in orders if o.label != NO_MEDICATION_NAME}
        self.codes = {code for o in orders for code in o.codes}

    def include(self, statement: Mapping[str, Any], item: MedicationItem) -> bool:
        based_on = {target_of(r) for key in ("basedOn", "derivedFrom") for r in mappings(statement.get(key))}
        return bool(
            based_on & self.references or item.label.casefold() in self.names or set(item.codes) & self.codes
        )


def medication_from(resource: FhirJson, index: _Index) -> tuple[MedicationItem, bool] | None:
    """A MedicationRequest or MedicationStatement as an item, or None when it is not to be shown."""
    kind = string_of(resource.get("resourceType"))
    status = _status(resource)
    if kind == "MedicationRequest":
        if status not in _REQUEST_SHOWN or _is_true(resource.get("doNotPerform")):
            return None
        intent = _status(resource, "intent")
        if intent and intent not in ORDER_INTENTS:  # a proposal is not a medicine the patient is on
            return None
        active = status in _REQUEST_ACTIVE
    elif status in _STATEMENT_ACTIVE:
        active = True
    elif status in _STATEMENT_INACTIVE:
        active = False
    else:  # not-taken, or anything unreadable that cannot be called current
        return None
    label, codes = _medication_name(resource, index)
    dosage = (*mappings(resource.get("dosageInstruction")), *mappings(resource.get("dosage")))
    item = MedicationItem(
        label=label,
        dose_text=_dose_text(dosage[0]) if dosage else "",
        status=status or UNKNOWN,
        active=active,
        codes=codes,
        source=_source(resource, index),
    )
    return item, active


def _medication_name(resource: Mapping[str, Any], index: _Index) -> tuple[str, tuple[Code, ...]]:
    concept = resource.get("medicationCodeableConcept")
    if concept is not None:
        return first_text(text_of(concept), data_absent(concept), NO_MEDICATION_NAME), _codes(concept)
    reference = resource.get("medicationReference")
    medication = index.resolve(reference, resource)
    code = medication.get("code")
    name = first_text(
        text_of(code), data_absent(code), display_of(reference), field_absent(resource, "medicationReference")
    )
    return first_text(name, NO_MEDICATION_NAME), _codes(code)


def _dose_text(dosage: Mapping[str, Any]) -> str:
    text = string_of(dosage.get("text"))
    if text:
        return text
    rate = next(iter(mappings(dosage.get("doseAndRate"))), {})
    quantity = as_mapping(rate.get("doseQuantity"))
    amount = " ".join(p for p in (string_of(quantity.get("value")), string_of(quantity.get("unit"))) if p)
    timing = text_of(as_mapping(dosage.get("timing")).get("code"))
    return " ".join(p for p in (amount, timing, text_of(dosage.get("route"))) if p)


# SNOMED CT situations that record the absence of allergies: shown as that statement, with its date.
NO_KNOWN_ALLERGY_CODES: Mapping[str, str] = {
    "716186003": "No known allergies",
    "409137002": "No known drug allergies",
    "429625007": "No known food allergies",
    "428607008": "No known environmental allergies",
}


def _allergies(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    for allergy in index.of_type("AllergyIntolerance"):
        if code_of(allergy.get("verificationStatus")) == "refuted":
            continue
        status = first_text(code_of(allergy.get("clinicalStatus")), "active")
        statement = next((NO_KNOWN_ALLERGY_CODES[c.code] for c in codings_of(allergy.get("code"))
                          if c.system == "http://snomed.info/sct" and c.code in NO_KNOWN_ALLERGY_CODES), None)
        if statement:
            item = AllergyItem(label=statement, reactions=(), criticality="", status=status,
                               source=_source(allergy, index), no_known=True)
            yield item, status not in ("inactive", "resolved")
            continue
        reactions = [
            text_of(m) or data_absent(m)
            for reaction in mappings(allergy.get("reaction"))
            for m in mappings(reaction.get("manifestation"))
        ]
        item = AllergyItem(
            label=_label(allergy, "code", "Allergy (substance not available)"),
            reactions=tuple(dict.fromkeys(r for r in reactions if r)),
            criticality=first_text(_status(allergy, "criticality")).replace("-", " "),
            status=status,
            source=_source(allergy, index),
        )
        yield item, status not in ("inactive", "resolved")


def _procedures(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    for procedure in index.of_type("Procedure"):
        status = _status(procedure)
        if status == "not-done":
            continue
        item = ProcedureItem(
            label=_label(procedure, "code", "Procedure (name not available)"),
            performed=fhir_date(procedure.get("performedDateTime"))
            or period_start(procedure.get("performedPeriod")),
            status=status or UNKNOWN,
            source=_source(procedure, index),
        )
        yield item, status != "stopped"


def _equipment(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    in_use = list(index.of_type("DeviceUseStatement"))
    described = {target_of(s.get("device")) for s in in_use}
    for device in index.of_type("Device"):
        if reference_of(device) in described:
            continue  # its use statement shows it, with the dates the family cares about
        status = _status(device)
        item = EquipmentItem(
            label=first_text(_device_name(device), "Device (name not available)"),
            kind=EquipmentKind.DEVICE,
            supplier=_device_supplier(device, index),
            status=status or UNKNOWN,
            source=_source(device, index),
        )
        yield item, status != "inactive"
    for statement in in_use:
        status = _status(statement)
        device = index.resolve(statement.get("device"), statement)
        item = EquipmentItem(
            label=first_text(
                _device_name(device), display_of(statement.get("device")), "Device (name not available)"
            ),
            kind=EquipmentKind.IN_USE,
            supplier=_device_supplier(device, index),
            status=status or UNKNOWN,
            source=_source(statement, index),
        )
        yield item, status not in ("completed", "stopped")
    for request in index.of_type("DeviceRequest"):
        status = _status(request)
        if status in ("draft", "revoked") or _is_true(request.get("doNotPerform")):
            continue
        ordered = index.resolve(request.get("codeReference"), request)
        item = EquipmentItem(
            label=first_text(
                text_of(request.get("codeCodeableConcept")),
                _device_name(ordered),
                display_of(request.get("codeReference")),
                field_absent(request, "codeCodeableConcept"),
                "Equipment (name not available)",
            ),
            kind=EquipmentKind.ORDERED,
            supplier=first_text(index.name_of(request.get("performer"), request)),
            status=status or UNKNOWN,
            source=_source(request, index),
        )
        yield item, status != "completed"


def _device_name(device: Mapping[str, Any]) -> str:
    names = mappings(device.get("deviceName"))
    friendly = [n for n in names if string_of(n.get("type")) == "user-friendly-name"]
    return first_text(
        *(string_of(n.get("name")) for n in (*friendly, *names)),
        text_of(device.get("type")),
        string_of(device.get("modelNumber")),
        field_absent(device, "type"),
    )


def _device_supplier(device: Mapping[str, Any], index: _Index) -> str:
    return first_text(index.name_of(device.get("owner"), device), string_of(device.get("manufacturer")))


def _care_team(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    seen: set[tuple[str, str, str, str]] = set()
    placed: list[tuple[CareTeamMember, bool]] = []
    for team in index.of_type("CareTeam"):
        team_active = _status(team) in ("active", "")
        for participant in mappings(team.get("participant")):
            member = care_team_member_from(participant, team, index)
            if member is None:
                continue
            ended = period_end(participant.get("period"))
            placed.append((member, team_active and (ended is None or ended >= today)))
    # Active first, and the EHR's own team before the one the app filed, so duplicates keep that copy.
    for member, active in sorted(placed, key=lambda p: (not p[1], p[0].source.by_this_app)):
        key = (
            member.name.casefold(),
            member.role.casefold(),
            member.specialty.casefold(),
            member.organization.casefold(),
        )
        if key not in seen:
            seen.add(key)
            yield member, active


def care_team_member_from(participant: FhirJson, team: FhirJson, index: _Index) -> CareTeamMember | None:
    """One CareTeam participant, resolved through PractitionerRole to the person and organization."""
    reference = participant.get("member")
    member = index.resolve(reference, team)
    kind = first_text(string_of(member.get("resourceType")), target_of(reference).partition("/")[0])
    if kind == "Patient":
        return None
    role = text_of(participant.get("role"))
    if not member and not display_of(reference) and not role:
        return None
    practitioner: Mapping[str, Any] = {}
    organization = index.resolve(participant.get("onBehalfOf"), team)
    organization_name = index.name_of(participant.get("onBehalfOf"), team)
    specialty = ""
    if kind == "PractitionerRole":
        practitioner = index.resolve(member.get("practitioner"), team)
        organization = index.resolve(member.get("organization"), team) or organization
        organization_name = first_text(index.name_of(member.get("organization"), team), organization_name)
        specialty = text_of(member.get("specialty"))
        role = first_text(role, text_of(member.get("code")))
        name = first_text(index.name_of(member.get("practitioner"), team), display_of(reference))
    elif kind == "Organization":
        name = first_text(_name_of_resource(member), display_of(reference))
        organization_name = first_text(organization_name, name)
    elif kind == "RelatedPerson":
        name = first_text(human_name(member.get("name")), display_of(reference))
        role = first_text(role, _relationship(member.get("relationship")))
    else:
        name = first_text(_name_of_resource(member, index), display_of(reference))
    return CareTeamMember(
        name=first_text(name, "Care team member (name not available)"),
        role=role,
        specialty=specialty,
        phone=first_text(
            telecom_phone(member.get("telecom")),
            telecom_phone(practitioner.get("telecom")),
            telecom_phone(organization.get("telecom")),
        ),
        organization=organization_name,
        source=_source(team, index),
        member=target_of(reference) if not target_of(reference).startswith("#") else "",
    )


_EMERGENCY_CLASSES = frozenset({"emer"})
_INPATIENT_CLASSES = frozenset({"imp", "acute", "nonac"})
_OUTPATIENT_CLASSES = frozenset({"amb", "vr", "hh", "fld", "ss", "obsenc", "prenc"})
_NOT_HAPPENED = frozenset({"planned", "cancelled"})


def _encounters(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    since = add_months(today, -ENCOUNTER_LOOKBACK_MONTHS)
    for encounter in index.of_type("Encounter"):
        item = encounter_from(encounter, index)
        if item is not None and not (item.start and item.start < since and (item.end or item.start) < since):
            yield item, True


def encounter_from(encounter: FhirJson, index: _Index) -> EncounterItem | None:
    """An Encounter that took place (or is taking place), or None when planned or cancelled."""
    status = _status(encounter)
    if status in _NOT_HAPPENED:
        return None
    classes = {c.code.lower() for concept in as_list(encounter.get("class")) for c in codings_of(concept)}
    if classes & _EMERGENCY_CLASSES:
        kind = EncounterKind.EMERGENCY
    elif classes & _INPATIENT_CLASSES:
        kind = EncounterKind.INPATIENT
    elif classes & _OUTPATIENT_CLASSES:
        kind = EncounterKind.OUTPATIENT
    else:
        kind = EncounterKind.OTHER
    who = next(
        (p.get("individual") for p in mappings(encounter.get("participant")) if p.get("individual")), None
    )
    clinician = index.resolve(who, encounter)
    return EncounterItem(
        label=first_text(
            text_of(encounter.get("type")),
            text_of(encounter.get("serviceType")),
            text_of(encounter.get("class")),
            "Encounter",
        ),
        kind=kind,
        start=period_start(encounter.get("period")),
        end=period_end(encounter.get("period")),
        status=status or UNKNOWN,
        clinician=index.name_of(who, encounter),
        specialty=first_text(text_of(clinician.get("specialty")), text_of(encounter.get("serviceType"))),
        organization=index.name_of(encounter.get("serviceProvider"), encounter),
        source=_source(encounter, index),
    )


def _specialists_seen(visits: Iterable[EncounterItem]) -> tuple[SpecialistSeen, ...]:
    latest: dict[str, SpecialistSeen] = {}
    for visit in visits:
        if not visit.clinician or visit.kind in (EncounterKind.EMERGENCY, EncounterKind.INPATIENT):
            continue
        key = visit.clinician.casefold()
        known = latest.get(key)
        if known is None or (visit.start or date.min) > (known.last_seen or date.min):
            latest[key] = SpecialistSeen(
                name=visit.clinician,
                specialty=first_text(visit.specialty, known.specialty if known else ""),
                organization=first_text(visit.organization, known.organization if known else ""),
                last_seen=visit.start,
            )
    return tuple(sorted(latest.values(), key=lambda s: s.name.casefold()))


# SNOMED categories US Core and the MCC queries use for ServiceRequest.
_SERVICE_CATEGORIES = {
    "3457005": "Referral",
    "440379008": "Referral",
    "409073007": "Education",
    "409063005": "Counseling",
    "386053000": "Evaluation",
    "387713003": "Surgery",
}


def _services(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    for request in index.of_type("ServiceRequest"):
        status = _status(request)
        if status == "draft" or _is_true(request.get("doNotPerform")):
            continue
        category = _worded(request.get("category"), _SERVICE_CATEGORIES)
        item = ServiceItem(
            label=_label(request, "code", "Service (name not available)"),
            category=category,
            status=status or UNKNOWN,
            performer=first_text(
                *(index.name_of(p, request) for p in mappings(request.get("performer"))),
                text_of(request.get("performerType")),
            ),
            requested=fhir_date(request.get("authoredOn")) or fhir_date(request.get("occurrenceDateTime")),
            source=_source(request, index),
        )
        yield item, status == "active"


def _coded(concepts: Any) -> set[tuple[str, str]]:
    """(system, code) of every coding of a concept or a list of concepts."""
    return {(c.system, c.code) for concept in as_list(concepts) for c in codings_of(concept)}


def _goals(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    for goal in index.of_type("Goal"):
        status = _status(goal, "lifecycleStatus")
        item = GoalItem(
            label=_label(goal, "description", "Goal (description not available)"),
            status=status or UNKNOWN,
            achievement=text_of(goal.get("achievementStatus")),
            expressed_by=index.name_of(goal.get("expressedBy"), goal),
            due=next((d for t in mappings(goal.get("target")) if (d := fhir_date(t.get("dueDate")))), None),
            source=_source(goal, index),
        )
        yield item, status in GOAL_LIFECYCLES


def _care_plans(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    for plan in index.of_type("CarePlan"):
        if ASSESS_PLAN not in _coded(plan.get("category")):
            continue
        status = _status(plan)
        item = CarePlanItem(
            label=first_text(
                string_of(plan.get("title")),
                string_of(plan.get("description")),
                text_of(plan.get("category")),
                "Care plan",
            ),
            status=status or UNKNOWN,
            category=text_of(plan.get("category")),
            start=period_start(plan.get("period")),
            end=period_end(plan.get("period")),
            source=_source(plan, index),
        )
        yield item, status in ("active", "on-hold", "")


def _documents(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    for document in index.of_type("DocumentReference"):
        if ADVANCE_DIRECTIVES_CATEGORY not in _coded(document.get("category")) and \
                PERSONAL_ADVANCE_CARE_PLAN_TYPE not in _coded(document.get("type")):
            continue
        status = _status(document)
        attachments = [as_mapping(c.get("attachment")) for c in mappings(document.get("content"))]
        item = DocumentItem(
            label=first_text(
                string_of(document.get("description")),
                *(string_of(a.get("title")) for a in attachments),
                text_of(document.get("type")),
                "Document",
            ),
            kind=first_text(text_of(document.get("type")), text_of(document.get("category"))),
            status=status or UNKNOWN,
            dated=fhir_date(document.get("date")),
            source=_source(document, index),
        )
        yield item, status != "superseded"


# Relationship codes an EHR may send without a display (HL7 v3 RoleCode, v2-0131 contact roles).
_RELATIONSHIPS = {
    "mth": "Mother",
    "fth": "Father",
    "prn": "Parent",
    "nmth": "Natural mother",
    "nfth": "Natural father",
    "stpmth": "Stepmother",
    "stpfth": "Stepfather",
    "fmth": "Foster mother",
    "ffth": "Foster father",
    "grmth": "Grandmother",
    "grfth": "Grandfather",
    "grprn": "Grandparent",
    "sib": "Sibling",
    "guard": "Guardian",
    "c": "Emergency contact",
    "n": "Next of kin",
    "e": "Employer",
    "u": "Unknown",
}


def _relationship(concepts: Any) -> str:
    return _worded(concepts, _RELATIONSHIPS)


def _contacts(index: _Index, today: date, patient_id: str) -> Iterator[Placed]:
    contacts: list[Contact] = []
    for person in index.of_type("RelatedPerson"):
        if person.get("active") is False:
            continue
        contacts.append(
            Contact(
                name=first_text(
                    human_name(person.get("name")),
                    field_absent(person, "name"),
                    "Contact (name not available)",
                ),
                relationship=_relationship(person.get("relationship")),
                phone=telecom_phone(person.get("telecom")),
                source=_source(person, index),
            )
        )
    patient = _the_patient(index, patient_id)
    for contact in mappings(patient.get("contact")) if patient else ():
        ended = period_end(contact.get("period"))
        if ended is not None and ended < today:
            continue
        contacts.append(
            Contact(
                name=first_text(
                    human_name(contact.get("name")),
                    index.name_of(contact.get("organization"), patient),
                    "Contact (name not available)",
                ),
                relationship=_relationship(contact.get("relationship")),
                phone=telecom_phone(contact.get("telecom")),
                source=_source(patient, index),
            )
        )
    # A guardian is often both a RelatedPerson and a Patient.contact: keep the one with a phone.
    best: dict[str, Contact] = {}
    for contact in contacts:
        key = contact.name.casefold()
        if key not in best or (contact.phone and not best[key].phone):
            best[key] = contact
    for contact in best.values():
        yield contact, True


def _the_patient(index: _Index, patient_id: str) -> Mapping[str, Any] | None:
    patients = list(index.of_type("Patient"))
    wanted = [p for p in patients if patient_id and string_of(p.get("id")) == patient_id]
    return (wanted or patients or [None])[0]


_IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"


def _mrn(patient: Mapping[str, Any]) -> str:
    for identifier in mappings(patient.get("identifier")):
        if any(
            c.code == "MR" and c.system in (_IDENTIFIER_TYPES, "") for c in codings_of(identifier.get("type"))
        ):
            return string_of(identifier.get("value"))
    return ""


def _preferred_language(patient: Mapping[str, Any]) -> str:
    languages = mappings(patient.get("communication"))
    preferred = [c for c in languages if c.get("preferred") is True]
    return first_text(*(text_of(c.get("language")) for c in (*preferred, *languages)))


_MAPPERS: Mapping[str, Mapper] = {
    "patient": _contacts,
    "conditions": _conditions,
    "medications": _medications,
    "allergies": _allergies,
    "procedures": _procedures,
    "equipment": _equipment,
    "care_team": _care_team,
    "encounters": _encounters,
    "services": _services,
    "goals": _goals,
    "care_plans": _care_plans,
    "documents": _documents,
}


def _sorted(key: str, items: list[SummaryItem]) -> tuple[SummaryItem, ...]:
    if key == "encounters":  # most recent first
        return tuple(sorted(items, key=lambda i: getattr(i, "start", None) or date.min, reverse=True))
    return tuple(sorted(items, key=lambda i: (i.label.casefold(), i.source.reference)))


def _empty_section(key: str) -> SummarySection:
    return SummarySection(key=key, title=SECTION_TITLES.get(key, key))
