"""The signed plan as an XHTML narrative: the CarePlan's `text` and the filed note's rendition.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. No clock.

Built with ElementTree, so the output is always well-formed XML with every value escaped, and it uses
only the narrative subset of XHTML FHIR allows: no script, style, link, iframe or image (R52). Every
text goes through `_text`: cleaned (text.clean_text) so that even words stored before the doors
cleaned them make well-formed XML, and bidi-isolated with Unicode controls, as XHTML narrative has no
<bdi> element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime

from . import problems
from . import summary as s
from .about import ABOUT_US_ITEMS, QUESTIONS, IntakeAnswers, answer_display
from .model import ROLE_LABELS, ActionStatus, GoalKind, NegotiatedAction, Plan
from .people import owner_label
from .record import SectionState
from .section_status import no_known_allergies_text, section_status
from .signed_record import SignedRecord
from .text import clean_text, isolated

XHTML_NS = "http://www.w3.org/1999/xhtml"
TITLE = "Shared Plan of Care"
NOT_RECORDED = "Not recorded in the app yet."

ACTION_STATUS_LABELS: dict[ActionStatus, str] = {
    ActionStatus.NOT_STARTED: "Not started",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
    ActionStatus.BLOCKED: "Blocked",
    ActionStatus.CANCELLED: "Cancelled",
}


@dataclass(frozen=True, slots=True)
class SummaryBlock:
    """One section of the medical summary as it reads in the narrative: a title, its lines, and what the
    reader must be told besides them (none, could not be loaded, only part: plan.section_status)."""

    title: str
    lines: tuple[str, ...]
    status: str = ""


@dataclass(frozen=True, slots=True)
class NarrativeParts:
    """What the narrative shows besides the plan itself. Both parts may be empty."""

    about_us: tuple[tuple[str, str], ...] = ()  # (heading, the family's words)
    summary: tuple[SummaryBlock, ...] = ()
    patient: str = ""  # "Sofia Isabel Rivera · born 2018-08-20 · MRN SB-100001": who the plan is for
    emergency: tuple[tuple[str, str], ...] = ()  # (heading, words) from the emergency information
    record_note: str = ""  # said when the summary is not the one kept at signing


def plan_narrative(plan: Plan, parts: NarrativeParts = NarrativeParts()) -> str:
    """`<div xmlns="http://www.w3.org/1999/xhtml">…</div>` with the three parts of the plan."""
    root = ET.Element("div", {"xmlns": XHTML_NS})
    _add(root, "h2", TITLE)
    if parts.patient:
        _add(root, "p", parts.patient)
    _add(root, "p", _status_line(plan))
    _about_us(root, plan, parts)
    _emergency(root, parts)
    _medical_summary(root, parts)
    _goals_and_actions(root, plan)
    _signoffs(root, plan)
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def _status_line(plan: Plan) -> str:
    said = [f"Revision {plan.revision}"]
    if plan.signed_at:
        said.append(f"signed {_day(plan.signed_at)}")
    if plan.next_review:
        said.append(f"next review due {_day(plan.next_review)}")
    return ", ".join(said) + "."


def _about_us(root: ET.Element, plan: Plan, parts: NarrativeParts) -> None:
    _add(root, "h3", "About us")
    if plan.family_priority:
        paragraph = _add(root, "p")
        _add(paragraph, "b", "What matters most to us right now: ")
        _last(paragraph).tail = _text(plan.family_priority)
    for heading, words in parts.about_us:
        _add(root, "h4", heading)
        _add(root, "p", words)
    if not plan.family_priority and not parts.about_us:
        _add(root, "p", NOT_RECORDED)


def _emergency(root: ET.Element, parts: NarrativeParts) -> None:
    if not parts.emergency:
        return
    _add(root, "h3", "In an emergency")
    for heading, words in parts.emergency:
        _add(root, "h4", heading)
        _add(root, "p", words)


def _medical_summary(root: ET.Element, parts: NarrativeParts) -> None:
    _add(root, "h3", "Medical summary")
    if parts.record_note:
        _add(root, "p", parts.record_note)
    if not parts.summary:
        _add(root, "p", NOT_RECORDED)
    for block in parts.summary:
        _add(root, "h4", block.title)
        if block.lines:
            listing = _add(root, "ul")
            for line in block.lines:
                _add(listing, "li", line)
        if block.status:
            _add(root, "p", block.status)


def _goals_and_actions(root: ET.Element, plan: Plan) -> None:
    _add(root, "h3", "Goals and negotiated actions")
    if not plan.goals and not plan.actions:
        _add(root, "p", "No goals or actions.")
    for goal in plan.goals:
        kind = "Family goal" if goal.kind is GoalKind.FAMILY else "Clinical goal"
        _add(root, "h4", f"{kind}: {_text(goal.text)}")
        said = [f"in the words of {_text(goal.expressed_by)}"] if goal.expressed_by else []
        if goal.target_date:
            said.append(f"target {_day(goal.target_date)}")
        if said:
            sentence = "; ".join(said)
            _add(root, "p", sentence[0].upper() + sentence[1:] + ".")
        _actions_table(root, [a for a in plan.actions if a.goal_id == goal.goal_id])
    unlinked = [a for a in plan.actions if plan.goal(a.goal_id or "") is None]
    if unlinked:
        _add(root, "h4", "Other actions")
        _actions_table(root, unlinked)


def _actions_table(root: ET.Element, actions: list[NegotiatedAction]) -> None:
    if not actions:
        return
    table = _add(root, "table")
    head = _add(_add(table, "thead"), "tr")
    for title in ("Action", "Who", "By when", "Status"):
        _add(head, "th", title)
    body = _add(table, "tbody")
    for action in actions:
        row = _add(body, "tr")
        _add(row, "td", action.text)
        _add(row, "td", owner_label(action.owner))
        _add(row, "td", _day(action.due) if action.due else "No date")
        _add(row, "td", ACTION_STATUS_LABELS[action.status])


def _signoffs(root: ET.Element, plan: Plan) -> None:
    _add(root, "h3", "Sign-off")
    if not plan.signoffs:
        _add(root, "p", "Not signed.")
        return
    listing = _add(root, "ul")
    for signoff in plan.signoffs:
        _add(listing, "li", f"{ROLE_LABELS[signoff.role]}: {_text(signoff.name)}, {_day(signoff.at)}")


def _day(value: date | datetime) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = _text(text)
    return element


def _text(value: str) -> str:
    """A value as the narrative shows it. Lines built from several values isolate each value first, so
    that one cannot reorder the words after it ("Maya <override>, 2026-06-01")."""
    return isolated(clean_text(value))


def _last(parent: ET.Element) -> ET.Element:
    return parent[len(parent) - 1]


# -- the parts of the narrative that come from the signed record -------------------------------------

# What a reader in an emergency needs from the summary, in this order.
NARRATIVE_SECTIONS: tuple[str, ...] = ("allergies", "conditions", "medications", "equipment", "care_team",
                                       "patient")
EMERGENCY_HEADINGS = (("baseline", "What is normal for me"), ("instructions", "In an emergency, please"),
                      ("key_diagnoses", "Key diagnoses"), ("guardianship", "Who makes decisions"),
                      ("family_documents", "Documents the family holds"))


def narrative_parts(record: SignedRecord, *, kept: bool = True) -> NarrativeParts:
    """The narrative's About us, emergency and medical summary from what was signed. `kept` is False when
    the record is today's, because none was kept at the signing (the narrative then says so)."""
    blocks = tuple(block for key in NARRATIVE_SECTIONS for block in _blocks(record, key))
    hospital = _hospital_use_block(record)
    return NarrativeParts(
        about_us=about_us_pairs(record.intake),
        summary=blocks + ((hospital,) if hospital else ()),
        patient=patient_line(record.header),
        emergency=tuple((heading, value) for name, heading in EMERGENCY_HEADINGS
                        if (value := getattr(record.emergency, name))),
        record_note="" if kept else (f"Read from the health record on {_day(record.read_on)}: the summary was not "
                                     "kept when this version was signed."),
    )


