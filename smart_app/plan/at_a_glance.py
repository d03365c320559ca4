"""The summary's first screen: what a physician asks in the first thirty seconds of a visit.

Allergies with criticality and reaction; the main problems by clinical weight; the medication count
with the high-alert ones named; equipment in use; the coordinator's and primary clinician's phone;
the last ED visit and admission; the plan's open disagreements and overdue actions.

Each part carries the state of the section it comes from: a part not read yet is "loading", one that
failed says so (plan.section_status), and an empty list is a claim the section's state backs. Pure:
sections, the plan and today in; plain strings out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from . import problems
from . import summary as s
from .curation import ItemCuration
from .i18n import format_date
from .model import Plan
from .negotiation import disagreements
from .record import SectionState
from .review_cycle import is_overdue
from .section_status import no_known_allergies_text, section_status

LOADING = "loading"
TOP_PROBLEMS = 5


@dataclass(frozen=True, slots=True)
class GlanceLine:
    label: str
    detail: str = ""  # the one detail that matters ("high · urticaria", "anticonvulsant", a phone)
    flag: str = ""  # "high" for a high-criticality allergy; "" otherwise


@dataclass(frozen=True, slots=True)
class GlancePart:
    key: str  # allergies | problems | medications | equipment | contacts | hospital | plan
    title: str
    state: str  # "loading" or a SectionState value
    lines: tuple[GlanceLine, ...] = ()
    status: str = ""  # what the reader is told besides the lines (section_status); "" when nothing to add
    summary: str = ""  # "14 active", "16 diagnoses": what the lines are a part of
    more: int = 0  # items of the section not listed here
    section: str = ""  # the summary section (anchor) the part comes from; "" for the plan


@dataclass(frozen=True, slots=True)
class Glance:
    parts: tuple[GlancePart, ...]

    def part(self, key: str) -> GlancePart:
        return next(p for p in self.parts if p.key == key)


# -- medications that must never be missed ---------------------------------------------------------

ANTICONVULSANT = "anticonvulsant"
RESCUE = "rescue medication"
INSULIN = "insulin"
OPIOID = "opioid"
ANTICOAGULANT = "anticoagulant"

_HIGH_ALERT: dict[str, str] = {
    **dict.fromkeys((
        "levetiracetam", "brivaracetam", "valproate", "valproic", "divalproex", "phenobarbital", "phenytoin",
        "fosphenytoin", "carbamazepine", "oxcarbazepine", "eslicarbazepine", "lamotrigine", "topiramate",
        "zonisamide", "lacosamide", "clobazam", "clonazepam", "ethosuximide", "vigabatrin", "rufinamide",
        "perampanel", "cannabidiol", "stiripentol", "fenfluramine", "felbamate", "cenobamate", "primidone",
        "tiagabine", "gabapentin", "pregabalin"), ANTICONVULSANT),
    **dict.fromkeys(("midazolam", "diazepam", "lorazepam", "epinephrine", "glucagon", "naloxone"), RESCUE),
    "insulin": INSULIN,
    **dict.fromkeys((
        "morphine", "oxycodone", "hydromorphone", "fentanyl", "methadone", "codeine", "tramadol", "hydrocodone",
        "buprenorphine", "tapentadol", "meperidine"), OPIOID),
    **dict.fromkeys((
        "warfarin", "heparin", "enoxaparin", "dalteparin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban",
        "fondaparinux", "bivalirudin", "argatroban"), ANTICOAGULANT),
}
_WORD = re.compile(r"[a-z]+")


def high_alert_class(item: s.MedicationItem) -> str:
    """"anticonvulsant", "rescue medication", "insulin", "opioid", "anticoagulant", or ""."""
    words = _WORD.findall(" ".join([item.label, *(c.display for c in item.codes)]).casefold())
    return next((_HIGH_ALERT[w] for w in words if w in _HIGH_ALERT), "")


# -- equipment a life depends on first ---------------------------------------------------------------

_LIFE_SUPPORT = ("ventilat", "bipap", "cpap", "tracheostomy", "trach", "oxygen", "suction", "gastrostomy",
                 "jejunostomy", "feeding", "enteral", "central line", "port", "dialysis", "shunt", "pump",
                 "oximeter", "monitor")


def _support_rank(label: str) -> int:
    said = label.casefold()
    return next((n for n, word in enumerate(_LIFE_SUPPORT) if word in said), len(_LIFE_SUPPORT))


def _equipment_lines(items: list[s.SummaryItem]) -> tuple[GlanceLine, ...]:
    """Breathing, feeding and monitoring first (the order of _LIFE_SUPPORT), then the rest as listed."""
    equipment = [i for i in items if isinstance(i, s.EquipmentItem)]
    return tuple(GlanceLine(i.label) for i in sorted(equipment, key=lambda i: _support_rank(i.label)))


# -- who to call --------------------------------------------------------------------------------------

_COORDINATOR = re.compile(r"\bcoordinat")  # coordinator, coordinadora
# "primary care" but never "primary caregiver" (a parent).
_PRIMARY_CARE = re.compile(r"\bprimary care\b|\bpcp\b|\bgeneral practi|\bfamily medicine\b|\bmedical home\b")


def _member_with(members: Sequence[s.CareTeamMember], pattern: re.Pattern[str]) -> s.CareTeamMember | None:
    return next((m for m in members if pattern.search(f"{m.role} {m.specialty}".casefold())), None)


# -- the parts ----------------------------------------------------------------------------------------

def at_a_glance(sections: Mapping[str, s.SummarySection], *, today: date, plan: Plan | None,
                curations: Mapping[str, ItemCuration] | None = None) -> Glance:
    """The first screen from the sections read so far (a section not in `sections` is still loading)."""
    shown = _Shown(sections, curations or {}, today)
    return Glance((
        shown.part("allergies", "Allergies", "allergies", _allergy_lines),
        _problems(shown),
        _medications(shown),
        _contacts(shown),  # before equipment: short, and what a narrow panel must still show
        shown.part("equipment", "Equipment in use", "equipment", _equipment_lines),
        _hospital(shown, today),
        _plan(plan, today),
    ))


class _Shown:
    """The sections' current items without those the coordinator left out of the plan."""

    def __init__(self, sections: Mapping[str, s.SummarySection], curations: Mapping[str, ItemCuration],
                 today: date) -> None:
        self.sections = sections
        self.curations = curations
        self.today = today

    def items(self, key: str) -> list[s.SummaryItem]:
        section = self.sections.get(key)
        if section is None:
            return []
        return [i for i in section.active if not self._hidden(i)]

    def _hidden(self, item: s.SummaryItem) -> bool:
        curation = self.curations.get(s.item_key(item))
        return bool(curation and curation.hidden)

    def state(self, key: str) -> str:
        section = self.sections.get(key)
        return LOADING if section is None else SectionState(section.state).value

    def status(self, key: str, shown: int) -> str:
        section = self.sections.get(key)
        if section is None:
            return ""
        found = section_status(key, SectionState(section.state), shown=shown, read_on=self.today)
        return found.text if found else ""

    def part(self, key: str, title: str, section: str,
             lines: Callable[[list[s.SummaryItem]], tuple[GlanceLine, ...]]) -> GlancePart:
        items = self.items(section)
        return GlancePart(key, title, self.state(section), lines(items) if items else (),
                          status=self.status(section, len(items)), section=section)


