"""About us intake, emergency information, release-of-information consent and the family copy model."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from smart_app.plan import about as a
from smart_app.plan import summary as s
from smart_app.plan.curation import AddedItem, ItemCuration
from smart_app.plan.model import (
    ActionStatus,
    Goal,
    GoalKind,
    NegotiatedAction,
    Owner,
    Plan,
    PlanState,
    PlanVersion,
    Role,
)

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def source(kind: str, ref: str = "") -> s.Source:
    return s.Source(resource_type=kind, reference=ref)


def a_section(key: str, *items) -> s.SummarySection:
    return s.SummarySection(key=key, title=key, active=tuple(items))


def a_member(name: str, member: str, role: str = "Neurologist") -> s.CareTeamMember:
    return s.CareTeamMember(name=name, role=role, specialty="", phone="555-0100", organization="Lakeside",
                            source=source("CareTeam", "CareTeam/1"), member=member)


def an_entry(recipient: str, reference: str = "", **fields) -> a.ConsentEntry:
    values = {"entry_id": f"c-{recipient[:4]}", "recipient": recipient, "role": "Neurologist",
              "consented_by": "Ana Rivera (mother)", "consented_on": date(2026, 1, 5), "reference": reference}
    values.update(fields)
    return a.ConsentEntry(**values)


def a_signed_plan(*, owner: Owner, due: date | None = date(2026, 4, 1)) -> PlanVersion:
    plan = Plan(
        goals=(Goal("g1", "Sleep through the night", kind=GoalKind.FAMILY, expressed_by="Ana Rivera (mother)",
                    target_date=date(2026, 9, 1)),),
        actions=(NegotiatedAction("a1", "Check the pump alarm settings", owner=owner, goal_id="g1", due=due),
                 NegotiatedAction("a2", "Cancelled idea", owner=owner, goal_id="g1", status=ActionStatus.CANCELLED)),
        state=PlanState.SIGNED, signed_at=NOW, next_review=date(2026, 9, 10))
    return PlanVersion(plan_id="p", version=4, plan=plan, saved_by="J", saved_at=NOW)


def a_copy(**overrides) -> a.FamilyCopy:
    values = {"lang": "en", "today": TODAY, "header": None, "sections": {}, "intake": None, "emergency": None,
              "consent": (), "signed": None}
    values.update(overrides)
    return a.family_copy_model(**values)


# -- the intake questionnaire -----------------------------------------------------------------


def test_the_intake_questionnaire_is_a_valid_r4_questionnaire_with_a_canonical_url():
    questionnaire = a.intake_questionnaire()
    Questionnaire.model_validate(questionnaire)
    assert questionnaire["url"] == a.QUESTIONNAIRE_URL
    link_ids = [i["linkId"] for group in questionnaire["item"] for i in group["item"]]
    assert len(link_ids) == len(set(link_ids))
    assert {"strengths", "what-matters", "priority", "daily-life", "language", "family-contact-name",
            "team-lead-name"} <= set(link_ids)


def test_social_needs_carry_their_loinc_screening_codes():
    items = {i["linkId"]: i for group in a.intake_questionnaire()["item"] for i in group["item"]}
    assert items["food-worry"]["code"][0]["code"] == "88122-7"
    assert items["food-ran-out"]["code"][0]["code"] == "88123-5"
    assert items["housing"]["code"][0]["code"] == "71802-3"
    assert items["transportation"]["code"][0]["code"] == "93030-5"
    assert [o["valueCoding"]["code"] for o in items["food-worry"]["answerOption"]] == [
        "LA28397-0", "LA6729-3", "LA28398-8"]
    assert "code" not in items["strengths"]  # no invented codes for free-text questions


def test_answers_round_trip_through_a_valid_questionnaire_response():
    answers = a.answers_from_form({"strengths": "Sofia laughs at music\nShe loves the bus", "food-worry": "LA6729-3",
                                   "interpreter": "true", "language": "es", "unknown": "ignored"})
    response = a.questionnaire_response(answers, patient_id="sofia", authored=NOW, version=2, author="Jordan Lee")
    QuestionnaireResponse.model_validate(response)
    assert response["questionnaire"].startswith(a.QUESTIONNAIRE_URL)
    assert a.answers_from_response(response) == answers
    assert answers.get("unknown") == ""


def test_answers_read_from_a_questionnaire_response_are_cleaned_like_any_other_ehr_text():
    response = {"item": [{"linkId": "strengths", "answer": [{"valueString": "Music\x00 and \u202eswimming"}]}]}
    assert a.answers_from_response(response).get("strengths") == "Music and \u202eswimming\u202c"


def test_a_choice_that_is_not_offered_is_refused():
    with pytest.raises(a.AboutError):
        a.answers_from_form({"housing": "LA-made-up"})


def test_an_overlong_answer_is_refused():
    with pytest.raises(a.AboutError):
        a.answers_from_form({"strengths": "x" * (a.MAX_ANSWER + 1)})


def test_coded_answers_are_shown_by_their_label_in_the_family_language():
    assert a.answer_display("housing", "LA31993-1") == "I have a steady place to live"
    assert a.answer_display("transportation", "LA33-6", "es") == "Sí"
    assert a.answer_display("strengths", "In our words") == "In our words"


# -- consent -----------------------------------------------------------------------------------


def test_a_provider_is_consented_by_reference_when_both_sides_have_one():
    consent = [an_entry("Henrik Larsen", "PractitionerRole/larsen")]
    assert a.consented(a.Provider("Dr. Henrik Larsen MD", "PractitionerRole/larsen"), consent, TODAY)
    assert not a.consented(a.Provider("Henrik Larsen", "PractitionerRole/someone-else"), consent, TODAY)


def test_a_provider_is_consented_by_name_ignoring_titles_case_and_punctuation():
    consent = [an_entry("Dr. Priya Raman MD")]
    assert a.consented(a.Provider("priya raman"), consent, TODAY)
    assert a.consented(a.Provider("Priya Raman"), [an_entry("Priya Raman", "PractitionerRole/raman")], TODAY)
    assert not a.consented(a.Provider("Priya Ramanathan"), consent, TODAY)


def test_consent_outside_its_period_does_not_count():
    consent = [an_entry("Rosa Delgado", start=date(2026, 4, 1)), an_entry("Grace Whitfield", end=date(2026, 3, 9))]
    assert not a.consented(a.Provider("Rosa Delgado"), consent, TODAY)
    assert not a.consented(a.Provider("Grace Whitfield"), consent, TODAY)
    assert a.consented(a.Provider("Rosa Delgado"), consent, date(2026, 4, 1))


def test_a_consent_entry_is_a_valid_r4_consent_for_release_of_information():
    entry = an_entry("Henrik Larsen", "PractitionerRole/larsen", start=date(2026, 1, 5), end=date(2027, 1, 5))
    resource = a.consent_resource(entry, patient_id="sofia")
    Consent.model_validate(resource)
    assert resource["category"][0]["coding"][0]["code"] == "64292-6"
    assert resource["provision"]["actor"][0]["role"]["coding"][0]["code"] == "IRCP"
    assert resource["provision"]["period"] == {"start": "2026-01-05", "end": "2027-01-05"}


def test_the_consent_form_needs_who_consented_and_keeps_dates_in_order():
    form = {"recipient": "School nurse Kim", "consented_by": "Ana", "consented_on": "2026-03-01",
            "start": "2026-03-01", "end": "2026-02-01"}
    with pytest.raises(a.AboutError, match="before"):
        a.consent_entry_from_form(form, entry_id="e", recorded_by="J", recorded_at=NOW)
    with pytest.raises(a.AboutError, match="who gave consent"):
        a.consent_entry_from_form({**form, "consented_by": "", "end": ""}, entry_id="e", recorded_by="J",
                                  recorded_at=NOW)


def test_a_care_team_pick_fills_the_recipient_and_an_unknown_pick_is_refused():
    team = {"PractitionerRole/larsen": ("Dr. Henrik Larsen", "Neurologist")}
    form = {"reference": "PractitionerRole/larsen", "consented_by": "Ana", "consented_on": "2026-03-01"}
    entry = a.consent_entry_from_form(form, entry_id="e", recorded_by="J", recorded_at=NOW, team=team)
    assert (entry.recipient, entry.role, entry.reference) == ("Dr. Henrik Larsen", "Neurologist",
                                                              "PractitionerRole/larsen")
    with pytest.raises(a.AboutError):
        a.consent_entry_from_form({**form, "reference": "PractitionerRole/x"}, entry_id="e", recorded_by="J",
                                  recorded_at=NOW, team=team)


# -- the family copy ---------------------------------------------------------------------------


def test_a_provider_not_on_the_consent_list_never_appears_on_the_family_copy():
    team = a_section("care_team", a_member("Dr. Henrik Larsen", "PractitionerRole/larsen"),
                     a_member("Dr. Priya Raman", "PractitionerRole/raman"))
    plan = a_signed_plan(owner=Owner(Role.SPECIALIST, "Dr. Priya Raman"))
    copy = a_copy(sections={"care_team": team}, signed=plan,
                  consent=[an_entry("Henrik Larsen", "PractitionerRole/larsen")])
    assert [line.label for line in copy.care_team] == ["Dr. Henrik Larsen"]
    assert "Raman" not in repr(copy)
    assert copy.goals[0].actions[0].owner == "Specialist"


def test_a_consented_owner_is_named_with_their_role():
    plan = a_signed_plan(owner=Owner(Role.SPECIALIST, "Dr. Priya Raman"))
    copy = a_copy(signed=plan, consent=[an_entry("Priya Raman")])
    assert copy.goals[0].actions[0].owner == "Dr. Priya Raman (Specialist)"


def test_the_family_is_always_named_as_owner():
    copy = a_copy(signed=a_signed_plan(owner=Owner(Role.FAMILY, "Ana Rivera")))
    assert copy.goals[0].actions[0].owner == "Ana Rivera (Family)"


def test_goals_list_their_live_actions_with_who_and_when():
    copy = a_copy(signed=a_signed_plan(owner=Owner(Role.FAMILY, "Ana")))
    goal = copy.goals[0]
    assert (goal.text, goal.kind_label, goal.target) == ("Sleep through the night", "Family goal", "1 September 2026")
    assert [(x.text, x.due) for x in goal.actions] == [("Check the pump alarm settings", "1 April 2026")]
    assert (copy.plan_version, copy.signed_on, copy.next_review) == ("4", "10 March 2026", "10 September 2026")


def test_without_a_signed_plan_the_copy_says_so_and_keeps_everything_else():
    draft = a_signed_plan(owner=Owner(Role.FAMILY, "Ana"))
    draft = PlanVersion(plan_id="p", version=1, plan=Plan(goals=draft.plan.goals), saved_by="J", saved_at=NOW)
    allergies = a_section("allergies", s.AllergyItem("Latex", ("Hives",), "high", "active", source("AllergyIntolerance")))
    copy = a_copy(signed=draft, sections={"allergies": allergies},
                  intake=a.IntakeAnswers((("strengths", "Sofia loves music"),)))
    assert not copy.has_signed_plan and copy.goals == ()
    assert copy.allergies[0].label == "Latex" and copy.allergies[0].flag == "Serious allergy"
    assert copy.about[0].text == "Sofia loves music"


def test_items_the_coordinator_left_out_of_the_plan_are_left_off_the_copy():
    kept = s.ConditionItem("Epilepsy", (), None, "", s.ConditionStatus.ACTIVE, "", source("Condition", "Condition/1"))
    hidden = s.ConditionItem("Duplicate CP", (), None, "", s.ConditionStatus.ACTIVE, "", source("Condition", "Condition/2"))
    copy = a_copy(sections={"conditions": a_section("conditions", kept, hidden)},
                  curations={"Condition/2": ItemCuration("Condition/2", hidden=True, hidden_reason="dup")},
                  added=[AddedItem("x", "equipment", "Feeding pump backpack")])
    assert [c.label for c in copy.conditions] == ["Epilepsy"]
    assert copy.key_diagnoses == ("Epilepsy",)
    assert [e.label for e in copy.equipment] == ["Feeding pump backpack"]


def test_key_diagnoses_written_by_the_team_replace_the_ehr_list():
    copy = a_copy(emergency=a.EmergencyInfo(key_diagnoses="Cerebral palsy\n- Epilepsy\n"))
    assert copy.key_diagnoses == ("Cerebral palsy", "Epilepsy")


def test_the_copy_is_in_spanish_when_the_family_prefers_spanish():
    header = s.PatientHeader("Sofia Rivera", date(2018, 1, 2), "female", "", "Spanish", source("Patient"))
    assert a.copy_language(None, None, header) == "es"
    assert a.copy_language("en", None, header) == "en"
    assert a.copy_language(None, a.IntakeAnswers((("language", "en"),)), header) == "en"
    copy = a_copy(lang="es", header=header, signed=a_signed_plan(owner=Owner(Role.COORDINATOR)))
    assert copy.labels["allergies"] == "Alergias"
    assert copy.birth_date == "2 de enero de 2018"
    assert copy.goals[0].actions[0].owner == "Coordinador(a) de cuidado"
