"""Sandbox data layer: one synthetic patient with a very large record, for paging and benchmarks.

Thousands of current medication orders (all active, intent order) and encounters (all within the
summary's 24-month window), so the summary really fetches them; hundreds of conditions and a mix of
other resources over ten years of history. It refers to the shared practitioners, organisations and medications of
`sandbox.data.characters.build_resources`, so load both together. Pure and fast: plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from itertools import cycle, islice

from sandbox.data.characters import (
    AMBULATORY,
    ANXIETY,
    CELIAC,
    CEREBRAL_PALSY,
    CHECK_UP,
    CLINICIANS,
    CONSTIPATION,
    DEVELOPMENTAL_DELAY,
    DRUGS,
    DYSPHAGIA,
    ED_ADMISSION,
    EMERGENCY,
    EPILEPSY,
    GERD,
    HEARING_LOSS,
    HOSPITAL_ADMISSION,
    HYPOTHYROIDISM,
    INPATIENT,
    LAKESIDE,
    LOINC,
    OBSERVATION_CATEGORY,
    OSTEOPENIA,
    PHYSICIAN_USER_ID,
    PROBLEM_VISIT,
    SCOLIOSIS,
    SHARED_MEDICATIONS,
    SLEEP_APNEA,
    SNOMED,
    UCUM,
    Chart,
    Drug,
    Problem,
    Resource,
    Timeline,
    address,
    coding,
    concept,
    instant,
    patient,
    reference,
    resource,
    specialist,
)

HISTORY_DAYS = 3650
RECENT_DAYS = 700  # encounters fall inside the summary's 24-month window, with a margin
PROBLEM_CATALOGUE: tuple[Problem, ...] = (
    CEREBRAL_PALSY,
    EPILEPSY,
    GERD,
    SCOLIOSIS,
    DEVELOPMENTAL_DELAY,
    DYSPHAGIA,
    OSTEOPENIA,
    CONSTIPATION,
    CELIAC,
    ANXIETY,
    HEARING_LOSS,
    SLEEP_APNEA,
    HYPOTHYROIDISM,
)
DOCTORS = tuple(c.id for c in CLINICIANS if c.credential == "MD")


def spread(i: int, n: int, days: int = HISTORY_DAYS) -> int:
    """Days ago for the i-th of n items spread evenly over `days` (newest first)."""
    return (i * days) // max(n, 1)


def condition_history(c: Chart, n: int) -> Iterator[Resource]:
    for i, problem in enumerate(islice(cycle(PROBLEM_CATALOGUE), n)):
        numbered = Problem(f"{problem.key}-{i}", problem.text, problem.icd10, problem.snomed)
        onset = c.t.ago(spread(i, n))
        if i % 3 == 2:
            yield c.condition(
                numbered, onset=onset, clinical="resolved", abated=min(c.t.today, onset + timedelta(days=30))
            )
        else:
            yield c.condition(numbered, onset=onset)


def medication_order_history(c: Chart, n: int) -> Iterator[Resource]:
    for i, drug in enumerate(islice(cycle(DRUGS), n)):
        numbered = Drug(f"{drug.key}-{i}", drug.rxnorm, drug.name)
        authored = c.t.ago(spread(i, n))
        kw = {"status": "active", "requester": DOCTORS[i % len(DOCTORS)]}
        if drug in SHARED_MEDICATIONS:
            medication = {"medicationReference": reference("Medication", f"med-{drug.key}", drug.name)}
            yield c.medication_request(numbered.key, medication, authored=authored, dosage="As directed", **kw)
        else:
            yield c.coded_order(numbered, "As directed", authored, **kw)


def encounter_history(c: Chart, n: int) -> Iterator[Resource]:
    for i in range(n):
        start = c.t.ago(spread(i, n, RECENT_DAYS))
        who = DOCTORS[i % len(DOCTORS)]
        if i % 100 == 7:
            yield c.encounter(f"{i}", INPATIENT, HOSPITAL_ADMISSION, start=start, days=3, clinician=who)
        elif i % 25 == 3:
            yield c.encounter(f"{i}", EMERGENCY, ED_ADMISSION, start=start, clinician=who)
        else:
            yield c.encounter(f"{i}", AMBULATORY, CHECK_UP if i % 2 else PROBLEM_VISIT, start=start, clinician=who)


def weight(c: Chart, i: int, day: date) -> Resource:
    return resource(
        "Observation",
        c.id("observation", f"weight-{i}"),
        day,
        status="final",
        category=[concept("Vital Signs", coding(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs"))],
        code=concept("Body weight", coding(LOINC, "29463-7", "Body weight")),
        subject=c.subject,
        effectiveDateTime=instant(day),
        valueQuantity={"value": round(20 + (i % 40) * 0.5, 1), "unit": "kg", "system": UCUM, "code": "kg"},
    )


def procedure(c: Chart, i: int, day: date) -> Resource:
    code = concept("Physical therapy session", coding(SNOMED, "91251008", "Physical therapy procedure"))
    return c.procedure(f"pt-{i}", code, performed=day, surgeon=DOCTORS[i % len(DOCTORS)])


def referral(c: Chart, i: int, day: date) -> Resource:
    code = concept("Occupational therapy", coding(SNOMED, "84478008", "Occupational therapy"))
    status = "active" if i % 20 == 0 else "completed"
    return c.service_request(
        f"ot-{i}",
        code,
        authored=day,
        requester=PHYSICIAN_USER_ID,
        performer=reference("Organization", LAKESIDE),
        status=status,
    )


OTHER_KINDS: tuple[Callable[[Chart, int, date], Resource], ...] = (weight, procedure, referral)


def other_resources(c: Chart, n: int) -> Iterator[Resource]:
    for i, build in enumerate(islice(cycle(OTHER_KINDS), n)):
        yield build(c, i, c.t.ago(spread(i, n)))


def build_large_patient(
    today: date,
    *,
    patient_id: str = "large-1",
    medication_orders: int = 2000,
    encounters: int = 2000,
    conditions: int = 300,
    other: int = 800,
) -> list[dict]:
    """A patient with a large record (5,102 resources with the defaults), plus its care team.

    The defaults are sized to the app's default page cap: 2,000 active orders and 2,000 recent
    encounters are 20 pages of 100 each.
    """
    t = Timeline(today)
    c = Chart(patient_id, t)
    me = patient(
        c,
        given="Morgan",
        family="Whitaker",
        gender="other",
        born=t.born(14, 10),
        mrn=f"SB-L-{patient_id}",
        home=address("9 Long Meadow", "Millbrook"),
        phone_n=70,
        languages=(("en", "English"),),
        guardian=None,
        pcp=PHYSICIAN_USER_ID,
    )
    team = c.care_team("Large record care team", [specialist(d) for d in DOCTORS], since=t.ago(HISTORY_DAYS))
    return [
        me,
        team,
        *condition_history(c, conditions),
        *medication_order_history(c, medication_orders),
        *encounter_history(c, encounters),
        *other_resources(c, other),
    ]