def _allergy_lines(items: list[s.SummaryItem]) -> tuple[GlanceLine, ...]:
    lines = []
    for item in items:
        if not isinstance(item, s.AllergyItem):
            continue
        if item.no_known:
            lines.append(GlanceLine(no_known_allergies_text(item.label, item.source.recorded)))
            continue
        detail = " · ".join(p for p in (item.criticality, ", ".join(item.reactions)) if p)
        lines.append(GlanceLine(item.label, detail, "high" if item.criticality == "high" else ""))
    # high criticality first, then as the EHR lists them
    return tuple(sorted(lines, key=lambda line: line.flag != "high"))


def _problems(shown: _Shown) -> GlancePart:
    conditions = [i for i in shown.items("conditions") if isinstance(i, s.ConditionItem)]
    diagnoses = problems.ranked(conditions)
    others = len(conditions) - len(diagnoses)
    top = diagnoses[:TOP_PROBLEMS]
    summary = f"{len(diagnoses)} diagnoses" if diagnoses else ""
    if others:
        summary += (" · " if summary else "") + f"{others} social needs or health concerns"
    return GlancePart("problems", "Main problems", shown.state("conditions"),
                      tuple(GlanceLine(i.label) for i in top), status=shown.status("conditions", len(conditions)),
                      summary=summary, more=len(diagnoses) - len(top), section="conditions")


