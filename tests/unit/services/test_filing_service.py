"""The filing service: the tier shown before signing, the note tier end to end, nothing before signing."""

import pytest

from smart_app.errors import InvalidInput
from smart_app.store.writeback import FilingOutcome
from smart_app.writeback.tiers import TierKind
from tests.unit.services.conftest import capability_statement
from tests.unit.services.test_planning_service import signed_plan


def test_the_tier_follows_the_sites_mode_the_ehrs_capabilities_and_the_scopes(services, coordinator, tenant, ehr):
    assert services.filing.tier(coordinator, tenant).kind is TierKind.NOTE
    ehr.statement = capability_statement()  # the EHR takes nothing from apps
    assert services.filing.tier(coordinator, tenant).kind is TierKind.APP_ONLY


def test_nothing_is_filed_before_the_plan_is_signed(services, coordinator, tenant):
    state = services.filing.state(coordinator, tenant)
    assert state.version is None and not state.can_file
    with pytest.raises(InvalidInput, match="no signed plan"):
        services.filing.file(coordinator, tenant)


def test_a_signed_plan_is_filed_as_a_note_once_and_the_page_says_so(services, coordinator, clinician, tenant, ehr,
                                                                      audit):
    signed = signed_plan(services, coordinator, clinician, tenant)
    attempt = services.filing.file(coordinator, tenant)
    assert attempt.outcome is FilingOutcome.FILED and attempt.plan_version == signed.version
    assert ("POST", "DocumentReference") in ehr.writes and ("PUT", "Provenance") in ehr.writes
    (note,) = ehr.of_type("DocumentReference")[-1:]
    assert note["subject"]["reference"] == "Patient/sofia-rivera"
    state = services.filing.state(coordinator, tenant)
    assert state.last.filed and not state.can_file  # this version is in the EHR: nothing more to file
    assert "writeback" in [e["action"] for e in audit.for_patient(coordinator.iss, coordinator.patient_id)]


def test_the_filed_document_names_the_patient_and_the_goals(services, coordinator, clinician, tenant):
    signed_plan(services, coordinator, clinician, tenant)
    xhtml, pdf = services.filing.document(coordinator, tenant)
    assert "Sofia" in xhtml and "Sleep through the night" in xhtml and "Replace the pump" in xhtml
    assert pdf is None or pdf.startswith(b"%PDF")
