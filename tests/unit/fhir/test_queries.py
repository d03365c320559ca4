"""The query plan's choices, against a small in-memory fake gateway (no HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from smart_app.errors import FhirAccessError
from smart_app.fhir.capabilities import Capabilities
from smart_app.fhir.gateway import FhirHttpError, SearchResult
from smart_app.fhir.queries import (
    CONDITION_ACTIVE,
    ENCOUNTER_DIAGNOSIS,
    HEALTH_CONCERN,
    PROBLEM_LIST_ITEM,
    UPDATED_SINCE_TYPES,
    QueryProfile,
    UpdatedSince,
    fetch_sections,
    fetch_updated_since,
    fhir_instant,
    planned_searches,
    reference_key,
)
from smart_app.plan.record import SECTION_KEYS, SectionState

BASE = "https://ehr.example/fhir"
TODAY = date(2025, 3, 1)


class FakeGateway:
    """Answers searches from canned results per resource type and reads from a dict; records calls."""

    base_url = BASE
    concurrency = 4

    def __init__(self, results: dict[str, SearchResult] | None = None, resources: Sequence[dict] = (),
                 failing: dict[str, Exception] | None = None) -> None:
        self.results = results or {}
        self.resources = {f"{r['resourceType']}/{r['id']}": r for r in resources}
        self.failing = failing or {}
        self.searches: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        self.reads: list[str] = []
        self._lock = threading.Lock()

    def search(self, resource_type: str, params: Sequence[tuple[str, str]], *, max_pages: int) -> SearchResult:
        with self._lock:
            self.searches.append((resource_type, tuple(params)))
        if resource_type in self.failing:
            raise self.failing[resource_type]
        return self.results.get(resource_type, a_result())

    def read(self, reference: str) -> dict[str, Any]:
        with self._lock:
            self.reads.append(reference)
        if reference not in self.resources:
            raise FhirHttpError("not here", status=404)
        return self.resources[reference]

    def params_of(self, resource_type: str) -> list[dict[str, list[str]]]:
        found = []
        for kind, params in self.searches:
            if kind == resource_type:
                grouped: dict[str, list[str]] = {}
                for name, value in params:
                    grouped.setdefault(name, []).append(value)
                found.append(grouped)
        return found


def a_result(*resources: dict, included: Sequence[dict] = (), complete: bool = True, notes: Sequence[str] = ()) -> SearchResult:
    return SearchResult(tuple(resources), tuple(included), tuple(notes), complete, 1, None)


def fetch(gateway: FakeGateway, *keys: str, profile: QueryProfile = QueryProfile(), capabilities=None):
    return {f.key: f for f in fetch_sections(gateway, "p1", profile, today=TODAY, capabilities=capabilities,
                                             keys=keys or SECTION_KEYS)}


def capabilities_with(*searchable: str) -> Capabilities:
    return Capabilities.from_statement({
        "resourceType": "CapabilityStatement",
        "rest": [{"mode": "server", "resource": [
            {"type": t, "interaction": [{"code": "search-type"}]} for t in searchable]}],
    })


A_CONDITION = {"resourceType": "Condition", "id": "c1"}


def test_condition_categories_are_asked_one_request_each_and_once_without_a_category():
    gateway = FakeGateway(results={"Condition": a_result(A_CONDITION)})

    fetch(gateway, "conditions", profile=QueryProfile(condition_categories_separately=True))

    asked = gateway.params_of("Condition")
    assert sorted(p.get("category", ["none"])[0] for p in asked) == sorted(
        [PROBLEM_LIST_ITEM, HEALTH_CONCERN, ENCOUNTER_DIAGNOSIS, "none"])
    assert all(p["clinical-status"] == [CONDITION_ACTIVE] and p["patient"] == ["Patient/p1"] for p in asked)


def test_condition_categories_are_asked_together_as_a_comma_list_otherwise():
    gateway = FakeGateway(results={"Condition": a_result(A_CONDITION)})

    fetch(gateway, "conditions", profile=QueryProfile(condition_categories_separately=False))

    assert [p.get("category") for p in gateway.params_of("Condition")] == [
        [f"{PROBLEM_LIST_ITEM},{HEALTH_CONCERN},{ENCOUNTER_DIAGNOSIS}"], None]


def test_a_site_can_name_the_patient_by_bare_id():
    gateway = FakeGateway(results={"Condition": a_result(A_CONDITION)})

    fetch(gateway, "conditions", profile=QueryProfile(typed_patient_reference=False))

    assert {p["patient"][0] for p in gateway.params_of("Condition")} == {"p1"}


@pytest.mark.parametrize("key,resource_type", [("conditions", "Condition"), ("allergies", "AllergyIntolerance"),
                                               ("medications", "MedicationRequest")])
def test_an_empty_filtered_answer_is_confirmed_by_a_search_without_the_filter(key, resource_type):
    gateway = FakeGateway()

    fetched = fetch(gateway, key)

    last = gateway.params_of(resource_type)[-1]
    assert set(last) <= {"patient", "intent", "_include", "_count"}  # no status, category or other filter
    assert "intent" not in last or last["intent"] == ["order,plan"]
    assert fetched[key].state == SectionState.COMPLETE


def test_a_refused_filter_is_answered_by_the_search_without_it():
    class RefusesFilters(FakeGateway):
        def search(self, resource_type, params, *, max_pages):
            if any(name == "clinical-status" for name, _ in params):
                with self._lock:
                    self.searches.append((resource_type, tuple(params)))
                raise FhirHttpError("unknown parameter", status=400)
            return super().search(resource_type, params, max_pages=max_pages)

    gateway = RefusesFilters(results={"AllergyIntolerance": a_result({"resourceType": "AllergyIntolerance",
                                                                      "id": "a1"})})
    fetched = fetch(gateway, "allergies")

    assert fetched["allergies"].state == SectionState.COMPLETE
    assert [r["id"] for r in fetched["allergies"].resources] == ["a1"] and fetched["allergies"].notes == ()


def test_a_non_empty_filtered_answer_needs_no_confirming():
    gateway = FakeGateway(results={"AllergyIntolerance": a_result({"resourceType": "AllergyIntolerance", "id": "a1"})})

    fetch(gateway, "allergies")

    assert len(gateway.params_of("AllergyIntolerance")) == 1


def test_medication_statements_are_searched_only_when_the_capability_statement_lists_them():
    without, with_ = FakeGateway(), FakeGateway()

    fetch(without, "medications", capabilities=capabilities_with("MedicationRequest"))
    fetch(with_, "medications", capabilities=capabilities_with("MedicationRequest", "MedicationStatement"))

    assert without.params_of("MedicationStatement") == []
    assert with_.params_of("MedicationStatement") == [
        {"patient": ["Patient/p1"], "status": ["active,on-hold,intended"], "_count": ["100"]}]


def test_medication_statements_are_not_searched_when_nothing_is_known_of_the_server():
    gateway = FakeGateway(results={"MedicationRequest": a_result({"resourceType": "MedicationRequest", "id": "m1"})})

    fetch(gateway, "medications")

    assert [kind for kind, _ in gateway.searches] == ["MedicationRequest"]


def test_the_site_profile_overrides_the_capability_statement_for_medication_statements():
    gateway = FakeGateway()

    fetch(gateway, "medications", profile=QueryProfile(medication_statement=False),
          capabilities=capabilities_with("MedicationStatement"))

    assert gateway.params_of("MedicationStatement") == []


class CountedCapabilities:
    """A lazy CapabilityStatement read: counts its calls and can wait for a search to be sent first."""

    def __init__(self, capabilities: Capabilities, *, before: threading.Event | None = None) -> None:
        self.capabilities = capabilities
        self.before = before
        self.calls = 0
        self.waited_for_search: bool | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Capabilities:
        with self._lock:
            self.calls += 1
        if self.before is not None:
            self.waited_for_search = self.before.wait(timeout=2)
        return self.capabilities


class SignallingGateway(FakeGateway):
    """Sets `sent[type]` as soon as a search of that type is sent."""

    def __init__(self, *types: str) -> None:
        super().__init__()
        self.sent = {t: threading.Event() for t in types}

    def search(self, resource_type: str, params: Sequence[tuple[str, str]], *, max_pages: int) -> SearchResult:
        if resource_type in self.sent:
            self.sent[resource_type].set()
        return super().search(resource_type, params, max_pages=max_pages)


def test_lazy_capabilities_are_read_once_for_every_section_that_needs_them():
    gateway = FakeGateway()
    lazy = CountedCapabilities(capabilities_with("MedicationRequest", "MedicationStatement", "Device"))

    fetch(gateway, capabilities=lazy)

    assert lazy.calls == 1
    assert [kind for kind, _ in gateway.searches].count("MedicationStatement") == 1
    assert "DeviceUseStatement" not in [kind for kind, _ in gateway.searches]


def test_lazy_capabilities_are_never_read_by_sections_that_do_not_choose_searches_by_them():
    gateway = FakeGateway()
    lazy = CountedCapabilities(capabilities_with("MedicationStatement"))

    fetch(gateway, "patient", "conditions", "allergies", "care_team", "encounters", "goals", "documents",
          capabilities=lazy)
    fetch(gateway, "medications", profile=QueryProfile(medication_statement=True), capabilities=lazy)

    assert lazy.calls == 0
    assert gateway.params_of("MedicationStatement") != []


def test_medication_orders_are_sent_while_the_capabilities_are_still_being_read():
    gateway = SignallingGateway("MedicationRequest")
    lazy = CountedCapabilities(capabilities_with("MedicationStatement"), before=gateway.sent["MedicationRequest"])

    fetched = fetch(gateway, "medications", capabilities=lazy)

    assert lazy.waited_for_search is True
    assert fetched["medications"].state == SectionState.COMPLETE
    # The fake finds no orders: after both searches, the orders are confirmed without their filters.
    assert [kind for kind, _ in gateway.searches] == ["MedicationRequest", "MedicationStatement", "MedicationRequest"]


def test_devices_are_sent_while_the_capabilities_are_read_and_the_extras_follow_them():
    gateway = SignallingGateway("Device")
    lazy = CountedCapabilities(capabilities_with("Device", "DeviceRequest"), before=gateway.sent["Device"])

    fetch(gateway, "equipment", capabilities=lazy)

    assert lazy.waited_for_search is True
    assert [kind for kind, _ in gateway.searches] == ["Device", "DeviceRequest"]


def test_other_sections_are_searched_while_the_capabilities_are_read():
    gateway = SignallingGateway("Goal")
    lazy = CountedCapabilities(capabilities_with("MedicationStatement"), before=gateway.sent["Goal"])

    fetched = fetch(gateway, "medications", "goals", capabilities=lazy)

    assert lazy.waited_for_search is True
    assert {f.state for f in fetched.values()} == {SectionState.COMPLETE}


def test_a_failed_capabilities_read_fails_only_the_sections_that_needed_it():
    gateway = FakeGateway()

    def unreadable() -> Capabilities:
        raise FhirAccessError("The EHR could not be reached.")

    fetched = fetch(gateway, "medications", "equipment", "goals", capabilities=unreadable)

    assert fetched["medications"].state == SectionState.FAILED
    assert fetched["equipment"].state == SectionState.FAILED
    assert fetched["goals"].state == SectionState.COMPLETE


def test_medication_orders_are_asked_with_intent_status_and_the_medication_included():
    (orders,) = planned_searches("medications", "p1", QueryProfile(page_size=50), today=TODAY)

    assert orders.params == (("patient", "Patient/p1"), ("intent", "order,plan"), ("status", "active,on-hold"),
                             ("_include", "MedicationRequest:medication"), ("_count", "50"))


def test_no_search_asks_for_include_when_the_site_ignores_it():
    profile = QueryProfile(include_supported=False)

    params = [p for key in SECTION_KEYS for s in planned_searches(key, "p1", profile, today=TODAY) for p in s.params]

    assert not any(name == "_include" for name, _ in params)


def test_encounters_are_asked_for_the_last_24_months():
    (search,) = planned_searches("encounters", "p1", QueryProfile(), today=date(2025, 3, 1))

    assert ("date", "ge2023-03-01") in search.params


def test_care_plans_are_asked_by_the_assess_plan_category():
    (search,) = planned_searches("care_plans", "p1", QueryProfile(), today=TODAY)

    assert ("category", "http://hl7.org/fhir/us/core/CodeSystem/careplan-category|assess-plan") in search.params


def test_advance_directives_are_asked_by_category_and_by_type():
    searches = planned_searches("documents", "p1", QueryProfile(), today=TODAY)

    assert [s.params[1] for s in searches] == [("category", "http://loinc.org|42348-3"), ("type", "http://loinc.org|81334-5")]


def test_equipment_searches_outside_us_core_are_skipped_when_the_server_does_not_list_them():
    known = planned_searches("equipment", "p1", QueryProfile(), today=TODAY, capabilities=capabilities_with("Device"))
    unknown = planned_searches("equipment", "p1", QueryProfile(), today=TODAY, capabilities=Capabilities.unknown())

    assert [s.resource_type for s in known] == ["Device"]
    assert [s.resource_type for s in unknown] == ["Device", "DeviceUseStatement", "DeviceRequest"]
    assert [s.optional for s in unknown] == [False, True, True]


def test_a_failed_search_fails_its_section_with_a_plain_note_and_leaves_the_others():
    gateway = FakeGateway(results={"Goal": a_result({"resourceType": "Goal", "id": "g1"})},
                          failing={"CarePlan": FhirAccessError("The EHR said: patient Jane Doe not found")})

    sections = fetch(gateway, "goals", "care_plans")

    assert sections["care_plans"].state is SectionState.FAILED
    assert "Jane" not in sections["care_plans"].notes[0]
    assert sections["goals"].state is SectionState.COMPLETE and len(sections["goals"].resources) == 1


def test_a_refused_required_search_fails_the_section_but_a_refused_optional_one_does_not():
    gateway = FakeGateway(failing={"Device": FhirHttpError("no", status=400),
                                   "DeviceRequest": FhirHttpError("no", status=400)})

    assert fetch(gateway, "equipment")["equipment"].state is SectionState.FAILED
    assert fetch(FakeGateway(failing={"DeviceRequest": FhirHttpError("no", status=404)}),
                 "equipment")["equipment"].state is SectionState.COMPLETE


def test_a_related_person_search_the_ehr_refuses_leaves_the_patient_section_with_a_note():
    gateway = FakeGateway(resources=[{"resourceType": "Patient", "id": "p1"}],
                          failing={"RelatedPerson": FhirHttpError("no", status=404)})

    patient = fetch(gateway, "patient")["patient"]

    assert [r["resourceType"] for r in patient.resources] == ["Patient"]
    assert patient.notes and patient.state is SectionState.COMPLETE


def test_resources_found_in_two_searches_appear_once():
    document = {"resourceType": "DocumentReference", "id": "polst"}
    gateway = FakeGateway(results={"DocumentReference": a_result(document)})

    documents = fetch(gateway, "documents")["documents"]

    assert documents.resources == (document,)


def test_a_reference_that_cannot_be_read_is_noted_and_the_section_is_incomplete():
    order = {"resourceType": "MedicationRequest", "id": "mr1", "medicationReference": {"reference": "Medication/gone"}}
    gateway = FakeGateway(results={"MedicationRequest": a_result(order)})

    medications = fetch(gateway, "medications")["medications"]

    assert medications.resources == (order,)
    assert medications.state is SectionState.INCOMPLETE


def test_included_resources_are_not_read_again():
    order = {"resourceType": "MedicationRequest", "id": "mr1", "medicationReference": {"reference": "Medication/m1"}}
    medication = {"resourceType": "Medication", "id": "m1"}
    gateway = FakeGateway(results={"MedicationRequest": a_result(order, included=[medication])})

    medications = fetch(gateway, "medications")["medications"]

    assert gateway.reads == [] and medication in medications.resources


@pytest.mark.parametrize(("reference", "key"), [
    ("Medication/m1", "Medication/m1"),
    (f"{BASE}/Medication/m1", "Medication/m1"),
    ("Medication/m1/_history/3", "Medication/m1"),
    ("#contained", None),
    ("https://other.example/fhir/Medication/m1", None),
    ("Medication/../../admin", None),
    (None, None),
])
def test_reference_keys_only_name_resources_on_this_ehr(reference, key):
    assert reference_key(reference, BASE) == key


def test_care_team_asks_for_its_members_and_their_practitioners_in_the_same_search():
    (search,) = planned_searches("care_team", "p1", QueryProfile(), today=TODAY)

    assert ("_include", "CareTeam:participant:PractitionerRole") in search.params
    assert ("_include:iterate", "PractitionerRole:practitioner") in search.params
    assert ("status", "active") in search.params



# -- what changed since the signing (_lastUpdated) --------------------------------------------------

SIGNED_AT = datetime(2025, 3, 1, 14, 5, 9, 120456, tzinfo=UTC)


def capabilities_searching(params_by_type: dict[str, Sequence[str]]) -> Capabilities:
    return Capabilities.from_statement({
        "resourceType": "CapabilityStatement",
        "rest": [{"mode": "server", "resource": [
            {"type": t, "interaction": [{"code": "search-type"}], "searchParam": [{"name": n} for n in names]}
            for t, names in params_by_type.items()]}],
    })


def echoing(*resources: dict, self_link: str | None = f"{BASE}/Condition?_lastUpdated=gt2025") -> SearchResult:
    return SearchResult(tuple(resources), (), (), True, 1, self_link)


def test_updated_since_asks_each_type_by_patient_and_last_updated_after_the_signing_to_the_millisecond():
    gateway = FakeGateway(results={"Condition": echoing({"resourceType": "Condition", "id": "c1"})})
    found = fetch_updated_since(gateway, "p1", SIGNED_AT, None)
    assert {kind for kind, _ in gateway.searches} == set(UPDATED_SINCE_TYPES)
    assert gateway.params_of("Condition") == [
        {"patient": ["Patient/p1"], "_lastUpdated": ["gt2025-03-01T14:05:09.120Z"], "_count": ["100"]}]
    assert found.references == frozenset({"Condition/c1"})


def test_updated_since_asks_only_the_types_whose_capability_statement_lists_last_updated():
    capabilities = capabilities_searching({"Condition": ("patient", "_lastUpdated"), "Encounter": ("patient", "date")})
    gateway = FakeGateway(results={"Condition": echoing({"resourceType": "Condition", "id": "c1"})})
    found = fetch_updated_since(gateway, "p1", SIGNED_AT, capabilities)
    assert [kind for kind, _ in gateway.searches] == ["Condition"]
    assert found == UpdatedSince(frozenset({"Condition/c1"}), frozenset({"Condition"}))


def test_nothing_is_asked_when_the_capability_statement_lists_last_updated_nowhere():
    gateway = FakeGateway()
    found = fetch_updated_since(gateway, "p1", SIGNED_AT, capabilities_searching({"Condition": ("patient",)}))
    assert gateway.searches == [] and found == UpdatedSince()


def test_without_a_capability_statement_a_refusal_or_a_dropped_parameter_means_not_supported():
    gateway = FakeGateway(
        results={
            "Condition": echoing({"resourceType": "Condition", "id": "c1"}),
            "Encounter": echoing({"resourceType": "Encounter", "id": "e1"}, self_link=f"{BASE}/Encounter?patient=p1"),
        },
        failing={"MedicationRequest": FhirHttpError("no", status=400), "Device": FhirAccessError("down")},
    )
    found = fetch_updated_since(gateway, "p1", SIGNED_AT, Capabilities.unknown())
    assert found.supported == frozenset({"Condition", "AllergyIntolerance"})
    assert found.references == frozenset({"Condition/c1"})  # the encounter search ignored _lastUpdated


def test_a_naive_signing_time_is_taken_as_utc():
    assert fhir_instant(datetime(2025, 3, 1, 14, 5, 9)) == "2025-03-01T14:05:09.000Z"
    assert fhir_instant(datetime(2025, 3, 1, 9, 5, 9, tzinfo=timezone(timedelta(hours=-5)))) == "2025-03-01T14:05:09.000Z"


def test_a_search_the_server_refuses_and_does_not_list_is_not_offered_not_failed():
    gateway = FakeGateway(failing={"Goal": FhirHttpError("no such search", status=404)})
    fetched = fetch(gateway, "goals", capabilities=capabilities_with("Condition"))
    assert fetched["goals"].state == SectionState.NOT_OFFERED


def test_a_search_the_server_lists_but_refuses_has_failed():
    gateway = FakeGateway(failing={"Goal": FhirHttpError("no such search", status=404)})
    fetched = fetch(gateway, "goals", capabilities=capabilities_with("Goal"))
    assert fetched["goals"].state == SectionState.FAILED
    unknown = fetch(FakeGateway(failing={"Goal": FhirHttpError("no such search", status=404)}), "goals")
    assert unknown["goals"].state == SectionState.FAILED  # nothing known of the server: not a claim to make


class AnswersIdSearches(FakeGateway):
    """Answers `Type?_id=a,b` from the resources it holds (all of them, or `answered` only)."""

    def __init__(self, *args, answered: set[str] | None = None, refuses_ids: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.answered = answered
        self.refuses_ids = refuses_ids

    def search(self, resource_type, params, *, max_pages):
        ids = dict(params).get("_id")
        if ids is None:
            return super().search(resource_type, params, max_pages=max_pages)
        with self._lock:
            self.searches.append((resource_type, tuple(params)))
        if self.refuses_ids:
            raise FhirHttpError("unknown parameter _id", status=400)
        keys = [f"{resource_type}/{rid}" for rid in ids.split(",")]
        return a_result(*(self.resources[k] for k in keys
                          if k in self.resources and (self.answered is None or k in self.answered)))


def _encounters_seen_by(*doctors: str) -> SearchResult:
    return a_result(*({"resourceType": "Encounter", "id": f"e{i}", "period": {"start": "2024-05-01"},
                       "participant": [{"individual": {"reference": f"Practitioner/{dr}"}}],
                       "serviceProvider": {"reference": "Organization/org1"}} for i, dr in enumerate(doctors)))


DOCTORS = [{"resourceType": "Practitioner", "id": dr} for dr in ("dr1", "dr2", "dr3")]
LAKESIDE = {"resourceType": "Organization", "id": "org1"}


def test_references_the_server_did_not_include_are_read_in_one_id_search_per_type():
    gateway = AnswersIdSearches(results={"Encounter": _encounters_seen_by("dr1", "dr2", "dr3")},
                                resources=[*DOCTORS, LAKESIDE])

    encounters = fetch(gateway, "encounters", profile=QueryProfile(include_supported=False))["encounters"]

    assert gateway.params_of("Practitioner") == [{"_id": ["dr1,dr2,dr3"], "_count": ["3"]}]
    assert gateway.reads == ["Organization/org1"]  # alone of its type: read
    assert {r["id"] for r in encounters.resources if r["resourceType"] == "Practitioner"} == {"dr1", "dr2", "dr3"}
    assert encounters.state is SectionState.COMPLETE and encounters.notes == ()


def test_what_an_id_search_did_not_bring_back_is_read_one_by_one():
    gateway = AnswersIdSearches(results={"Encounter": _encounters_seen_by("dr1", "dr2", "dr3")},
                                resources=[*DOCTORS, LAKESIDE], answered={"Practitioner/dr1"})

    encounters = fetch(gateway, "encounters", profile=QueryProfile(include_supported=False))["encounters"]

    assert sorted(gateway.reads) == ["Organization/org1", "Practitioner/dr2", "Practitioner/dr3"]
    assert {r["id"] for r in encounters.resources if r["resourceType"] == "Practitioner"} == {"dr1", "dr2", "dr3"}


def test_a_server_that_refuses_id_searches_gets_the_reads_and_the_section_is_whole():
    gateway = AnswersIdSearches(results={"Encounter": _encounters_seen_by("dr1", "dr2", "dr3")},
                                resources=[*DOCTORS, LAKESIDE], refuses_ids=True)

    encounters = fetch(gateway, "encounters", profile=QueryProfile(include_supported=False))["encounters"]

    assert sorted(gateway.reads) == ["Organization/org1", "Practitioner/dr1", "Practitioner/dr2", "Practitioner/dr3"]
    assert encounters.state is SectionState.COMPLETE and encounters.notes == ()


def test_no_id_search_where_the_capability_statement_does_not_list_id():
    gateway = AnswersIdSearches(results={"Encounter": _encounters_seen_by("dr1", "dr2")},
                                resources=[*DOCTORS, LAKESIDE])

    fetch(gateway, "encounters", "equipment", profile=QueryProfile(include_supported=False),
          capabilities=capabilities_with("Encounter", "Device", "Practitioner"))

    assert gateway.params_of("Practitioner") == []
    assert sorted(gateway.reads) == ["Organization/org1", "Practitioner/dr1", "Practitioner/dr2"]
