"""Small total helpers that read FHIR R4 JSON: they return plain values and never raise.

Layer: pure core (smart_app.plan). Imports: stdlib only.

Whatever the EHR sends (None, a list where an object belongs, a number where a string belongs, a
data-absent-reason instead of a value), every helper answers with an empty value rather than an
exception. `Any` stays inside this module and summary.py; what they return is typed. Every string
comes through `string_of`, the EHR's door for text (see text.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from .text import clean_text

DATA_ABSENT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ENTERED_IN_ERROR = "entered-in-error"

# Elements that carry a resource's status in one of its R4 (or older, plain-string) forms.
_STATUS_ELEMENTS = ("status", "clinicalStatus", "verificationStatus", "lifecycleStatus", "docStatus")
# Hostile input can nest without end; data-absent markers sit a few levels down at most.
_MAX_DEPTH = 8
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?$")
_HISTORY = re.compile(r"/_history/[^/]*$")
_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Code:
    """One coding of a concept: where the code comes from, the code, and its display."""

    system: str
    code: str
    display: str = ""


_NEVER_MAPPINGS = (str, list, tuple, int, float, type(None))


def _is_mapping(value: Any) -> bool:
    """isinstance(value, Mapping), with parsed JSON's own types answered in C before the ABC check."""
    if isinstance(value, dict):
        return True
    return not isinstance(value, _NEVER_MAPPINGS) and isinstance(value, Mapping)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is a JSON object, else an empty one."""
    return value if _is_mapping(value) else _EMPTY


def as_list(value: Any) -> tuple[Any, ...]:
    """The items of a JSON array; a lone object counts as a one-item array; anything else is empty."""
    if isinstance(value, list | tuple):
        return tuple(value)
    if _is_mapping(value):
        return (value,)
    return ()


def mappings(value: Any) -> tuple[Mapping[str, Any], ...]:
    """The JSON objects in an array (see as_list), skipping anything that is not an object."""
    return tuple(item for item in as_list(value) if _is_mapping(item))


_SHORT_STRING = 200  # codes, systems, displays and names repeat across resources: cleaned once each


@lru_cache(maxsize=16384)
def _cleaned_short(value: str) -> str:
    return " ".join(clean_text(value).split())


def string_of(value: Any) -> str:
    """A JSON string, cleaned (see clean_text), with its whitespace collapsed; numbers as text; ''
    for anything else. Every other helper reads text through this one."""
    if isinstance(value, str):
        return _cleaned_short(value) if len(value) <= _SHORT_STRING else " ".join(clean_text(value).split())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def first_text(*values: str) -> str:
    """The first non-empty string, or ''."""
    return next((v for v in values if v), "")


def codings_of(concept: Any) -> tuple[Code, ...]:
    """Every coding of a CodeableConcept (or a bare Coding) that has a code."""
    found = []
    for item in mappings(as_mapping(concept).get("coding")) or (as_mapping(concept),):
        code = string_of(item.get("code"))
        if code:
            found.append(Code(string_of(item.get("system")), code, string_of(item.get("display"))))
    return tuple(found)


def text_of(concept: Any) -> str:
    """Best label for a CodeableConcept (or a Coding): text, then a display, then a code; '' if none.

    A list of concepts gives the first that has a label; a bare string is taken as the label.
    """
    if isinstance(concept, str):
        return string_of(concept)
    if isinstance(concept, list | tuple):
        return first_text(*(text_of(c) for c in concept[:20]))
    node = as_mapping(concept)
    text = string_of(node.get("text"))
    if text:
        return text
    raw = mappings(node.get("coding")) if "coding" in node else (node,)  # a bare Coding reads as one
    codings = [c for c in raw if string_of(c.get("system")) != DATA_ABSENT_SYSTEM]
    return first_text(
        *(string_of(c.get("display")) for c in codings), *(string_of(c.get("code")) for c in codings)
    )


def coding_of(concept: Any, system: str) -> str:
    """The code a concept holds in `system`, or ''."""
    return next((c.code for c in codings_of(concept) if c.system == system), "")


def code_of(concept: Any) -> str:
    """The first code of a concept whatever its system (lower-cased), or a plain string status."""
    if isinstance(concept, str):
        return string_of(concept).lower()
    return next((c.code.lower() for c in codings_of(concept)), "")


def reference_of(resource: Any) -> str:
    """'Type/id' for a resource, or '' when either part is missing."""
    node = as_mapping(resource)
    kind, ident = string_of(node.get("resourceType")), string_of(node.get("id"))
    return f"{kind}/{ident}" if kind and ident else ""


def target_of(reference: Any) -> str:
    """What a Reference points at, as 'Type/id' ('#id' for contained); absolute URLs are shortened."""
    raw = string_of(as_mapping(reference).get("reference"))
    if not raw or raw.startswith("#"):
        return raw
    parts = _HISTORY.sub("", raw.split("?", 1)[0]).rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 and parts[-2] and parts[-1] else ""


def display_of(reference: Any) -> str:
    """The display text a Reference carries, or ''."""
    return string_of(as_mapping(reference).get("display"))


def human_name(names: Any) -> str:
    """A person's name for display: official or usual before others, old names skipped; '' if none."""
    candidates = [n for n in mappings(names) if string_of(n.get("use")) != "old"]
    rank = {"official": 0, "usual": 1}
    for name in sorted(candidates, key=lambda n: rank.get(string_of(n.get("use")), 2)):
        text = string_of(name.get("text"))
        if text:
            return text
        parts = [
            *(string_of(p) for p in as_list(name.get("prefix"))),
            *(string_of(g) for g in as_list(name.get("given"))),
            string_of(name.get("family")),
            *(string_of(s) for s in as_list(name.get("suffix"))),
        ]
        joined = " ".join(p for p in parts if p)
        if joined:
            return joined
    return ""


