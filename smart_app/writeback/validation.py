"""Strict checks of every resource before it is sent to the EHR. A failed check blocks the write.

Layer: write-back (shell). `fhir.resources.R4B` checks structure, types and cardinality (unknown
elements are refused); on top of it we check what it does not: the codes we rely on, the narrative
XHTML (well-formed, no active content, R52), and that every resource is about the launch patient
(R55).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from ..errors import SmartAppError
from ..plan.text import clean_text, shortened

XHTML_NS = "http://www.w3.org/1999/xhtml"
FORBIDDEN_ELEMENTS = frozenset({"script", "style", "iframe", "link", "object", "embed", "form", "input",
                                "base", "meta", "head", "body", "html", "frame", "frameset", "applet"})
# Code sets fhir.resources does not enforce, for the elements the plan depends on.
ALLOWED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("CarePlan", "status"): frozenset({"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                                       "unknown"}),
    ("CarePlan", "intent"): frozenset({"proposal", "plan", "order", "option"}),
    ("Goal", "lifecycleStatus"): frozenset({"proposed", "planned", "accepted", "active", "on-hold", "completed",
                                            "cancelled", "entered-in-error", "rejected"}),
    ("Task", "status"): frozenset({"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
                                   "in-progress", "on-hold", "failed", "completed", "entered-in-error"}),
    ("Task", "intent"): frozenset({"unknown", "proposal", "plan", "order", "original-order", "reflex-order",
                                   "filler-order", "instance-order", "option"}),
    ("CareTeam", "status"): frozenset({"proposed", "active", "suspended", "inactive", "entered-in-error"}),
    ("DocumentReference", "status"): frozenset({"current", "superseded", "entered-in-error"}),
    ("DocumentReference", "docStatus"): frozenset({"preliminary", "final", "amended", "entered-in-error"}),
}
# Where a resource keeps the words that name it to a clinician, for messages about it.
NAMING_FIELDS: dict[str, tuple[str, ...]] = {
    "Goal": ("description", "text"), "Task": ("description",), "CareTeam": ("name",),
    "DocumentReference": ("description",),
}
PATIENT_FIELDS: dict[str, str] = {
    "CarePlan": "subject", "Goal": "subject", "Task": "for", "CareTeam": "subject", "DocumentReference": "subject",
}


class InvalidResource(SmartAppError):
    """A resource the app built is not valid FHIR; nothing was sent."""

    http_status = 422
    title = "The plan could not be filed"


class WrongPatient(InvalidResource):
    """A resource names another patient than the one the EHR launched the app for (R55)."""


def validate_resource(resource: Mapping[str, Any], *, patient_id: str) -> None:
    """Raise InvalidResource (with a message a clinician can read) unless `resource` is valid R4."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        raise InvalidResource("The app built a record without a type; nothing was sent to the EHR.")
    _check_patient(resource, resource_type, patient_id)
    try:
        model = get_fhir_model_class(resource_type)
    except KeyError:
        raise InvalidResource(f"The app built an unknown kind of record ({resource_type}).") from None
    try:
        model.model_validate(dict(resource))
    except ValidationError as wrong:
        raise InvalidResource(f"The {_named(resource, resource_type)} the app built is not valid FHIR, so nothing "
                              f"was sent: {_first_problem(wrong)}") from None
    _check_codes(resource, resource_type)
    div = (resource.get("text") or {}).get("div")
    if div is not None:
        check_xhtml(div, what=f"The {_named(resource, resource_type)} narrative")


def validate_all(resources: Iterable[Mapping[str, Any]], *, patient_id: str) -> None:
    for resource in resources:
        validate_resource(resource, patient_id=patient_id)


def check_xhtml(div: str, *, what: str = "The plan's text") -> None:
    """A well-formed XHTML `div` with no active content (R52)."""
    try:
        root = ET.fromstring(div)
    except ET.ParseError as broken:
        raise InvalidResource(f"{what} is not well-formed XHTML{_near(div, broken.position)}.") from None
    if root.tag != f"{{{XHTML_NS}}}div":
        raise InvalidResource(f"{what} must be one XHTML div.")
    for element in root.iter():
        name = element.tag.split("}")[-1].lower()
        if name in FORBIDDEN_ELEMENTS:
            raise InvalidResource(f"{what} contains a <{name}> element, which is not allowed.")
        if any(attribute.lower().startswith("on") for attribute in element.attrib):
            raise InvalidResource(f"{what} contains an event handler, which is not allowed.")


def _named(resource: Mapping[str, Any], resource_type: str) -> str:
    """'Goal “Sleep through the night”': the kind of record and, when it has them, the words naming it."""
    value: Any = resource
    for key in NAMING_FIELDS.get(resource_type, ("title",)):
        value = value.get(key) if isinstance(value, Mapping) else None
    words = shortened(clean_text(value)) if isinstance(value, str) else ""
    return f"{resource_type} “{words}”" if words else resource_type


def _near(div: str, position: tuple[int, int]) -> str:
    """' near “the words where the XHTML broke”', so the message names the item; '' if none are found."""
    line, column = position
    lines = re.split(r"\r\n|\r|\n", div)  # as the XML parser counts lines; its column counts characters
    if not 0 < line <= len(lines):
        return ""
    text = lines[line - 1]
    end = text.find("<", column)
    words = shortened(clean_text(text[text.rfind(">", 0, column) + 1:end if end >= 0 else None]))
    return f" near “{words}”" if words else ""


def _check_patient(resource: Mapping[str, Any], resource_type: str, patient_id: str) -> None:
    field = PATIENT_FIELDS.get(resource_type)
    if field is None:
        return
    reference = (resource.get(field) or {}).get("reference")
    if reference != f"Patient/{patient_id}":
        raise WrongPatient(f"The {resource_type} is not about the patient whose chart opened the app, "
                           "so nothing was sent.")


def _check_codes(resource: Mapping[str, Any], resource_type: str) -> None:
    for (kind, element), allowed in ALLOWED_CODES.items():
        if kind == resource_type and element in resource and resource[element] not in allowed:
            raise InvalidResource(f"The {_named(resource, resource_type)} has an unknown {element} code "
                                  f"{resource[element]!r}, so nothing was sent.")


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem.get("loc", ()) if part != "__root__")
    return f"{where or 'resource'}: {problem.get('msg', 'invalid')}"[:300]
