"""The summary's query plan against a small fake FHIR server behind `responses`."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from smart_app.fhir.gateway import FhirGateway
from smart_app.fhir.queries import LOOKUP_CAPPED_NOTE, QueryProfile, fetch_sections, fetch_source_record
from smart_app.plan.record import SECTION_KEYS, SectionFetch, SectionState

BASE = "https://ehr.example/fhir"
TODAY = date(2025, 3, 1)
Query = dict[str, list[str]]


def a_searchset(*matches: dict, included: tuple[dict, ...] = (), self_url: str | None = None,
                next_url: str | None = None, outcomes: tuple[dict, ...] = ()) -> dict:
    links = [{"relation": "self", "url": self_url}] if self_url else []
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = [{"resource": r, "search": {"mode": "match"}} for r in matches]
    entries += [{"resource": r, "search": {"mode": "include"}} for r in included]
    entries += [{"resource": r, "search": {"mode": "outcome"}} for r in outcomes]
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


class FakeEhr:
    """Searches answered per resource type (empty by default), reads from a dict of resources."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.searches: dict[str, Callable[[Query], tuple[int, dict]]] = {}
        self.resources: dict[str, dict] = {"Patient/p1": {"resourceType": "Patient", "id": "p1"}}
        responses.add_callback(responses.GET, re.compile(re.escape(BASE) + "/.*"), callback=self._answer)

    def answer(self, resource_type: str, bundle: dict | Callable[[Query], dict], status: int = 200) -> None:
        self.searches[resource_type] = lambda q: (status, bundle(q) if callable(bundle) else bundle)

    def hold(self, *resources: dict) -> None:
        for resource in resources:
            self.resources[f"{resource['resourceType']}/{resource['id']}"] = resource

    def _answer(self, request):
        time.sleep(self.delay_s)
        parts = urlsplit(request.url)
        path = parts.path.removeprefix(urlsplit(BASE).path + "/")
        if "/" in path:
            resource = self.resources.get(path)
            return (200, {}, json.dumps(resource)) if resource else (404, {}, "")
        handler = self.searches.get(path, lambda q: (200, a_searchset()))
        status, body = handler(parse_qs(parts.query))
        return status, {"Content-Type": "application/fhir+json"}, json.dumps(body)


def requested(resource_type: str) -> list[Query]:
    return [parse_qs(urlsplit(c.request.url).query) for c in responses.calls
            if urlsplit(c.request.url).path == urlsplit(BASE).path + "/" + resource_type]


def fetch(keys=SECTION_KEYS, profile: QueryProfile = QueryProfile(), **gateway_options) -> dict[str, SectionFetch]:
    gateway = FhirGateway(BASE, lambda: "token", sleep=lambda s: None, **gateway_options)
    return {f.key: f for f in fetch_sections(gateway, "p1", profile, today=TODAY, keys=keys)}


def ids(section: SectionFetch, resource_type: str) -> set[str]:
    return {r["id"] for r in section.resources if r["resourceType"] == resource_type}


@responses.activate
def test_a_500_on_one_search_fails_only_that_section():
    ehr = FakeEhr()
    ehr.answer("AllergyIntolerance", {"resourceType": "OperationOutcome"}, status=500)
    ehr.answer("Condition", a_searchset({"resourceType": "Condition", "id": "c1"}))

    sections = fetch()

    assert sections["allergies"].state is SectionState.FAILED
    assert sections["allergies"].notes == ("The EHR could not return this section. Try again.",)
    assert sections["conditions"].state is SectionState.COMPLETE and ids(sections["conditions"], "Condition") == {"c1"}
    assert {k for k, s in sections.items() if s.state is SectionState.FAILED} == {"allergies"}


@responses.activate
def test_when_the_server_ignores_include_the_referenced_resources_are_read_one_by_one():
    ehr = FakeEhr()
    order = {"resourceType": "MedicationRequest", "id": "mr1", "medicationReference": {"reference": "Medication/m1"}}
    ehr.answer("MedicationRequest", a_searchset(order, self_url=f"{BASE}/MedicationRequest?patient=p1&status=active"))
    team = {"resourceType": "CareTeam", "id": "ct1",
            "participant": [{"member": {"reference": "PractitionerRole/pr1"}}]}
    ehr.answer("CareTeam", a_searchset(team, self_url=f"{BASE}/CareTeam?patient=p1&status=active"))
    ehr.hold({"resourceType": "Medication", "id": "m1", "code": {"text": "Baclofen"}},
             {"resourceType": "PractitionerRole", "id": "pr1", "practitioner": {"reference": "Practitioner/dr1"},
              "organization": {"reference": f"{BASE}/Organization/o1"}},
             {"resourceType": "Practitioner", "id": "dr1"},
             {"resourceType": "Organization", "id": "o1"})

    sections = fetch(keys=("medications", "care_team"))

    assert requested("MedicationRequest")[0]["_include"] == ["MedicationRequest:medication"]
    assert ids(sections["medications"], "Medication") == {"m1"}
    care_team = sections["care_team"]
    assert (ids(care_team, "PractitionerRole"), ids(care_team, "Practitioner"), ids(care_team, "Organization")) == (
        {"pr1"}, {"dr1"}, {"o1"})
    assert care_team.state is SectionState.COMPLETE


