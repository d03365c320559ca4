"""The coordinator's curation of the medical summary: hide an item with a reason, annotate it, and
add what the EHR does not hold (home equipment and its supplier, community services, school nurse,
specialists outside the system).

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_TEXT = 500

# Sections where the coordinator may add what the EHR lacks, and what an added item is called there.
ADDABLE_SECTIONS: dict[str, str] = {
    "equipment": "home equipment or supply",
    "services": "community or home service",
    "care_team": "team member outside this EHR",
}


class CurationError(ValueError):
    """A curation request that cannot be applied; the message is shown to the user."""


@dataclass(frozen=True, slots=True)
class ItemCuration:
    """The coordinator's decision about one EHR item, keyed by its reference ("Condition/123")."""

    ref: str
    hidden: bool = False
    hidden_reason: str = ""
    note: str = ""
    by: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AddedItem:
    """Something the coordinator added that the EHR does not hold."""

    item_id: str
    section: str
    label: str
    contact: str = ""  # supplier, agency or phone
    note: str = ""
    by: str = ""
    at: datetime | None = None


def clean_text(value: object, *, field: str, required: bool = False) -> str:
    """Trimmed text of bounded length; CurationError when required and empty or too long."""
    text = " ".join(str(value or "").split())
    if required and not text:
        raise CurationError(f"Please enter the {field}.")
    if len(text) > MAX_TEXT:
        raise CurationError(f"The {field} is too long (at most {MAX_TEXT} characters).")
    return text


def hide(current: ItemCuration | None, ref: str, reason: object, *, by: str, at: datetime) -> ItemCuration:
    base = current or ItemCuration(ref=ref)
    return ItemCuration(ref=ref, hidden=True, hidden_reason=clean_text(reason, field="reason for hiding", required=True),
                        note=base.note, by=by, at=at)


def unhide(current: ItemCuration | None, ref: str, *, by: str, at: datetime) -> ItemCuration:
    base = current or ItemCuration(ref=ref)
    return ItemCuration(ref=ref, hidden=False, hidden_reason="", note=base.note, by=by, at=at)


def annotate(current: ItemCuration | None, ref: str, note: object, *, by: str, at: datetime) -> ItemCuration:
    base = current or ItemCuration(ref=ref)
    return ItemCuration(ref=ref, hidden=base.hidden, hidden_reason=base.hidden_reason,
                        note=clean_text(note, field="note"), by=by, at=at)


def new_added_item(item_id: str, section: object, label: object, contact: object, note: object, *, by: str,
                   at: datetime) -> AddedItem:
    if section not in ADDABLE_SECTIONS:
        raise CurationError("Items can be added only to equipment, services and the care team.")
    return AddedItem(item_id=item_id, section=str(section), label=clean_text(label, field="name", required=True),
                     contact=clean_text(contact, field="supplier or contact"), note=clean_text(note, field="note"),
                     by=by, at=at)


def is_item_ref(ref: object) -> bool:
    """A plausible item key (see plan.summary.item_key): the only keys curation accepts."""
    return isinstance(ref, str) and 0 < len(ref) <= 300 and ref.isprintable()
