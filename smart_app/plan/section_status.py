"""What a reader is told about a section of the medical summary besides its items: the one place that
decides the words for "none", "could not be loaded", "only part" and "not offered", in every output
(summary page, family copy, signed plan, CarePlan narrative, note, progress page).

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

A plan of care is read in an emergency: an empty allergy list that is really a failed or mangled search
is the most dangerous thing the app could print. So "the EHR lists none" is said only of a search that
completed, and a failed or incomplete section always says so, with the day it was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .i18n import format_date
from .record import SectionState


class StatusKind(StrEnum):
    NONE = "none"  # the EHR answered in full and lists nothing
    FAILED = "failed"  # the EHR could not be read: nothing is known
    INCOMPLETE = "incomplete"  # what is shown is not all there is
    NOT_OFFERED = "not-offered"  # this EHR does not share this with apps


@dataclass(frozen=True, slots=True)
class SectionStatus:
    kind: StatusKind
    text: str

    @property
    def is_unknown(self) -> bool:
        """True when the section cannot be read as complete: never print "none" for it."""
        return self.kind is not StatusKind.NONE


# What a section lists, in a sentence: "the EHR lists no {noun}" / "{Noun} could not be loaded".
SECTION_NOUNS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "patient": "family members or contacts",
        "conditions": "active conditions",
        "medications": "active medications",
        "allergies": "allergies",
        "procedures": "procedures",
        "equipment": "equipment or devices",
        "care_team": "care team members",
        "encounters": "visits in the last 24 months",
        "services": "active referrals, therapies or home services",
        "goals": "goals",
        "care_plans": "other care plans",
        "documents": "advance directives or legal documents",
    },
    "es": {
        "patient": "familiares ni contactos",
        "conditions": "problemas de salud activos",
        "medications": "medicamentos activos",
        "allergies": "alergias",
        "procedures": "procedimientos",
        "equipment": "equipos ni dispositivos",
        "care_team": "miembros del equipo de atención",
        "encounters": "visitas en los últimos 24 meses",
        "services": "derivaciones, terapias ni servicios en casa activos",
        "goals": "metas",
        "care_plans": "otros planes de atención",
        "documents": "directivas anticipadas ni documentos legales",
    },
}

_SENTENCES: Mapping[str, Mapping[StatusKind, str]] = {
    "en": {
        StatusKind.NONE: "The health record lists no {noun}.",
        StatusKind.FAILED: "The {noun} could not be loaded from the health record on {day}: check the chart.",
        StatusKind.INCOMPLETE: "Only part of the {noun} could be loaded from the health record on {day}: "
                               "check the chart for the rest.",
        StatusKind.NOT_OFFERED: "This health record system does not share {noun} with the app: check the chart.",
    },
    "es": {
        StatusKind.NONE: "El expediente médico no registra {noun}.",
        StatusKind.FAILED: "No se pudieron cargar {noun} del expediente médico el {day}: consulte el expediente.",
        StatusKind.INCOMPLETE: "Solo se pudo cargar una parte de {noun} del expediente médico el {day}: "
                               "consulte el expediente para el resto.",
        StatusKind.NOT_OFFERED: "Este sistema de expedientes no comparte {noun} con la aplicación: "
                                "consulte el expediente.",
    },
}

# Said only when the list is empty and complete; the safety sections get a plain caution.
_NONE_CAUTION: Mapping[str, Mapping[str, str]] = {
    "en": {"allergies": " Not the same as “no known allergies”: ask the family."},
    "es": {"allergies": " No es lo mismo que “sin alergias conocidas”: pregunte a la familia."},
}


def section_status(key: str, state: SectionState, *, shown: int, read_on: date,
                   lang: str = "en") -> SectionStatus | None:
    """The line a reader needs about section `key`, or None when it holds items and is complete.

    `shown` is how many items the reader sees (after the coordinator's curation); `read_on` is the day
    the EHR was read. Failed and incomplete sections always get their line, even with items shown."""
    lang = lang if lang in _SENTENCES else "en"
    if state is SectionState.FAILED:
        kind = StatusKind.FAILED
    elif state is SectionState.NOT_OFFERED:
        kind = StatusKind.NOT_OFFERED
    elif state is SectionState.INCOMPLETE:
        kind = StatusKind.INCOMPLETE
    elif shown == 0:
        kind = StatusKind.NONE
    else:
        return None
    noun = SECTION_NOUNS[lang].get(key, SECTION_NOUNS["en"].get(key, key))
    text = _SENTENCES[lang][kind].format(noun=noun, day=format_date(read_on, lang))
    if kind is StatusKind.NONE:
        text += _NONE_CAUTION[lang].get(key, "")
    return SectionStatus(kind, text[:1].upper() + text[1:])


_NO_KNOWN: Mapping[str, Mapping[str, str]] = {
    "es": {
        "No known allergies": "Sin alergias conocidas",
        "No known drug allergies": "Sin alergias conocidas a medicamentos",
        "No known food allergies": "Sin alergias conocidas a alimentos",
        "No known environmental allergies": "Sin alergias ambientales conocidas",
    },
}
_RECORDED = {"en": "recorded {day}", "es": "registrado el {day}"}


def no_known_allergies_text(statement: str, recorded: date | None, lang: str = "en") -> str:
    """"No known allergies (recorded 3 March 2026)": what the EHR recorded, with its date, never to be
    confused with an empty list."""
    lang = lang if lang in _RECORDED else "en"
    words = _NO_KNOWN.get(lang, {}).get(statement, statement)
    return f"{words} ({_RECORDED[lang].format(day=format_date(recorded, lang))})" if recorded else words