@responses.activate
def test_coded_contained_included_and_referenced_only_medications_are_all_in_the_section():
    ehr = FakeEhr()
    coded = {"resourceType": "MedicationRequest", "id": "mr-coded", "medicationCodeableConcept": {"text": "Keppra"}}
    contained = {"resourceType": "MedicationRequest", "id": "mr-contained",
                 "contained": [{"resourceType": "Medication", "id": "med", "code": {"text": "Compounded"}}],
                 "medicationReference": {"reference": "#med"}}
    included = {"resourceType": "MedicationRequest", "id": "mr-included", "medicationReference": {"reference": "Medication/m2"}}
    referenced = {"resourceType": "MedicationRequest", "id": "mr-referenced",
                  "medicationReference": {"reference": "Medication/m3"}}
    ehr.answer("MedicationRequest", a_searchset(coded, contained, included, referenced,
                                                included=({"resourceType": "Medication", "id": "m2"},)))
    ehr.hold({"resourceType": "Medication", "id": "m3"})

    medications = fetch(keys=("medications",))["medications"]

    assert ids(medications, "MedicationRequest") == {"mr-coded", "mr-contained", "mr-included", "mr-referenced"}
    assert ids(medications, "Medication") == {"m2", "m3"}
    assert [urlsplit(c.request.url).path for c in responses.calls if "/Medication/" in c.request.url] == [
        "/fhir/Medication/m3"]


@responses.activate
def test_an_operation_outcome_in_a_searchset_is_a_note_and_never_data():
    ehr = FakeEhr()
    warning = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "warning", "code": "informational", "diagnostics": "4119"}]}
    ehr.answer("Procedure", a_searchset({"resourceType": "Procedure", "id": "gtube"}, outcomes=(warning,)))

    procedures = fetch(keys=("procedures",))["procedures"]

    assert [r["resourceType"] for r in procedures.resources] == ["Procedure"]
    assert procedures.state is SectionState.INCOMPLETE
    assert procedures.notes == ("The EHR says this list may be incomplete.",)


@responses.activate
def test_paging_over_several_pages_fills_the_section_and_a_capped_one_is_incomplete():
    ehr = FakeEhr()

    def encounters(query: Query) -> dict:
        page = int(query.get("page", ["1"])[0])
        return a_searchset({"resourceType": "Encounter", "id": f"e{page}"}, next_url=f"{BASE}/Encounter?page={page + 1}")

    ehr.answer("Encounter", encounters)

    encounters_section = fetch(keys=("encounters",), profile=QueryProfile(max_pages=3))["encounters"]

    assert ids(encounters_section, "Encounter") == {"e1", "e2", "e3"}
    assert encounters_section.state is SectionState.INCOMPLETE
    assert any("first 3 pages" in note for note in encounters_section.notes)


@responses.activate
def test_equipment_searches_the_server_does_not_offer_are_left_out_with_a_note():
    ehr = FakeEhr()
    ehr.answer("Device", a_searchset({"resourceType": "Device", "id": "trach"}))
    ehr.answer("DeviceRequest", {"resourceType": "OperationOutcome"}, status=404)
    ehr.answer("DeviceUseStatement", {"resourceType": "OperationOutcome"}, status=400)

    equipment = fetch(keys=("equipment",))["equipment"]

    assert equipment.state is SectionState.COMPLETE
    assert ids(equipment, "Device") == {"trach"}
    assert len(equipment.notes) == 2


@responses.activate
def test_a_profile_without_include_support_never_sends_include():
    FakeEhr()

    fetch(profile=QueryProfile(include_supported=False))

    assert responses.calls
    assert not any("_include" in urlsplit(c.request.url).query for c in responses.calls)


@responses.activate
def test_a_practitioner_referenced_from_two_sections_is_read_once():
    ehr = FakeEhr()
    ehr.answer("Encounter", a_searchset({"resourceType": "Encounter", "id": "e1",
                                         "participant": [{"individual": {"reference": "Practitioner/dr1"}}]}))
    ehr.answer("CareTeam", a_searchset({"resourceType": "CareTeam", "id": "ct1",
                                        "participant": [{"member": {"reference": "Practitioner/dr1"}}]}))
    ehr.hold({"resourceType": "Practitioner", "id": "dr1"})

    sections = fetch(keys=("encounters", "care_team"))

    assert ids(sections["encounters"], "Practitioner") == ids(sections["care_team"], "Practitioner") == {"dr1"}
    assert sum(1 for c in responses.calls if c.request.url.endswith("/Practitioner/dr1")) == 1


