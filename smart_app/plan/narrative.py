"""The signed plan as an XHTML narrative: the CarePlan's `text` and the filed note's rendition.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. No clock.

Built with ElementTree, so the output is always well-formed XML with every value escaped, and it uses
only the narrative subset of XHTML FHIR allows: no script, style, link, iframe or image (R52).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime

from .model import ROLE_LABELS, ActionStatus, GoalKind, NegotiatedAction, Plan
from .people import owner_label

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
    """One section of the medical summary as it reads in the narrative: a title and its lines."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NarrativeParts:
    """What the narrative shows besides the plan itself. Both parts may be empty."""

    about_us: tuple[tuple[str, str], ...] = ()  # (heading, the family's words)
    summary: tuple[SummaryBlock, ...] = ()
    patient: str = ""  # "Sofia Isabel Rivera · born 2018-08-20 · MRN SB-100001": who the plan is for


def plan_narrative(plan: Plan, parts: NarrativeParts = NarrativeParts()) -> str:
    """`<div xmlns="http://www.w3.org/1999/xhtml">…</div>` with the three parts of the plan."""
    root = ET.Element("div", {"xmlns": XHTML_NS})
    _add(root, "h2", TITLE)
    if parts.patient:
        _add(root, "p", parts.patient)
    _add(root, "p", _status_line(plan))
    _about_us(root, plan, parts)
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
        _last(paragraph).tail = plan.family_priority
    for heading, words in parts.about_us:
        _add(root, "h4", heading)
        _add(root, "p", words)
    if not plan.family_priority and not parts.about_us:
        _add(root, "p", NOT_RECORDED)


def _medical_summary(root: ET.Element, parts: NarrativeParts) -> None:
    _add(root, "h3", "Medical summary")
    if not parts.summary:
        _add(root, "p", NOT_RECORDED)
    for block in parts.summary:
        _add(root, "h4", block.title)
        if not block.lines:
            _add(root, "p", "None recorded.")
            continue
        listing = _add(root, "ul")
        for line in block.lines:
            _add(listing, "li", line)


def _goals_and_actions(root: ET.Element, plan: Plan) -> None:
    _add(root, "h3", "Goals and negotiated actions")
    if not plan.goals and not plan.actions:
        _add(root, "p", "No goals or actions.")
    for goal in plan.goals:
        kind = "Family goal" if goal.kind is GoalKind.FAMILY else "Clinical goal"
        _add(root, "h4", f"{kind}: {goal.text}")
        said = [f"in the words of {goal.expressed_by}"] if goal.expressed_by else []
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
        _add(listing, "li", f"{ROLE_LABELS[signoff.role]}: {signoff.name}, {_day(signoff.at)}")


def _day(value: date | datetime) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _last(parent: ET.Element) -> ET.Element:
    return parent[len(parent) - 1]
