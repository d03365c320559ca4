"""The signed plan as a filed note: a DocumentReference "Plan of care note" with XHTML (and PDF)
renditions (R48-R52).

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. The PDF bytes, when
there are any, are made by the caller (writeback), since rendering is not pure.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .careplan import LOINC, FilingContext
from .model import PlanVersion
from .narrative import TITLE

Json = dict[str, Any]

NOTE_IDENTIFIER_SYSTEM = "urn:spoc:note"
US_CORE_DOCUMENTREFERENCE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"
US_CORE_DOC_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
XHTML_CONTENT_TYPE = "application/xhtml+xml; charset=utf-8"
PDF_CONTENT_TYPE = "application/pdf"


@dataclass(frozen=True, slots=True)
class NoteType:
    """The note's `type`: LOINC 18776-5 unless the site maps plans of care to its own note type."""

    system: str = LOINC
    code: str = "18776-5"
    display: str = "Plan of care note"


def note_identifier(plan_id: str, version: int) -> str:
    return f"{plan_id}.v{version}"


def note_if_none_exist(plan_id: str, version: int) -> str:
    return urlencode([("identifier", f"{NOTE_IDENTIFIER_SYSTEM}|{note_identifier(plan_id, version)}")])


def xhtml_document(div: str, *, title: str = TITLE) -> str:
    """A standalone XHTML 1.0 Strict document around the plan's narrative div (R52)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">'
        '<head><meta http-equiv="Content-Type" content="application/xhtml+xml; charset=utf-8" />'
        f"<title>{title}</title></head><body>{div}</body></html>\n"
    )


def build_document_reference(version: PlanVersion, ctx: FilingContext, *, xhtml: str, pdf: bytes | None = None,
                             replaces: str = "", note_type: NoteType = NoteType()) -> Json:
    """US Core DocumentReference of one signed version. `replaces` is the previous version's note
    ("DocumentReference/abc") when this is a revision (R50)."""
    plan = version.plan
    signed = (plan.signed_at or ctx.now).isoformat()
    resource: Json = {
        "resourceType": "DocumentReference",
        "meta": {"profile": [US_CORE_DOCUMENTREFERENCE]},
        "identifier": [{"system": NOTE_IDENTIFIER_SYSTEM, "value": note_identifier(version.plan_id, version.version)}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": note_type.system, "code": note_type.code, "display": note_type.display}],
                 "text": note_type.display},
        "category": [{"coding": [{"system": US_CORE_DOC_CATEGORY, "code": "clinical-note",
                                  "display": "Clinical Note"}]}],
        "subject": {"reference": ctx.patient_reference},
        "date": ctx.now.isoformat(),
        "description": f"{TITLE}, revision {plan.revision}",
    }
    if ctx.author:
        resource["author"] = [{"reference": ctx.author}]
    if replaces:
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": replaces}}]
    resource["content"] = [_content(xhtml.encode("utf-8"), XHTML_CONTENT_TYPE, signed)]
    if pdf:
        resource["content"].append(_content(pdf, PDF_CONTENT_TYPE, signed))
    context: Json = {"period": {"start": signed, "end": signed}}
    if ctx.encounter_id:
        context = {"encounter": [{"reference": f"Encounter/{ctx.encounter_id}"}], **context}
    resource["context"] = context
    return resource


def _content(data: bytes, content_type: str, created: str) -> Json:
    return {"attachment": {
        "contentType": content_type,
        "language": "en",
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # FHIR Attachment.hash is SHA-1
        "title": TITLE,
        "creation": created,
    }}