@responses.activate
def test_medication_statements_that_repeat_an_active_order_are_left_out():
    ehr = FakeEhr()
    rxnorm = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1234"}]}
    ehr.answer("MedicationRequest", a_searchset(
        {"resourceType": "MedicationRequest", "id": "mr1", "medicationCodeableConcept": rxnorm,
         "identifier": [{"system": "urn:rx", "value": "42"}]}))
    ehr.answer("MedicationStatement", a_searchset(
        {"resourceType": "MedicationStatement", "id": "same-code", "medicationCodeableConcept": rxnorm},
        {"resourceType": "MedicationStatement", "id": "same-identifier", "identifier": [{"system": "urn:rx", "value": "42"}],
         "medicationCodeableConcept": {"text": "x"}},
        {"resourceType": "MedicationStatement", "id": "based-on", "basedOn": [{"reference": "MedicationRequest/mr1"}]},
        {"resourceType": "MedicationStatement", "id": "home-remedy", "medicationCodeableConcept": {"text": "Melatonin"}}))

    medications = fetch(keys=("medications",), profile=QueryProfile(medication_statement=True))["medications"]

    assert ids(medications, "MedicationStatement") == {"home-remedy"}
    assert ids(medications, "MedicationRequest") == {"mr1"}


@responses.activate
def test_individual_reads_for_references_are_bounded():
    ehr = FakeEhr()
    orders = [{"resourceType": "MedicationRequest", "id": f"mr{i}", "medicationReference": {"reference": f"Medication/m{i}"}}
              for i in range(5)]
    ehr.answer("MedicationRequest", a_searchset(*orders))
    ehr.hold(*({"resourceType": "Medication", "id": f"m{i}"} for i in range(5)))

    medications = fetch(keys=("medications",), profile=QueryProfile(max_reference_reads=2))["medications"]

    assert len(ids(medications, "Medication")) == 2
    assert sum(1 for c in responses.calls if "/Medication/" in c.request.url) == 2
    assert medications.state is SectionState.INCOMPLETE and LOOKUP_CAPPED_NOTE in medications.notes


@responses.activate
def test_an_expired_token_fails_every_section_with_a_relaunch_note():
    responses.add(responses.GET, re.compile(re.escape(BASE) + "/.*"), status=401)

    sections = fetch()

    assert {s.state for s in sections.values()} == {SectionState.FAILED}
    assert all("Relaunch" in s.notes[0] for s in sections.values())


@responses.activate
def test_sections_run_in_parallel_and_each_request_is_sent_once():
    FakeEhr(delay_s=0.05)

    started = time.monotonic()
    sections = fetch()
    elapsed = time.monotonic() - started

    sent = len(responses.calls)
    assert set(sections) == set(SECTION_KEYS)
    # Patient read + 18 searches (4 of them for conditions) + 3 confirming searches: this EHR's lists of
    # conditions, allergies and medication orders are empty, and "none" must be earned without filters.
    assert sent == 22
    assert len({c.request.url for c in responses.calls}) == sent
    assert elapsed < 0.5 * sent * 0.05  # one at a time would take sent x 50 ms


@responses.activate
def test_sections_are_yielded_as_they_complete():
    ehr = FakeEhr()

    def slow_conditions(query: Query) -> dict:
        time.sleep(0.15)
        return a_searchset()

    ehr.answer("Condition", slow_conditions)
    gateway = FhirGateway(BASE, lambda: "token")

    order = [f.key for f in fetch_sections(gateway, "p1", QueryProfile(), today=TODAY,
                                           keys=("conditions", "allergies", "goals"))]

    assert order[-1] == "conditions" and sorted(order) == ["allergies", "conditions", "goals"]


@responses.activate
def test_the_source_record_holds_every_section_in_summary_order():
    FakeEhr()
    gateway = FhirGateway(BASE, lambda: "token")

    record = fetch_source_record(gateway, "p1", QueryProfile(), today=TODAY)

    assert tuple(record.sections) == SECTION_KEYS
    assert [r["resourceType"] for r in record.section("patient").resources] == ["Patient"]


def test_an_unknown_section_key_is_a_programming_error():
    gateway = FhirGateway(BASE, lambda: "token")

    with pytest.raises(ValueError):
        list(fetch_sections(gateway, "p1", QueryProfile(), today=TODAY, keys=("vitals",)))
