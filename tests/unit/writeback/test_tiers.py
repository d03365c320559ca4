"""The write-back tier: the site's write mode, the EHR's capabilities and the granted scopes must all
agree, and the reason says why in plain words (R46, R47)."""

from __future__ import annotations

import pytest

from smart_app.fhir.capabilities import Capabilities
from smart_app.writeback.tiers import TierKind, choose_tier, may_write_provenance

ALL_WRITES = ("CarePlan", "Goal", "Task", "CareTeam", "Provenance", "DocumentReference")
FULL_SCOPE = " ".join(f"patient/{t}.cruds" for t in ALL_WRITES)


def capabilities(*writable: str, known: bool = True) -> Capabilities:
    if not known:
        return Capabilities.unknown()
    resources = [{"type": t, "interaction": [{"code": c} for c in ("read", "search-type", "create", "update")]}
                 for t in writable]
    resources.append({"type": "Patient", "interaction": [{"code": "read"}]})
    return Capabilities.from_statement({"resourceType": "CapabilityStatement",
                                        "rest": [{"mode": "server", "resource": resources}]})


def test_careplan_mode_with_everything_allowed_is_structured():
    tier = choose_tier("careplan", capabilities(*ALL_WRITES), FULL_SCOPE)
    assert tier.kind is TierKind.STRUCTURED and "care plans" in tier.reason


def test_an_ehr_that_does_not_accept_careplans_gets_the_note_tier_and_says_so():
    tier = choose_tier("careplan", capabilities("DocumentReference"), FULL_SCOPE)
    assert tier.kind is TierKind.NOTE
    assert "does not accept CarePlan records" in tier.reason


def test_without_the_careplan_scope_the_plan_is_filed_as_a_note():
    scope = "patient/DocumentReference.c patient/Goal.cu patient/Task.cu patient/CareTeam.cu"
    tier = choose_tier("careplan", capabilities(*ALL_WRITES), scope)
    assert tier.kind is TierKind.NOTE and "permission to save CarePlan" in tier.reason


def test_v1_write_scopes_count_as_create_and_update():
    scope = " ".join(f"patient/{t}.write" for t in ALL_WRITES)
    assert choose_tier("careplan", capabilities(*ALL_WRITES), scope).kind is TierKind.STRUCTURED


def test_note_mode_never_writes_a_careplan_even_when_allowed():
    tier = choose_tier("note", capabilities(*ALL_WRITES), FULL_SCOPE)
    assert tier.kind is TierKind.NOTE and "set up to file the plan as a note" in tier.reason


def test_without_documentreference_either_the_plan_stays_in_the_app_with_both_reasons():
    tier = choose_tier("careplan", capabilities("Patient"), FULL_SCOPE)
    assert tier.kind is TierKind.APP_ONLY
    assert "CarePlan" in tier.reason and "DocumentReference" in tier.reason
    assert tier.label == "Kept in this app only (not filed in the EHR)"


@pytest.mark.parametrize("mode", ["careplan", "note"])
def test_an_unreadable_capability_statement_means_app_only(mode):
    tier = choose_tier(mode, capabilities(known=False), FULL_SCOPE)
    assert tier.kind is TierKind.APP_ONLY and "capability statement" in tier.reason


def test_write_mode_none_keeps_the_plan_in_the_app_whatever_the_ehr_allows():
    tier = choose_tier("none", capabilities(*ALL_WRITES), FULL_SCOPE)
    assert tier.kind is TierKind.APP_ONLY and "set up to keep plans in the app" in tier.reason


def test_provenance_is_written_only_when_the_ehr_and_the_scopes_allow_updating_it():
    assert may_write_provenance(capabilities(*ALL_WRITES), FULL_SCOPE)
    assert not may_write_provenance(capabilities("CarePlan"), FULL_SCOPE)
    assert not may_write_provenance(capabilities(*ALL_WRITES), "patient/Provenance.c")
