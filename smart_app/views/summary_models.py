"""View-models: what templates see. Plain strings and tuples, already formatted; never FHIR JSON.

Layer: HTTP in (views). Pure functions from plan types to view types.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from collections.abc import Mapping, Sequence

from ..plan import problems
from ..plan import summary as s
from ..plan.i18n import format_date as _format_date
from ..plan.curation import ADDABLE_SECTIONS, AddedItem, ItemCuration
from ..plan.record import SectionState
from ..plan.section_status import no_known_allergies_text, section_status

SYSTEM_LABELS = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://loinc.org": "LOINC",
}


def age_on(birth: date | None, today: date) -> str:
    if birth is None:
        return ""
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if years >= 2:
        return f"{years} y"
    months = (today.year - birth.year) * 12 + today.month - birth.month - (today.day < birth.day)
    return f"{max(months, 0)} mo"


def format_date(value: date | None) -> str:
    """"3 Mar 2026": the pages' short form of the one date format (plan.i18n)."""
    return _format_date(value, short=True)


@dataclass(frozen=True, slots=True)
class BannerView:
    name: str
    birth_date: str
    age: str
    sex: str
    mrn: str
    language: str


def banner_from(header: s.PatientHeader | None, today: date) -> BannerView | None:
    if header is None:
        return None
    return BannerView(
        name=header.name,
        birth_date=format_date(header.birth_date),
        age=age_on(header.birth_date, today),
        sex=header.sex.capitalize() if header.sex else "",
        mrn=header.mrn,
        language=header.language,
    )


@dataclass(frozen=True, slots=True)
class ItemView:
    ref: str  # plan.summary.item_key: the curation key; "" for items the coordinator added
    label: str
    details: tuple[str, ...]
    source: str  # "Condition · recorded 3 Mar 2024 · Dr Okafor"
    codes: str = ""
    badge: str = ""
    note: str = ""  # the coordinator's annotation
    hidden_reason: str = ""  # set when the coordinator hid it from the plan
    added_by: str = ""  # set for items the coordinator added (not from the EHR)
    added_id: str = ""
    group: str = ""  # conditions: problem list, diagnoses from visits, health concerns, social needs, other


@dataclass(frozen=True, slots=True)
class StatView:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class SectionView:
    key: str
    title: str
    count: int
    items: tuple[ItemView, ...]
    inactive: tuple[ItemView, ...]
    hidden: tuple[ItemView, ...]
    state: str  # complete | incomplete | failed | not-offered
    notes: tuple[str, ...]
    status: str  # what a reader is told besides the items ("" when complete with items): plan.section_status
    stats: tuple[StatView, ...] = ()
    more: tuple[ItemView, ...] = ()  # shown folded, e.g. routine clinic visits under the hospital stays
    more_label: str = ""
    groups: tuple[tuple[str, tuple[ItemView, ...]], ...] = ()  # the items again, grouped (conditions)
    add_label: str = ""  # "home equipment or supply" where the coordinator may add items; "" elsewhere


def source_text(source: s.Source) -> str:
    parts = [source.resource_type]
    if source.recorded:
        parts.append(f"recorded {format_date(source.recorded)}")
    if source.author:
        parts.append(source.author)
    if source.by_this_app:
        parts.append("filed by this app")  # the plan written back: not news, not someone else's entry
    return " · ".join(parts)


def _codes(codes) -> str:
    return ", ".join(f"{SYSTEM_LABELS.get(c.system, 'code')} {c.code}" for c in codes[:2] if c.code)


