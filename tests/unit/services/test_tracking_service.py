"""The tracking service: the review cycle after signing, health events, and acting on them."""

import copy

import pytest

from smart_app.errors import InvalidInput
from smart_app.plan.model import PlanState
from smart_app.plan.review_cycle import EventKind, ReviewState
from smart_app.services.planning import Conflict
from tests.support import TODAY
from tests.unit.services.conftest import with_role
from tests.unit.services.test_planning_service import signed_plan


def a_new_condition() -> dict:
    return {"resourceType": "Condition", "id": "new-apnea",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                      "code": "problem-list-item"}]}],
            "code": {"text": "Obstructive sleep apnea"}, "subject": {"reference": "Patient/sofia-rivera"},
            "recordedDate": TODAY.isoformat()}


@pytest.fixture
def signed(services, coordinator, clinician, tenant):
    return signed_plan(services, coordinator, clinician, tenant)


def review(services, launch, tenant):
    return services.tracking.review(launch, tenant, services.tracking.current_summary(launch, tenant))


def test_right_after_signing_nothing_is_new_and_the_review_is_months_away(services, coordinator, tenant, signed):
    picture = review(services, coordinator, tenant)
    assert picture.signed.version == signed.version and picture.baseline_known
    assert picture.events == () and picture.status.state is ReviewState.NOT_DUE


def test_a_new_condition_is_an_event_that_makes_the_review_due(services, coordinator, tenant, signed, ehr):
    ehr.put(a_new_condition())
    picture = review(services, coordinator, tenant)
    assert [e.kind for e in picture.events] == [EventKind.CONDITION_NEW]
    assert picture.status.state is ReviewState.DUE


def test_marking_an_event_reviewed_takes_it_off_the_list(services, coordinator, tenant, signed, ehr, audit):
    ehr.put(a_new_condition())
    (event,) = review(services, coordinator, tenant).events
    with pytest.raises(InvalidInput, match="signed again"):
        services.tracking.mark_reviewed(coordinator, tenant, event.event_id, signed_version="1")
    services.tracking.mark_reviewed(coordinator, tenant, event.event_id, signed_version=str(signed.version))
    picture = review(services, coordinator, tenant)
    assert picture.events == () and picture.reviewed_count == 1
    assert "plan-event-reviewed" in [e["action"] for e in audit.for_patient(coordinator.iss, coordinator.patient_id)]


def test_an_unknown_event_is_refused(services, coordinator, tenant, signed):
    with pytest.raises(InvalidInput, match="no longer listed"):
        services.tracking.mark_reviewed(coordinator, tenant, "condition-new:Condition/nope", signed_version="5")


def test_add_an_action_for_an_event_opens_a_revision_in_one_save(services, coordinator, tenant, signed, ehr):
    ehr.put(a_new_condition())
    (event,) = review(services, coordinator, tenant).events
    saved = services.tracking.add_action_for(coordinator, tenant, event.event_id, base_version=signed.version,
                                             action_id="follow-up")
    assert saved.version == signed.version + 1 and saved.plan.state is PlanState.DRAFT
    assert saved.plan.revision == signed.plan.revision + 1
    action = saved.plan.action("follow-up")
    assert action.condition_refs == ("Condition/new-apnea",) and action.due > TODAY
    # From the signed version again (a page loaded before): it lands in the revision now open, not a new one.
    again = services.tracking.add_action_for(coordinator, tenant, event.event_id, base_version=signed.version,
                                             action_id="again")
    assert not isinstance(again, Conflict) and again.plan.revision == saved.plan.revision
    assert {a.action_id for a in again.plan.actions} >= {"follow-up", "again"}


def test_only_the_coordinator_adds_actions_and_a_specialist_cannot_reopen(services, coordinator, tenant, signed, ehr):
    ehr.put(a_new_condition())
    (event,) = review(services, coordinator, tenant).events
    specialist = with_role(coordinator, "specialist")
    with pytest.raises(InvalidInput, match="care coordinator"):
        services.tracking.add_action_for(specialist, tenant, event.event_id, base_version=signed.version,
                                         action_id="x")
    with pytest.raises(InvalidInput, match="open a new revision"):
        services.tracking.open_revision(specialist, tenant, base_version=signed.version)
    assert services.planning.current(coordinator).version == signed.version


def test_indicators_start_at_the_first_signing(services, coordinator, tenant, signed):
    indicators = services.tracking.indicators(coordinator, services.tracking.current_summary(coordinator, tenant))
    assert indicators.plan_start == TODAY and indicators.hospital_use is not None
    assert [g.text for g in indicators.goals] == ["Sleep through the night"]


def test_a_record_changed_since_signing_is_reported_where_the_ehr_says_so(services, coordinator, tenant, signed,
                                                                           ehr, clock):
    clock.advance(minutes=5)
    epilepsy = copy.deepcopy(next(r for r in ehr.of_type("Condition") if "pilep" in str(r.get("code"))))
    epilepsy["note"] = [{"text": "Seizures more frequent at night"}]
    epilepsy["meta"] = {"lastUpdated": clock.now().isoformat()}
    ehr.put(epilepsy)
    kinds = [e.kind for e in review(services, coordinator, tenant).events]
    assert EventKind.UPDATED_IN_EHR in kinds
