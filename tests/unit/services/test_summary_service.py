"""The summary service: the one way to a launch's summary, its section states, and curation."""

import pytest

from smart_app.errors import InvalidInput
from smart_app.plan.record import SectionState
from tests.unit.services.conftest import a_launch, with_role


def test_only_the_sections_asked_for_are_known(services, coordinator, tenant):
    summary = services.summary.summary(coordinator, tenant, ("allergies", "patient"))
    assert set(summary.sections) == {"allergies", "patient"}
    assert summary.header is not None and summary.header.name
    assert [i.label for i in summary.section("allergies").active]  # the child's allergies are there
    with pytest.raises(KeyError):
        summary.section("medications")  # not fetched: unknown, never an empty list


def test_a_failed_search_fails_its_section_alone(services, coordinator, tenant, ehr):
    ehr.failing.add("AllergyIntolerance")
    summary = services.summary.summary(coordinator, tenant, ("allergies", "conditions"))
    assert summary.section("allergies").state is SectionState.FAILED
    assert summary.section("conditions").state is SectionState.COMPLETE and summary.section("conditions").active


def test_each_fetched_section_leaves_one_audit_row(services, coordinator, tenant, audit):
    list(services.summary.fetches(coordinator, tenant, ("allergies", "goals")))
    rows = [e for e in audit.for_patient(coordinator.iss, coordinator.patient_id) if e["action"] == "fhir-search"]
    assert sorted(r["detail"]["section"] for r in rows) == ["allergies", "goals"]


def test_curation_hides_annotates_adds_and_removes_with_an_audit_row_each(services, coordinator, tenant, audit):
    summary = services.summary
    condition = summary.summary(coordinator, tenant, ("conditions",)).section("conditions").active[0]
    ref = condition.source.reference
    summary.hide(coordinator, tenant, ref, "duplicate of the problem list entry")
    summary.annotate(coordinator, tenant, ref, "seen by neurology in May")
    item = summary.add_item(coordinator, tenant, "x1", "equipment", "Feeding pump backpack", "Acme DME", "")
    curation = summary.curation(coordinator)
    assert curation.items[ref].hidden and curation.items[ref].note == "seen by neurology in May"
    assert curation.items[ref].by == "Jordan Lee RN" and [a.label for a in curation.added] == ["Feeding pump backpack"]
    summary.remove_item(coordinator, item.item_id)
    assert summary.curation(coordinator).added == ()
    with pytest.raises(InvalidInput, match="already removed"):
        summary.remove_item(coordinator, item.item_id)
    actions = [e["action"] for e in audit.for_patient(coordinator.iss, coordinator.patient_id)]
    assert actions.count("curation") == 2 and actions.count("curation-add") == 1
    assert actions.count("curation-remove") == 1


def test_bad_curation_input_is_a_user_error(services, coordinator, tenant):
    with pytest.raises(InvalidInput):
        services.summary.hide(coordinator, tenant, "", "reason")
    with pytest.raises(InvalidInput):
        services.summary.hide(coordinator, tenant, "Condition/x", "")  # a reason is required
    with pytest.raises(InvalidInput):
        services.summary.add_item(coordinator, tenant, "x", "allergies", "Latex", "", "")  # not an addable section


def test_a_user_is_named_from_the_ehr_else_by_role_else_neutrally(services, coordinator, tenant, ehr):
    assert services.summary.user_name(coordinator, tenant) == "Jordan Lee RN"
    del ehr.resources["Practitioner/jordan-lee"]
    assert services.summary.user_name(coordinator, tenant) == "Care coordinator"
    assert services.summary.user_name(with_role(coordinator, None), tenant) == "A member of the care team"
    assert services.summary.user_name(a_launch("", role=None), tenant) == "A member of the care team"