def _medications(shown: _Shown) -> GlancePart:
    medications = [i for i in shown.items("medications") if isinstance(i, s.MedicationItem)]
    alert = tuple(GlanceLine(i.label, kind) for i in medications if (kind := high_alert_class(i)))
    summary = f"{len(medications)} active" if medications else ""
    if medications:
        summary += f" · {len(alert)} high-alert" if alert else " · none high-alert"
    return GlancePart("medications", "Medications", shown.state("medications"), alert,
                      status=shown.status("medications", len(medications)), summary=summary,
                      more=len(medications) - len(alert), section="medications")


def _contacts(shown: _Shown) -> GlancePart:
    members = [i for i in shown.items("care_team") if isinstance(i, s.CareTeamMember)]
    state = shown.state("care_team")
    lines: list[GlanceLine] = []
    if state not in (LOADING, SectionState.FAILED.value, SectionState.NOT_OFFERED.value):
        for title, pattern in (("Care coordinator", _COORDINATOR), ("Primary care", _PRIMARY_CARE)):
            member = _member_with(members, pattern)
            if member is None:
                lines.append(GlanceLine(title, "not named in the EHR's care team"))
            else:
                lines.append(GlanceLine(title, " · ".join(p for p in (member.name, member.phone or "no phone in the EHR")
                                                           if p)))
    return GlancePart("contacts", "Who to call", state, tuple(lines),
                      status="" if lines else shown.status("care_team", len(members)), section="care_team")


def _hospital(shown: _Shown, today: date) -> GlancePart:
    section = shown.sections.get("encounters")
    state = shown.state("encounters")
    if section is None or state in (SectionState.FAILED.value, SectionState.NOT_OFFERED.value):
        return GlancePart("hospital", "Hospital use", state, status=shown.status("encounters", 0),
                          section="encounters")
    use = s.hospital_use_of(section, today=today)
    lines = ()
    if use is not None:
        more = "" if use.complete else "+"
        lines = (
            GlanceLine("Last ED visit", _last(use.last_ed_visit, use.ed_visits_12m, more)),
            GlanceLine("Last admission", _last(use.last_admission, use.admissions_12m, more)),
        )
    status = "" if state == SectionState.COMPLETE.value else shown.status("encounters", len(section.active))
    return GlancePart("hospital", "Hospital use", state, lines, status=status, section="encounters")


def _last(day: date | None, in_year: int, more: str) -> str:
    if day is None:
        return "none in the last 24 months"
    return f"{format_date(day, short=True)} ({in_year}{more} in 12 months)"


def _plan(plan: Plan | None, today: date) -> GlancePart:
    if plan is None:
        return GlancePart("plan", "The plan", SectionState.COMPLETE.value, (GlanceLine("No plan started yet"),))
    open_positions = disagreements(plan)
    overdue = [a for a in plan.actions if is_overdue(a, today)]
    return GlancePart("plan", "The plan", SectionState.COMPLETE.value, (
        GlanceLine("Open disagreements", str(len(open_positions))),
        GlanceLine("Overdue actions", str(len(overdue))),
    ), summary=f"{len(plan.goals)} goals · {len(plan.actions)} actions")
