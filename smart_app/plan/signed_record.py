"""What was signed besides the plan itself: the medical summary as it was read and curated, About us and
the emergency information, kept with the signed version.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

The signed-plan PDF, the CarePlan narrative, the filed note and the family copy of a signed version are
rendered from this record, never from a fresh read of the EHR: a later change in the EHR shows up in
"what changed since signing", never inside the signed document. Release-of-information consent is not
kept here on purpose: it governs each disclosure when it happens, so a withdrawal applies at once.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from . import summary as s
from .about import EmergencyInfo, IntakeAnswers
from .curation import AddedItem, ItemCuration
from .fhir_text import Code
from .record import SectionState

SCHEMA = 1


@dataclass(frozen=True, slots=True)
class SignedRecord:
    read_on: date  # the day the EHR was read for the signing
    header: s.PatientHeader | None
    sections: tuple[s.SummarySection, ...]  # as the EHR gave them, each with its state and notes
    curations: tuple[ItemCuration, ...] = ()
    added: tuple[AddedItem, ...] = ()
    intake: IntakeAnswers | None = None
    emergency: EmergencyInfo = EmergencyInfo()

    def section(self, key: str) -> s.SummarySection | None:
        """The section as signed; None when it was not read (callers treat that as unknown, not empty)."""
        return next((section for section in self.sections if section.key == key), None)

    @property
    def by_key(self) -> dict[str, s.SummarySection]:
        return {section.key: section for section in self.sections}

    @property
    def curation_by_ref(self) -> dict[str, ItemCuration]:
        return {curation.ref: curation for curation in self.curations}


def signed_record(*, read_on: date, header: s.PatientHeader | None, sections: Iterable[s.SummarySection],
                  curations: Mapping[str, ItemCuration] | Iterable[ItemCuration] = (),
                  added: Iterable[AddedItem] = (), intake: IntakeAnswers | None = None,
                  emergency: EmergencyInfo | None = None) -> SignedRecord:
    values = curations.values() if isinstance(curations, Mapping) else curations
    return SignedRecord(read_on=read_on, header=header, sections=tuple(sections), curations=tuple(values),
                        added=tuple(added), intake=intake, emergency=emergency or EmergencyInfo())


# -- to and from JSON (the store keeps it as JSON) ---------------------------------------------------

# Every dataclass the record may hold, by name: items of different kinds share one tuple, so each
# dataclass is written with its name.
_KINDS: dict[str, type] = {cls.__name__: cls for cls in (
    SignedRecord, s.SummarySection, s.PatientHeader, s.Source, Code, ItemCuration, AddedItem, IntakeAnswers,
    EmergencyInfo, s.ConditionItem, s.MedicationItem, s.AllergyItem, s.ProcedureItem, s.EquipmentItem,
    s.CareTeamMember, s.EncounterItem, s.ServiceItem, s.GoalItem, s.CarePlanItem, s.DocumentItem, s.Contact)}


def record_to_json(record: SignedRecord) -> dict[str, Any]:
    return {"schema": SCHEMA, "record": _dump(record)}


def record_from_json(data: Mapping[str, Any]) -> SignedRecord:
    """The record; unknown keys are ignored, so older code reads newer records."""
    return _load(SignedRecord, data["record"])


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {"_kind": type(value).__name__,
                **{f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value


def _load(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and value.get("_kind") in _KINDS:
        cls = _KINDS[value["_kind"]]
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _load(hints[k], v) for k, v in value.items() if k in names})
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _load(options[0], value)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v) for v in value)
        return tuple(_load(a, v) for a, v in zip(args, value, strict=False))
    if kind is SectionState or (isinstance(kind, type) and issubclass(kind, Enum)):
        return kind(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value
