"""Which conditions are diagnoses, how much each weighs, and which are social needs or health concerns.

A physician reads the main problems first: complex chronic conditions and dependence on technology,
then the other diagnoses. Social needs ("no accessible transport") and health concerns are real and
belong in the plan, but never among the diagnoses: not on the page, not in the emergency box, not in
a printed copy. Every output groups and orders conditions through this module.

The weights follow the pediatric complex chronic conditions classification (Feudtner et al., CCC v2,
BMC Pediatrics 2014), abridged to ICD-10-CM code prefixes, a few SNOMED CT codes, and words for EHRs
that send only text. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .fhir_text import Code
from .summary import ConditionItem

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"

# Organ systems in the order a physician reads them.
SYSTEMS: tuple[str, ...] = ("neurologic", "respiratory", "cardiovascular", "gastrointestinal", "renal",
                            "metabolic", "hematologic", "malignancy", "congenital", "neonatal", "transplant")


@dataclass(frozen=True, slots=True)
class Weight:
    """Where a diagnosis stands: complex chronic (or dependence on technology) first, by organ system."""

    complex_chronic: bool
    system: str = ""
    technology: bool = False  # dependence on a device (tracheostomy, ventilator, gastrostomy...)

    @property
    def key(self) -> tuple[int, int, int]:
        if not self.complex_chronic:
            return (1, 0, 0)
        return (0, SYSTEMS.index(self.system), int(self.technology))


ORDINARY = Weight(complex_chronic=False)

# ICD-10-CM prefixes (longest match wins): (prefix, system, technology).
_ICD10: tuple[tuple[str, str, bool], ...] = (
    # neurologic and neuromuscular
    ("G80", "neurologic", False), ("G40", "neurologic", False), ("G12", "neurologic", False),
    ("G71", "neurologic", False), ("G70", "neurologic", False), ("G91", "neurologic", False),
    ("G82", "neurologic", False), ("G10", "neurologic", False), ("G11", "neurologic", False),
    ("G31.8", "neurologic", False), ("G93.4", "neurologic", False), ("F84.2", "neurologic", False),
    ("Q00", "neurologic", False), ("Q01", "neurologic", False), ("Q02", "neurologic", False),
    ("Q03", "neurologic", False), ("Q04", "neurologic", False), ("Q05", "neurologic", False),
    ("Q06", "neurologic", False), ("Q07", "neurologic", False), ("Z98.2", "neurologic", True),
    # respiratory
    ("J96.1", "respiratory", False), ("E84", "respiratory", False), ("J84", "respiratory", False),
    ("P27.1", "respiratory", False), ("Q31", "respiratory", False), ("Q32", "respiratory", False),
    ("Q33", "respiratory", False), ("Z93.0", "respiratory", True), ("Z99.1", "respiratory", True),
    ("Z99.81", "respiratory", True), ("Z43.0", "respiratory", True),
    # cardiovascular
    ("I42", "cardiovascular", False), ("I27", "cardiovascular", False), ("I50", "cardiovascular", False),
    ("I44", "cardiovascular", False), ("I45", "cardiovascular", False), ("I47", "cardiovascular", False),
    ("Q20", "cardiovascular", False), ("Q21", "cardiovascular", False), ("Q22", "cardiovascular", False),
    ("Q23", "cardiovascular", False), ("Q24", "cardiovascular", False), ("Q25", "cardiovascular", False),
    ("Q26", "cardiovascular", False), ("Z95", "cardiovascular", True),
    # gastrointestinal
    ("K50", "gastrointestinal", False), ("K51", "gastrointestinal", False), ("K72", "gastrointestinal", False),
    ("K74", "gastrointestinal", False), ("K91.2", "gastrointestinal", False), ("Q39", "gastrointestinal", False),
    ("Q41", "gastrointestinal", False), ("Q42", "gastrointestinal", False), ("Q43", "gastrointestinal", False),
    ("Q44", "gastrointestinal", False), ("Q79.3", "gastrointestinal", False),
    ("Z93.1", "gastrointestinal", True), ("Z93.2", "gastrointestinal", True),
    ("Z93.3", "gastrointestinal", True), ("Z93.4", "gastrointestinal", True),
    # renal and urologic
    ("N18", "renal", False), ("N31", "renal", False), ("Q60", "renal", False), ("Q61", "renal", False),
    ("Q62", "renal", False), ("Q63", "renal", False), ("Q64", "renal", False),
    ("Z99.2", "renal", True), ("Z93.5", "renal", True), ("Z93.6", "renal", True),
    # metabolic and endocrine
    ("E70", "metabolic", False), ("E71", "metabolic", False), ("E72", "metabolic", False),
    ("E74", "metabolic", False), ("E75", "metabolic", False), ("E76", "metabolic", False),
    ("E77", "metabolic", False), ("E88.4", "metabolic", False), ("E23", "metabolic", False),
    ("E25", "metabolic", False), ("E83.0", "metabolic", False), ("Z96.41", "metabolic", True),
    # hematologic and immunologic
    ("D57", "hematologic", False), ("D56", "hematologic", False), ("D61", "hematologic", False),
    ("D66", "hematologic", False), ("D67", "hematologic", False), ("D68", "hematologic", False),
    ("D80", "hematologic", False), ("D81", "hematologic", False), ("D82", "hematologic", False),
    ("D83", "hematologic", False), ("D84", "hematologic", False), ("B20", "hematologic", False),
    # malignancy
    ("C", "malignancy", False), ("D46", "malignancy", False),
    # congenital and genetic
    ("Q90", "congenital", False), ("Q91", "congenital", False), ("Q92", "congenital", False),
    ("Q93", "congenital", False), ("Q87", "congenital", False), ("Q77", "congenital", False),
    ("Q78", "congenital", False), ("Q99", "congenital", False),
    # neonatal
    ("P07.2", "neonatal", False), ("P91.6", "neonatal", False), ("P52", "neonatal", False),
    ("P77", "neonatal", False),
    # transplant
    ("Z94", "transplant", False),
)

_SNOMED: dict[str, tuple[str, bool]] = {
    "128188000": ("neurologic", False),  # cerebral palsy
    "84757009": ("neurologic", False),  # epilepsy
    "230745008": ("neurologic", False),  # hydrocephalus
    "73297009": ("neurologic", False),  # muscular dystrophy
    "5262007": ("neurologic", False),  # spinal muscular atrophy
    "39871006": ("respiratory", False),  # chronic respiratory failure
    "190905008": ("respiratory", False),  # cystic fibrosis
    "67569000": ("respiratory", False),  # bronchopulmonary dysplasia
    "302108003": ("respiratory", True),  # tracheostomy present
    "444932008": ("respiratory", True),  # dependence on ventilator
    "233873004": ("cardiovascular", False),  # hypertrophic cardiomyopathy
    "13213009": ("cardiovascular", False),  # congenital heart disease
    "84114007": ("cardiovascular", False),  # heart failure
    "398064005": ("renal", False),  # neurogenic urinary bladder
    "41040004": ("congenital", False),  # Down syndrome
}

# Words for conditions sent as text only (or with codes this table does not know).
_WORDS: tuple[tuple[str, str, bool], ...] = (
    ("cerebral palsy", "neurologic", False), ("epilep", "neurologic", False),
    ("seizure disorder", "neurologic", False), ("spina bifida", "neurologic", False),
    ("hydrocephalus", "neurologic", False), ("muscular dystrophy", "neurologic", False),
    ("spinal muscular atrophy", "neurologic", False), ("shunt", "neurologic", True),
    ("respiratory failure", "respiratory", False), ("cystic fibrosis", "respiratory", False),
    ("bronchopulmonary dysplasia", "respiratory", False), ("tracheostomy", "respiratory", True),
    ("ventilat", "respiratory", True), ("home oxygen", "respiratory", True),
    ("cardiomyopathy", "cardiovascular", False), ("congenital heart", "cardiovascular", False),
    ("heart failure", "cardiovascular", False), ("pulmonary hypertension", "cardiovascular", False),
    ("pacemaker", "cardiovascular", True), ("short bowel", "gastrointestinal", False),
    ("gastrostomy", "gastrointestinal", True), ("g-tube", "gastrointestinal", True),
    ("j-tube", "gastrointestinal", True), ("neurogenic bladder", "renal", False),
    ("chronic kidney", "renal", False), ("dialysis", "renal", True),
    ("mitochondrial", "metabolic", False), ("sickle cell", "hematologic", False),
    ("immunodeficiency", "hematologic", False), ("leukemia", "malignancy", False),
    ("lymphoma", "malignancy", False), ("trisomy", "congenital", False),
    ("down syndrome", "congenital", False), ("transplant", "transplant", False),
)


def weight(item: ConditionItem) -> Weight:
    """How much a diagnosis weighs: by its ICD-10-CM code when it has one (a code the table does not list
    is an ordinary diagnosis), else by SNOMED CT, else by its words."""
    for code in item.codes:
        found = _by_code(code)
        if found is not None:
            return found
    if any(c.system == ICD10CM for c in item.codes):
        return ORDINARY
    text = " ".join([item.label, *(c.display for c in item.codes)]).casefold()
    for words, system, technology in _WORDS:
        if words in text:
            return Weight(True, system, technology)
    return ORDINARY


def _by_code(code: Code) -> Weight | None:
    if code.system == ICD10CM:
        value = code.code.upper()
        matches = [(prefix, system, tech) for prefix, system, tech in _ICD10 if value.startswith(prefix)]
        if matches:
            _, system, technology = max(matches, key=lambda m: len(m[0]))
            return Weight(True, system, technology)
    elif code.system == SNOMED and code.code in _SNOMED:
        system, technology = _SNOMED[code.code]
        return Weight(True, system, technology)
    return None


# -- groups ---------------------------------------------------------------------------------------

PROBLEM_LIST = "Problem list"
VISIT_DIAGNOSES = "Diagnoses from visits"
OTHER_CONDITIONS = "Other conditions"
HEALTH_CONCERNS = "Health concerns"
SOCIAL_NEEDS = "Social needs"
# The groups in the order pages show them; the first three are diagnoses.
GROUPS: tuple[str, ...] = (PROBLEM_LIST, VISIT_DIAGNOSES, OTHER_CONDITIONS, HEALTH_CONCERNS, SOCIAL_NEEDS)
DIAGNOSIS_GROUPS = frozenset({PROBLEM_LIST, VISIT_DIAGNOSES, OTHER_CONDITIONS})

_CATEGORY_GROUPS: dict[str, str] = {
    "problem list": PROBLEM_LIST, "problem-list-item": PROBLEM_LIST, "problem list item": PROBLEM_LIST,
    "encounter diagnosis": VISIT_DIAGNOSES, "encounter-diagnosis": VISIT_DIAGNOSES,
    "health concern": HEALTH_CONCERNS, "health-concern": HEALTH_CONCERNS,
    "social needs": SOCIAL_NEEDS, "sdoh": SOCIAL_NEEDS, "social determinants of health": SOCIAL_NEEDS,
}
# ICD-10-CM "persons with potential health hazards related to socioeconomic and psychosocial
# circumstances" (Z55-Z65) and "problems related to medical facilities and other health care" (Z75).
_SOCIAL_PREFIXES = tuple(f"Z{n}" for n in range(55, 66)) + ("Z75",)


def is_social_need(item: ConditionItem) -> bool:
    """A social need, whatever the EHR filed it under: its category says so, or its ICD-10-CM code does."""
    if _CATEGORY_GROUPS.get(item.category.casefold()) == SOCIAL_NEEDS:
        return True
    return any(c.system == ICD10CM and c.code.upper().startswith(_SOCIAL_PREFIXES) for c in item.codes)


def group(item: ConditionItem) -> str:
    """The one group a condition is shown in (GROUPS)."""
    if is_social_need(item):
        return SOCIAL_NEEDS
    return _CATEGORY_GROUPS.get(item.category.casefold(), OTHER_CONDITIONS)


def is_diagnosis(item: ConditionItem) -> bool:
    return group(item) in DIAGNOSIS_GROUPS


def ranked(items: Iterable[ConditionItem]) -> list[ConditionItem]:
    """Diagnoses by clinical weight (stable: the EHR's order within the same weight); others dropped."""
    return sorted((i for i in items if is_diagnosis(i)), key=lambda i: weight(i).key)


def main_diagnoses(items: Sequence[ConditionItem], *, at_least: int = 5) -> list[ConditionItem]:
    """The key diagnoses for an emergency: every complex chronic one, or the first `at_least` diagnoses."""
    ordered = ranked(items)
    heavy = [i for i in ordered if weight(i).complex_chronic]
    return heavy if len(heavy) >= at_least else ordered[:at_least]


def grouped(items: Iterable[ConditionItem]) -> list[tuple[str, list[ConditionItem]]]:
    """(group, items) in GROUPS order, diagnoses ranked within their group; empty groups left out."""
    listed = list(items)
    out = []
    for name in GROUPS:
        members = [i for i in listed if group(i) == name]
        if name in DIAGNOSIS_GROUPS:
            members = ranked(members)
        if members:
            out.append((name, members))
    return out