HEALTH_CONCERNS_TITLE = "Health concerns and social needs"


def _blocks(record: SignedRecord, key: str) -> tuple[SummaryBlock, ...]:
    """A section's block; conditions make two: diagnoses by clinical weight, then (when there are any)
    health concerns and social needs, never listed as diagnoses."""
    if key != "conditions":
        return (summary_block(record, key),)
    needs = summary_block(record, key, only=lambda i: not problems.is_diagnosis(i), title=HEALTH_CONCERNS_TITLE)
    return (summary_block(record, key, only=problems.is_diagnosis),) + ((needs,) if needs.lines else ())


def summary_block(record: SignedRecord, key: str, *, only=None, title: str = "") -> SummaryBlock:
    """One section as signed: the items the coordinator kept, with her notes and additions, and its status.
    `only` keeps some of the items (conditions: the diagnoses, or the rest)."""
    section = record.section(key)
    curations = record.curation_by_ref
    items = section.active if section else ()
    if key == "conditions":
        items = [i for _, members in problems.grouped(items) for i in members]
    lines = []
    for item in items:
        if only is not None and not only(item):
            continue
        curation = curations.get(s.item_key(item))
        if curation and curation.hidden:
            continue
        line = item_line(item)
        lines.append(f"{line} (note: {curation.note})" if curation and curation.note else line)
    lines += [" — ".join(p for p in (a.label, a.contact, a.note) if p) for a in record.added if a.section == key]
    state = SectionState(section.state) if section else SectionState.FAILED
    status = section_status(key, state, shown=len(lines), read_on=record.read_on)
    return SummaryBlock(title or s.SECTION_TITLES.get(key, key), tuple(lines), status.text if status else "")


