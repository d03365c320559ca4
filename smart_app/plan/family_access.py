"""Who in the family may open the plan through the portal, and the rule that lets them (issue 18).

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

The patient always sees their own plan. A parent or guardian sees a child's plan; from the site's
adolescent age on, the site decides: "on" (they still do), "off" (they do not: the adolescent signs in
for themselves) or "ask" (a professional grants it, person by person). When the EHR gives no birth
date the app cannot prove the patient is a child, so the adolescent rule applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from . import i18n


class Relation(StrEnum):
    SELF = "self"  # the patient signed in
    RELATED = "related"  # a parent, guardian or other RelatedPerson linked to the patient in the EHR


class AccessRule(StrEnum):
    SELF = "self"
    CHILD = "child"
    ADOLESCENT_ON = "adolescent-on"
    ADOLESCENT_GRANTED = "adolescent-granted"
    ADOLESCENT_OFF = "adolescent-off"  # refused
    ADOLESCENT_ASK = "adolescent-ask"  # refused until a professional grants it


ADMITTING = frozenset({AccessRule.SELF, AccessRule.CHILD, AccessRule.ADOLESCENT_ON, AccessRule.ADOLESCENT_GRANTED})


@dataclass(frozen=True, slots=True)
class Admission:
    rule: AccessRule

    @property
    def admitted(self) -> bool:
        return self.rule in ADMITTING


def age_in_years(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def admission(relation: Relation, *, age: int | None, setting: str, adolescent_age: int, granted: bool) -> Admission:
    """The rule that applies to this person; `setting` is the site's on | off | ask."""
    if relation is Relation.SELF:
        return Admission(AccessRule.SELF)
    if age is not None and age < adolescent_age:
        return Admission(AccessRule.CHILD)
    if setting == "on":
        return Admission(AccessRule.ADOLESCENT_ON)
    if setting == "ask" and granted:
        return Admission(AccessRule.ADOLESCENT_GRANTED)
    return Admission(AccessRule.ADOLESCENT_ASK if setting == "ask" else AccessRule.ADOLESCENT_OFF)


RULE_TEXT: Mapping[str, Mapping[AccessRule, str]] = {
    "en": {
        AccessRule.SELF: "You signed in as the patient: this is your own plan.",
        AccessRule.CHILD: "Parents and guardians see the plan of a child under {age}.",
        AccessRule.ADOLESCENT_ON: "At this clinic, parents and guardians also see the plan of a patient {age} or older.",
        AccessRule.ADOLESCENT_GRANTED: "The patient is {age} or older. At this clinic the care team decides "
                                       "who else sees the plan, and they gave you access.",
        AccessRule.ADOLESCENT_OFF: "The patient is {age} or older. At this clinic only the patient sees their plan "
                                   "in the portal; the patient can sign in for themselves, or talk with the care team.",
        AccessRule.ADOLESCENT_ASK: "The patient is {age} or older. At this clinic the care team decides who else "
                                   "sees the plan. We sent them your request; you can open the plan once they say yes.",
    },
    "es": {
        AccessRule.SELF: "Usted entró como paciente: este es su propio plan.",
        AccessRule.CHILD: "Los padres y tutores ven el plan de un niño menor de {age} años.",
        AccessRule.ADOLESCENT_ON: "En esta clínica, los padres y tutores también ven el plan de un paciente de "
                                  "{age} años o más.",
        AccessRule.ADOLESCENT_GRANTED: "El paciente tiene {age} años o más. En esta clínica el equipo de atención "
                                       "decide quién más ve el plan, y le dio acceso a usted.",
        AccessRule.ADOLESCENT_OFF: "El paciente tiene {age} años o más. En esta clínica solo el paciente ve su plan "
                                   "en el portal; el paciente puede entrar por sí mismo, o hable con el equipo de "
                                   "atención.",
        AccessRule.ADOLESCENT_ASK: "El paciente tiene {age} años o más. En esta clínica el equipo de atención decide "
                                   "quién más ve el plan. Les enviamos su solicitud; podrá abrir el plan cuando "
                                   "digan que sí.",
    },
}


def rule_text(rule: str | None, lang: str, adolescent_age: int) -> str:
    """The rule in the family's language; "" for an unknown or missing rule."""
    try:
        chosen = AccessRule(rule)
    except ValueError:
        return ""
    texts = RULE_TEXT.get(lang, RULE_TEXT[i18n.DEFAULT_LANGUAGE])
    return texts[chosen].format(age=adolescent_age)