def item_view(item: s.SummaryItem) -> ItemView:
    """One summary item as the page shows it."""
    details: tuple[str, ...] = ()
    codes = ""
    badge = ""
    label = item.label
    group = ""
    match item:
        case s.ConditionItem():
            group = problems.group(item)
            details = (f"Since {format_date(item.onset)}" if item.onset else item.onset_text,)
            codes = _codes(item.codes)
            badge = "" if item.status is s.ConditionStatus.ACTIVE else item.status.value
        case s.MedicationItem():
            details = (item.dose_text,)
            codes = _codes(item.codes)
            badge = "" if item.status == "active" else item.status
        case s.AllergyItem() if item.no_known:
            label = no_known_allergies_text(item.label, item.source.recorded)
        case s.AllergyItem():
            details = ("Reaction: " + ", ".join(item.reactions) if item.reactions else "",
                       f"Criticality: {item.criticality}" if item.criticality else "")
        case s.ProcedureItem():
            details = (format_date(item.performed),)
        case s.EquipmentItem():
            kind = "" if item.kind is s.EquipmentKind.DEVICE else item.kind.value.capitalize()
            details = (kind, f"Supplier: {item.supplier}" if item.supplier else "")
        case s.CareTeamMember():
            details = (", ".join(dict.fromkeys(p for p in (item.role, item.specialty) if p)), item.organization,
                       f"Phone {item.phone}" if item.phone else "")
        case s.EncounterItem():
            details = (format_date(item.start), ", ".join(p for p in (item.clinician, item.specialty) if p))
            badge = {"emergency": "ED visit", "inpatient": "Admission"}.get(item.kind.value, "")
        case s.ServiceItem():
            details = (", ".join(p for p in (item.category, item.performer) if p),
                       f"Requested {format_date(item.requested)}" if item.requested else "")
        case s.GoalItem():
            details = (f"Target {format_date(item.due)}" if item.due else "",
                       f"Expressed by {item.expressed_by}" if item.expressed_by else "", item.achievement)
            badge = item.status
        case s.CarePlanItem():
            details = (item.category, format_date(item.start))
            badge = item.status
        case s.DocumentItem():
            details = (item.kind, format_date(item.dated))
        case s.Contact():
            details = (item.relationship, f"Phone {item.phone}" if item.phone else "")
    return ItemView(
        ref=s.item_key(item),
        label=label,
        details=tuple(d for d in details if d),
        source=source_text(item.source),
        codes=codes,
        badge=badge,
        group=group,
    )


def curated(item: ItemView, curation: ItemCuration | None) -> ItemView:
    if curation is None:
        return item
    return replace(item, note=curation.note, hidden_reason=curation.hidden_reason if curation.hidden else "")


def added_view(item: AddedItem) -> ItemView:
    return ItemView(ref="", label=item.label, details=tuple(d for d in (item.contact, item.note) if d),
                    source="", added_by=item.by or "the care team", added_id=item.item_id)


def section_view(section: s.SummarySection, *, read_on: date, hospital_use: s.HospitalUse | None = None,
                 curations: Mapping[str, ItemCuration] | None = None,
                 added: Sequence[AddedItem] = ()) -> SectionView:
    """A summary section with the coordinator's curation applied: hidden items set apart with their
    reason, notes attached, and added items listed after the EHR's."""
    curations = curations or {}
    current = section.active
    if section.key == "conditions":  # diagnoses by clinical weight, then health concerns and social needs
        current = tuple(i for _, members in problems.grouped(current) for i in members)
    active = [curated(item_view(i), curations.get(s.item_key(i))) for i in current]
    inactive = [curated(item_view(i), curations.get(s.item_key(i))) for i in section.inactive]
    extra = [added_view(a) for a in added if a.section == section.key]
    more: list[ItemView] = []
    if section.key == "encounters":  # hospital use first; routine visits folded below
        hospital = {"ED visit", "Admission"}
        more = [i for i in active if i.badge not in hospital]
        active = [i for i in active if i.badge in hospital]
    stats: tuple[StatView, ...] = ()
    if section.key == "encounters" and hospital_use is not None:
        suffix = "" if hospital_use.complete else "+"
        stats = (
            StatView("ED visits, last 12 months", f"{hospital_use.ed_visits_12m}{suffix}"),
            StatView("Admissions, last 12 months", f"{hospital_use.admissions_12m}{suffix}"),
            StatView("Specialists seen, 24 months", str(len(hospital_use.specialists_seen))),
        )
    count = sum(1 for i in active if not i.hidden_reason) + len(extra) + len(more)
    status = section_status(section.key, SectionState(section.state), shown=count, read_on=read_on)
    shown = [i for i in active if not i.hidden_reason]
    groups: tuple[tuple[str, tuple[ItemView, ...]], ...] = ()
    if section.key == "conditions":
        groups = tuple((g, tuple(i for i in shown if i.group == g)) for g in problems.GROUPS
                       if any(i.group == g for i in shown))
    return SectionView(
        key=section.key,
        title=section.title,
        count=count,
        items=tuple(i for i in active if not i.hidden_reason) + tuple(extra),
        inactive=tuple(i for i in inactive if not i.hidden_reason),
        hidden=tuple(i for i in active + inactive if i.hidden_reason),
        state=SectionState(section.state).value,
        notes=section.notes,
        status=status.text if status else "",
        stats=stats,
        more=tuple(more),
        more_label=f"Other visits ({len(more)})" if more else "",
        groups=groups,
        add_label=ADDABLE_SECTIONS.get(section.key, ""),
    )
