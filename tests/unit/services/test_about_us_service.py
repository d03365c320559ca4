"""The About us service: versioned answers, consent from the care team, the family copy and its link."""

import pytest

from smart_app.errors import InvalidInput, VersionConflict
from tests.unit.services.test_planning_service import signed_plan


def test_answers_are_versioned_and_a_stale_save_is_refused(services, coordinator, tenant, audit):
    about = services.about_us
    about.save_intake(coordinator, tenant, {"strengths": "Loves music"}, base_version=0)
    about.save_intake(coordinator, tenant, {"strengths": "Loves music and the school bus"}, base_version=1)
    with pytest.raises(VersionConflict):
        about.save_intake(coordinator, tenant, {"strengths": "Stale"}, base_version=1)
    latest = about.intake(coordinator)
    assert latest.version == 2 and latest.answers.get("strengths") == "Loves music and the school bus"
    assert latest.saved_by == "Jordan Lee RN"
    assert [e["action"] for e in audit.for_patient(coordinator.iss, coordinator.patient_id)].count(
        "about-intake-save") == 2


def test_consent_names_only_someone_on_the_care_team(services, coordinator, tenant):
    team = services.about_us.team(coordinator, tenant)
    assert team and not any(ref.startswith(("RelatedPerson/", "Patient/")) for ref in team)
    reference = next(iter(team))
    form = {"reference": reference, "consented_by": "Ana Rivera (mother)", "consented_on": "2026-03-01"}
    services.about_us.add_consent(coordinator, tenant, form)
    (entry,) = services.about_us.consent(coordinator)
    assert entry.reference == reference and entry.recipient == team[reference][0]
    with pytest.raises(InvalidInput):
        services.about_us.add_consent(coordinator, tenant, {**form, "reference": "Practitioner/not-on-team"})
    services.about_us.withdraw_consent(coordinator, tenant, entry.entry_id)
    with pytest.raises(InvalidInput, match="already removed"):
        services.about_us.withdraw_consent(coordinator, tenant, entry.entry_id)


def test_the_family_copy_carries_the_signed_plan_in_the_familys_language(services, coordinator, clinician, tenant):
    signed_plan(services, coordinator, clinician, tenant)
    copy = services.about_us.family_copy(coordinator, tenant, None)
    assert copy.lang == "es"  # the EHR says the family prefers Spanish
    assert copy.has_signed_plan and [g.text for g in copy.goals] == ["Sleep through the night"]
    assert services.about_us.family_copy(coordinator, tenant, "en").lang == "en"


def test_a_copy_link_opens_for_ten_minutes_and_never_after(services, coordinator, clock):
    link = services.about_us.create_link(coordinator, "<article>copy</article>", "en")
    assert services.about_us.open_link(link.token) == ("en", "<article>copy</article>")
    assert services.about_us.open_link(link.token[:-2] + "xx") is None  # tampered
    clock.advance(minutes=9, seconds=59)
    assert services.about_us.open_link(link.token) is not None
    clock.advance(seconds=2)
    assert services.about_us.open_link(link.token) is None