def item_line(item: s.SummaryItem) -> str:
    """One item in a printed line, with what a reader in an emergency needs: doses, reactions, phones."""
    match item:
        case s.AllergyItem() if item.no_known:
            return no_known_allergies_text(item.label, item.source.recorded)
        case s.AllergyItem():
            said = [f"reaction: {', '.join(item.reactions)}" if item.reactions else "",
                    f"criticality {item.criticality}" if item.criticality else ""]
            return _with(item.label, "; ".join(p for p in said if p))
        case s.MedicationItem():
            return _with(item.label, item.dose_text)
        case s.EquipmentItem():
            return _with(item.label, f"supplier {item.supplier}" if item.supplier else "")
        case s.CareTeamMember():
            roles = ", ".join(dict.fromkeys(p for p in (item.role, item.specialty) if p))
            return _with(item.name, " · ".join(p for p in (roles, f"phone {item.phone}" if item.phone else "") if p))
        case s.Contact():
            return _with(item.name, " · ".join(p for p in (item.relationship,
                                                           f"phone {item.phone}" if item.phone else "") if p))
    return str(getattr(item, "label", ""))


def _hospital_use_block(record: SignedRecord) -> SummaryBlock | None:
    """ED visits and admissions of the last 12 months, or why they are not known."""
    section = record.section("encounters")
    if section is None:
        return None
    title = "Hospital use, last 12 months"
    if section.state in (SectionState.FAILED, SectionState.NOT_OFFERED):
        status = section_status("encounters", SectionState(section.state), shown=0, read_on=record.read_on)
        return SummaryBlock(title, (), status.text if status else "")
    use = s.hospital_use_of(section, today=record.read_on)
    more = "" if use is None or use.complete else " or more"
    lines = (f"Emergency department visits: {use.ed_visits_12m}{more}{_last_on(use.last_ed_visit)}",
             f"Hospital admissions: {use.admissions_12m}{more}{_last_on(use.last_admission)}") if use else ()
    return SummaryBlock(title, lines)


def _last_on(day: date | None) -> str:
    return f" (last on {_day(day)})" if day else ""


def about_us_pairs(answers: IntakeAnswers | None) -> tuple[tuple[str, str], ...]:
    """The family's "About us" answers as (question, answer) for the narrative; () when not recorded."""
    if answers is None:
        return ()
    return tuple((QUESTIONS[link_id].text, answer_display(link_id, answers.get(link_id)))
                 for link_id in ABOUT_US_ITEMS if link_id in QUESTIONS and answers.get(link_id))


def patient_line(header: s.PatientHeader | None) -> str:
    """"Sofia Isabel Rivera · born 2018-08-20 · MRN SB-100001"; "" when the patient could not be read."""
    if header is None:
        return ""
    return " · ".join(p for p in (header.name, f"born {header.birth_date.isoformat()}" if header.birth_date else "",
                                  f"MRN {header.mrn}" if header.mrn else "") if p)


def _with(label: str, detail: str) -> str:
    return f"{label} — {detail}" if detail else label