def telecom_phone(telecoms: Any) -> str:
    """The preferred phone number among ContactPoints (lowest rank first), or ''."""
    phones = [t for t in mappings(telecoms) if string_of(t.get("system")) in ("phone", "")]
    phones = [t for t in phones if string_of(t.get("value")) and string_of(t.get("use")) != "old"]

    def rank(point: Mapping[str, Any]) -> int:
        value = point.get("rank")
        return value if isinstance(value, int) and not isinstance(value, bool) else 1_000_000

    return string_of(min(phones, key=rank).get("value")) if phones else ""


def fhir_date(value: Any) -> date | None:
    """The calendar date of a FHIR date or dateTime ('2024', '2024-05', '2024-05-01T10:00:00Z')."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value.strip())
    if not match:
        return None
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def period_start(period: Any) -> date | None:
    """The start date of a Period, or None."""
    return fhir_date(as_mapping(period).get("start"))


def period_end(period: Any) -> date | None:
    """The end date of a Period, or None."""
    return fhir_date(as_mapping(period).get("end"))


def is_entered_in_error(resource: Any) -> bool:
    """True when any status element says entered-in-error (code, coded concept or plain string)."""
    node = as_mapping(resource)
    return any(_says_entered_in_error(node.get(key)) for key in _STATUS_ELEMENTS)


def _says_entered_in_error(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() == ENTERED_IN_ERROR
    concept = as_mapping(value)
    return any(
        string_of(coding.get("code")).lower() == ENTERED_IN_ERROR
        for coding in (*mappings(concept.get("coding")), concept)
    )


def data_absent(value: Any) -> str:
    """'unknown' ('masked' when masked) if a data-absent-reason marks the element anywhere; else ''."""
    reason = _absent_reason(value, 0)
    if reason is None:
        return ""
    return "masked" if reason == "masked" else "unknown"


def _absent_reason(value: Any, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    if _is_mapping(value):
        if string_of(value.get("url")) == DATA_ABSENT_EXTENSION:
            return string_of(value.get("valueCode")).lower()
        if string_of(value.get("system")) == DATA_ABSENT_SYSTEM:
            return string_of(value.get("code")).lower()
        return _first_reason(value.values(), depth)
    if isinstance(value, list | tuple):
        return _first_reason(value, depth)
    return None


def _first_reason(values: Iterable[Any], depth: int) -> str | None:
    for child in values:
        reason = _absent_reason(child, depth + 1)
        if reason is not None:
            return reason
    return None


def field_absent(resource: Any, name: str) -> str:
    """data_absent for a resource element, including a primitive's `_name` companion."""
    node = as_mapping(resource)
    return data_absent(node.get(name)) or data_absent(node.get(f"_{name}"))
