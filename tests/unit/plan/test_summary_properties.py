"""Whatever JSON the EHR sends, the summary never raises, never shows entered-in-error, and every item
says where it came from. Hypothesis feeds it junk, hostile text, and realistic resources with fields
replaced by junk."""

import unicodedata
from dataclasses import fields
from datetime import date
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_app.plan.fhir_text import Code
from smart_app.plan.record import SECTION_KEYS, SectionFetch, SectionState, SourceRecord
from smart_app.plan.summary import (
    MedicalSummary,
    Source,
    SummarySection,
    hospital_use_from,
    item_key,
    patient_header,
    summarize,
    summarize_section,
)
from smart_app.plan.text import isolated
from tests import builders as b

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = date(2025, 6, 1)

HOSTILE_TEXT = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "{{ 7*7 }}",
        "entered-in-error",
        "2024-02-30",
        "\x00\u202e",
        "Epilepsy\x1b[31m\x07\ufffe\ud800",
        "\u202egnp.exe",
        "&amp;&lt;",
        "Patient/../../etc",
        "#",
    ]
)
# Keys the summary reads, so junk lands where it hurts.
FHIR_KEYS = st.sampled_from(
    [
        "resourceType",
        "id",
        "status",
        "clinicalStatus",
        "verificationStatus",
        "lifecycleStatus",
        "docStatus",
        "code",
        "coding",
        "text",
        "display",
        "system",
        "reference",
        "extension",
        "url",
        "valueCode",
        "name",
        "given",
        "family",
        "telecom",
        "value",
        "rank",
        "period",
        "start",
        "end",
        "medicationReference",
        "medicationCodeableConcept",
        "contained",
        "participant",
        "member",
        "individual",
        "practitioner",
        "organization",
        "specialty",
        "class",
        "device",
        "deviceName",
        "target",
        "agent",
        "who",
        "recorded",
        "dosageInstruction",
        "reaction",
        "manifestation",
        "contact",
        "relationship",
        "category",
        "_onsetDateTime",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | HOSTILE_TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(FHIR_KEYS | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


@cache
def realistic_resources() -> tuple[dict, ...]:
    doctor = b.a_practitioner()
    clinic = b.an_organization()
    role = b.a_practitioner_role(doctor, clinic)
    medication = b.a_medication()
    pump = b.a_device()
    condition = b.a_condition()
    return (
        b.a_patient(contact=[b.a_patient_contact()]),
        b.a_related_person(),
        doctor,
        clinic,
        role,
        medication,
        pump,
        condition,
        b.a_provenance(condition, author=doctor),
        b.an_operation_outcome(),
        b.a_medication_request(None, medication=medication, requester=b.a_reference(role)),
        b.a_medication_request(
            "Baclofen",
            contained=[b.a_medication("Contained", id="c1")],
            medicationReference={"reference": "#c1"},
        ),
        b.a_medication_statement(),
        b.an_allergy(),
        b.a_procedure(),
        b.a_device_use_statement(pump),
        b.a_device_request(),
        b.a_care_team(b.a_participant(role), b.a_participant(doctor)),
        b.an_encounter("EMER", participant=[{"individual": b.a_reference(role)}]),
        b.a_service_request(),
        b.a_goal(),
        b.a_care_plan(),
        b.a_document_reference(),
    )


SECTION_TYPES = {
    "patient": ("Patient", "RelatedPerson"),
    "conditions": ("Condition", "Provenance", "Practitioner"),
    "medications": ("MedicationRequest", "MedicationStatement", "Medication", "PractitionerRole"),
    "allergies": ("AllergyIntolerance",),
    "procedures": ("Procedure",),
    "equipment": ("Device", "DeviceUseStatement", "DeviceRequest", "Organization"),
    "care_team": ("CareTeam", "Practitioner", "PractitionerRole", "Organization", "RelatedPerson"),
    "encounters": ("Encounter", "PractitionerRole", "Practitioner"),
    "services": ("ServiceRequest", "Organization"),
    "goals": ("Goal",),
    "care_plans": ("CarePlan",),
    "documents": ("DocumentReference", "OperationOutcome"),
}


@cache
def realistic(key: str | None = None) -> st.SearchStrategy[dict]:
    """Realistic resources, only those a section holds when `key` is given."""
    wanted = SECTION_TYPES.get(key or "", ())
    return st.sampled_from([r for r in realistic_resources() if not wanted or r["resourceType"] in wanted])


@st.composite
def damaged_resource(draw, key: str | None = None) -> dict:
    """A realistic resource with some fields replaced by junk or hostile text."""
    resource = dict(draw(realistic(key)))
    for key in draw(st.lists(st.sampled_from(sorted(resource)) | FHIR_KEYS, max_size=4)):
        if key != "resourceType" or draw(st.booleans()):
            resource[key] = draw(JSON)
    return resource


ENTERED_IN_ERROR_FORMS = [
    {"status": "entered-in-error"},
    {"docStatus": "entered-in-error"},
    {"lifecycleStatus": "entered-in-error"},
    {"verificationStatus": {"coding": [{"code": "entered-in-error"}]}},
    {"clinicalStatus": {"coding": [{"system": "x", "code": "entered-in-error"}]}},
    {"verificationStatus": "entered-in-error"},
]


@st.composite
def entered_in_error_resource(draw, key: str | None = None) -> dict:
    """A realistic resource marked entered-in-error, with an id and label no other resource has."""
    resource = dict(draw(realistic(key)))
    number = draw(st.integers(0, 10_000))
    for key in ("status", "clinicalStatus", "verificationStatus", "lifecycleStatus", "docStatus"):
        resource.pop(key, None)
    resource.update(draw(st.sampled_from(ENTERED_IN_ERROR_FORMS)))
    resource["id"] = f"eie-9f31c-{number}"
    resource["code"] = {"text": f"ERRONEOUS-9f31c-{number}"}
    resource["description"] = f"ERRONEOUS-9f31c-{number}"
    resource["title"] = f"ERRONEOUS-9f31c-{number}"
    return resource


ANY_RESOURCE = JSON | damaged_resource() | st.sampled_from(realistic_resources())
RESOURCES = st.lists(ANY_RESOURCE | entered_in_error_resource(), max_size=12).map(tuple)
KEYS = st.sampled_from(SECTION_KEYS) | st.text(max_size=8)
FETCHES = st.builds(
    SectionFetch,
    key=KEYS,
    resources=RESOURCES,
    state=st.sampled_from(SectionState),
    notes=st.lists(st.text(max_size=20), max_size=2).map(tuple),
)


def items_of(section: SummarySection):
    return (*section.active, *section.inactive)


def strings_in(value) -> list[str]:
    """Every string an item would show, however deep in its fields."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for v in value for s in strings_in(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [s for f in fields(value) for s in strings_in(getattr(value, f.name))]
    return []


def assert_clean(text: str) -> None:
    """Cleaned at the door: nothing XML cannot carry, no control but TAB/LF/CR, no bidi control left open."""
    assert not [c for c in text if c not in "\t\n\r" and unicodedata.category(c) in ("Cc", "Cs")
                or c in "\ufffe\uffff"], repr(text)
    assert isolated(text) in (text, f"\u2068{text}\u2069"), repr(text)


def assert_typed_and_sourced(section: SummarySection, sent: tuple) -> None:
    erroneous = {
        r["id"] for r in sent if isinstance(r, dict) and str(r.get("id", "")).startswith("eie-9f31c-")
    }
    for item in items_of(section):
        assert isinstance(item.source, Source) and item.source.resource_type
        assert item_key(item)
        assert item.source.reference.partition("/")[2] not in erroneous
        for text in strings_in(item):
            assert "ERRONEOUS-9f31c" not in text
            assert "<" not in b.shown_as_html(text)
            assert_clean(text)
        for f in fields(item):
            value = getattr(item, f.name)
            assert isinstance(value, str | bool | int | date | tuple | Source | type(None)), (f.name, value)
            assert all(isinstance(v, str | Code) for v in value) if isinstance(value, tuple) else True


@PROPERTY_SETTINGS
@given(fetch=FETCHES)
def test_any_section_maps_without_raising_and_every_item_is_sourced(fetch):
    section = summarize_section(fetch, today=TODAY)
    assert section.key == fetch.key and section.state is fetch.state
    assert_typed_and_sourced(section, fetch.resources)


def section_resources(key: str) -> st.SearchStrategy[tuple]:
    """Mostly the section's own resource types, realistic, damaged or entered-in-error, among junk."""
    own = realistic(key) | damaged_resource(key) | entered_in_error_resource(key)
    return st.lists(own | own | ANY_RESOURCE, max_size=12).map(tuple)


@PROPERTY_SETTINGS
@given(data=st.data(), key=st.sampled_from(SECTION_KEYS))
def test_every_known_section_survives_damaged_resources(data, key):
    resources = data.draw(section_resources(key))
    section = summarize_section(SectionFetch(key=key, resources=resources), today=TODAY)
    assert_typed_and_sourced(section, resources)
    assert all(
        item.source.resource_type not in ("OperationOutcome", "Provenance") for item in items_of(section)
    )


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(
    sections=st.dictionaries(st.sampled_from(SECTION_KEYS), FETCHES, max_size=6),
    patient_id=st.text(max_size=5),
)
def test_the_whole_summary_never_raises_on_hostile_records(sections, patient_id):
    fixed = {key: SectionFetch(key=key, resources=f.resources, state=f.state) for key, f in sections.items()}
    summary = summarize(SourceRecord(patient_id=patient_id, sections=fixed), today=TODAY)
    assert isinstance(summary, MedicalSummary)
    for section in (summary.contacts, *summary.sections):
        assert_typed_and_sourced(section, fixed.get(section.key, SectionFetch(section.key)).resources)
    if summary.patient is not None:
        assert all("<" not in b.shown_as_html(text) for text in strings_in(summary.patient))


@PROPERTY_SETTINGS
@given(resources=RESOURCES, today=st.dates(min_value=date(1900, 1, 1)))
def test_hospital_use_and_header_never_raise(resources, today):
    use = hospital_use_from(SectionFetch(key="encounters", resources=resources), today=today)
    assert use is not None and use.ed_visits_12m >= 0 and use.admissions_12m >= 0
    header = patient_header(SectionFetch(key="patient", resources=resources))
    assert header is None or isinstance(header.name, str)
