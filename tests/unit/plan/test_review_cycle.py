"""The living document: what changed since the plan was signed, when the review is due, who owes what."""

from datetime import UTC, date, datetime

import pytest

from smart_app.plan.model import (
    ActionStatus,
    Goal,
    GoalLifecycle,
    NegotiatedAction,
    Owner,
    Plan,
    PlanState,
    Role,
)
from smart_app.plan.record import SectionState
from smart_app.plan.review_cycle import (
    EventKind,
    HealthEvent,
    ReviewState,
    changes_since,
    is_overdue,
    overdue_actions,
    review_status,
    snapshot_from_json,
    snapshot_of,
    snapshot_to_json,
    updated_in_ehr,
    who_owes_what,
    without_reviewed,
)
from smart_app.plan.summary import MedicalSummary, summarize
from tests.builders import (
    a_care_team,
    a_condition,
    a_device,
    a_device_request,
    a_medication_request,
    a_participant,
    a_practitioner,
    a_practitioner_role,
    a_record,
    a_section,
    an_allergy,
    an_encounter,
)

SIGNED_ON = date(2025, 3, 1)
TODAY = date(2025, 6, 1)
NO_PLAN = Plan()


def summary_of(**sections) -> MedicalSummary:
    return summarize(a_record(**sections), today=TODAY)


def diff(before: MedicalSummary, now: MedicalSummary, *, plan: Plan = NO_PLAN) -> tuple[HealthEvent, ...]:
    return changes_since(snapshot_of(before), now, signed_on=SIGNED_ON, plan=plan, today=TODAY)


def kinds(events) -> list[tuple[EventKind, str]]:
    return [(e.kind, e.label) for e in events]


def neurologist():
    doctor = a_practitioner("Rosa", "Diaz", id="pr-diaz")
    role = a_practitioner_role(doctor, specialty="Neurology", id="role-neuro")
    return (a_care_team(a_participant(role)), role, doctor)


SIGNED_RECORD = {
    "conditions": (a_condition("Cerebral palsy"), a_condition("Epilepsy")),
    "medications": (a_medication_request("Levetiracetam", dose_text="5 mL twice daily", id="mr-lev"),),
    "allergies": (an_allergy("Peanut"),),
    "equipment": (a_device("Enteral feeding pump"),),
    "care_team": neurologist(),
    "encounters": (an_encounter("EMER", start="2024-12-01"), an_encounter("AMB", start="2025-02-01")),
}


# --- The snapshot -----------------------------------------------------------------------------------


def test_the_snapshot_survives_a_round_trip_through_json():
    snapshot = snapshot_of(summary_of(**SIGNED_RECORD))
    assert snapshot_from_json(snapshot_to_json(snapshot)) == snapshot
    assert {s.key for s in snapshot.sections} >= {"conditions", "medications", "equipment", "care_team"}


def test_the_snapshot_keeps_the_fields_whose_change_matters():
    snapshot = snapshot_of(summary_of(**SIGNED_RECORD))
    medication = snapshot.section("medications").items[0]
    member = snapshot.section("care_team").items[0]
    assert (medication.key, medication.dose_text) == ("MedicationRequest/mr-lev", "5 mL twice daily")
    assert (member.key, member.specialty) == ("PractitionerRole/role-neuro", "Neurology")


def test_the_snapshot_keeps_only_ed_visits_and_admissions_of_the_encounters():
    encounters = snapshot_of(summary_of(**SIGNED_RECORD)).section("encounters").items
    assert [(e.kind, e.start) for e in encounters] == [("emergency", date(2024, 12, 1))]


# --- What changed -----------------------------------------------------------------------------------


def test_nothing_changed_means_no_events():
    assert diff(summary_of(**SIGNED_RECORD), summary_of(**SIGNED_RECORD)) == ()


def test_an_ed_visit_and_a_new_condition_after_signing_are_significant_new_events():
    now = summary_of(
        **{
            **SIGNED_RECORD,
            "conditions": (*SIGNED_RECORD["conditions"], a_condition("Chronic lung disease")),
            "encounters": (*SIGNED_RECORD["encounters"], an_encounter("EMER", start="2025-04-10")),
        }
    )
    events = diff(summary_of(**SIGNED_RECORD), now)
    assert {(e.kind, e.significant) for e in events} == {
        (EventKind.ED_VISIT, True),
        (EventKind.CONDITION_NEW, True),
    }
    visit = next(e for e in events if e.kind is EventKind.ED_VISIT)
    assert visit.on == date(2025, 4, 10) and visit.key == "Encounter/enc-emer-2025-04-10"


def test_an_admission_after_signing_is_reported_but_not_one_on_the_signing_day_or_before():
    now = summary_of(
        **{
            **SIGNED_RECORD,
            "encounters": (
                *SIGNED_RECORD["encounters"],
                an_encounter("IMP", start="2025-03-01"),  # the signing day: the plan already knew
                an_encounter("IMP", start="2025-01-20"),  # before signing, entered late
                an_encounter("IMP", start="2025-03-02"),
                an_encounter("AMB", start="2025-04-02"),
            ),
        }
    )
    events = diff(summary_of(**SIGNED_RECORD), now)
    assert [(e.kind, e.on) for e in events] == [(EventKind.ADMISSION, date(2025, 3, 2))]


def test_a_stay_on_the_signing_day_missing_from_a_snapshot_taken_at_signing_is_new():
    now = summary_of(
        **{
            **SIGNED_RECORD,
            "encounters": (
                *SIGNED_RECORD["encounters"],
                an_encounter("EMER", start="2025-03-01"),  # the signing day, recorded after the snapshot
                an_encounter("IMP", start="2025-02-28"),  # the day before: entered late, not new
            ),
        }
    )
    events = changes_since(snapshot_of(summary_of(**SIGNED_RECORD)), now, signed_on=SIGNED_ON, plan=NO_PLAN,
                           today=TODAY, inclusive_signing_day=True)
    assert [(e.kind, e.on, e.significant) for e in events] == [(EventKind.ED_VISIT, date(2025, 3, 1), True)]


def test_a_stay_on_the_signing_day_that_the_snapshot_holds_is_not_new_even_counting_that_day():
    signed = {**SIGNED_RECORD, "encounters": (an_encounter("IMP", start="2025-03-01"),)}
    events = changes_since(snapshot_of(summary_of(**signed)), summary_of(**signed), signed_on=SIGNED_ON,
                           plan=NO_PLAN, today=TODAY, inclusive_signing_day=True)
    assert events == ()


def test_an_encounter_diagnosis_is_a_new_condition_but_not_a_new_chronic_one():
    now = summary_of(
        **{
            **SIGNED_RECORD,
            "conditions": (
                *SIGNED_RECORD["conditions"],
                a_condition("Otitis media", category="encounter-diagnosis"),
            ),
        }
    )
    (event,) = diff(summary_of(**SIGNED_RECORD), now)
    assert event.kind is EventKind.CONDITION_NEW and not event.significant


def test_a_resolved_condition_and_one_back_again_are_told_apart():
    before = summary_of(conditions=(a_condition("Epilepsy"), a_condition("Pneumonia", status="resolved")))
    now = summary_of(conditions=(a_condition("Epilepsy", status="resolved"), a_condition("Pneumonia")))
    events = {e.label: e for e in diff(before, now)}
    assert events["Epilepsy"].kind is EventKind.CONDITION_RESOLVED
    assert events["Pneumonia"].kind is EventKind.CONDITION_CHANGED
    assert events["Pneumonia"].detail == "was resolved, now active"


def test_a_condition_gone_from_the_record_is_reported_as_no_longer_listed():
    before = summary_of(conditions=(a_condition("Epilepsy"), a_condition("Asthma")))
    events = diff(before, summary_of(conditions=(a_condition("Epilepsy"),)))
    assert kinds(events) == [(EventKind.CONDITION_REMOVED, "Asthma")]


def test_medications_started_stopped_and_changed_dose():
    before = summary_of(
        medications=(
            a_medication_request("Levetiracetam", dose_text="5 mL twice daily", id="mr-lev"),
            a_medication_request("Baclofen", id="mr-bac"),
            a_medication_request("Omeprazole", id="mr-ome"),
        )
    )
    now = summary_of(
        medications=(
            a_medication_request("Levetiracetam", dose_text="7 mL twice daily", id="mr-lev"),
            a_medication_request("Baclofen", status="completed", id="mr-bac"),
            a_medication_request("Clobazam", id="mr-clo"),
        )
    )
    events = {e.label: e for e in diff(before, now)}
    assert events["Levetiracetam"].kind is EventKind.MEDICATION_CHANGED
    assert events["Levetiracetam"].detail == "was 5 mL twice daily, now 7 mL twice daily"
    assert events["Baclofen"].kind is EventKind.MEDICATION_STOPPED
    assert events["Omeprazole"].kind is EventKind.MEDICATION_STOPPED
    assert events["Clobazam"].kind is EventKind.MEDICATION_STARTED
    assert len(events) == 4 and not any(e.significant for e in events.values())


def test_new_and_removed_equipment_and_a_new_allergy():
    before = summary_of(equipment=(a_device("Enteral feeding pump"), a_device_request("Suction machine")))
    now = summary_of(
        equipment=(a_device("Enteral feeding pump", status="inactive"), a_device("Pulse oximeter")),
        allergies=(an_allergy("Latex"),),
    )
    assert sorted(kinds(diff(before, now))) == sorted(
        [
            (EventKind.EQUIPMENT_REMOVED, "Enteral feeding pump"),
            (EventKind.EQUIPMENT_REMOVED, "Suction machine"),
            (EventKind.EQUIPMENT_NEW, "Pulse oximeter"),
            (EventKind.ALLERGY_NEW, "Latex"),
        ]
    )


def test_a_new_specialist_on_the_care_team_is_reported_with_the_specialty():
    cardiologist = a_practitioner("Sam", "Lee", id="pr-lee")
    role = a_practitioner_role(cardiologist, specialty="Cardiology", id="role-cardio")
    now = summary_of(care_team=(a_care_team(a_participant(role)), role, cardiologist))
    (event,) = diff(summary_of(), now)
    assert (event.kind, event.label, event.detail) == (EventKind.NEW_SPECIALIST, "Dr. Sam Lee", "Cardiology")


def test_the_care_team_the_app_filed_is_marked_by_this_app_and_is_no_event():
    """Issue 15: the app's CareTeam read back (our identifier on it) names people, yet is not news."""
    cardiologist = a_practitioner("Sam", "Lee", id="pr-lee")
    role = a_practitioner_role(cardiologist, specialty="Cardiology", id="role-cardio")
    ours = {**a_care_team(a_participant(role), id="ct-spoc"),
            "identifier": [{"system": "urn:spoc:careteam", "value": "plan-1"}]}
    now = summary_of(care_team=(ours, role, cardiologist))
    (member,) = now.section("care_team").active
    assert member.source.by_this_app
    assert diff(summary_of(), now) == ()
    assert updated_in_ehr({"CareTeam/ct-spoc", "PractitionerRole/role-cardio"}, now, ()) == ()


def test_a_person_on_both_the_ehrs_team_and_the_apps_keeps_the_ehrs_entry():
    cardiologist = a_practitioner("Sam", "Lee", id="pr-lee")
    role = a_practitioner_role(cardiologist, specialty="Cardiology", id="role-cardio")
    ours = {**a_care_team(a_participant(role), id="ct-spoc"),
            "identifier": [{"system": "urn:spoc:careteam", "value": "plan-1"}]}
    theirs = a_care_team(a_participant(role), id="ct-ehr")
    (member,) = summary_of(care_team=(ours, theirs, role, cardiologist)).section("care_team").active
    assert not member.source.by_this_app and member.source.reference == "CareTeam/ct-ehr"


def test_open_goals_past_their_target_date_are_reported_but_not_closed_or_due_today():
    plan = Plan(
        goals=(
            Goal("g1", "Walk with a walker", target_date=date(2025, 5, 1), lifecycle=GoalLifecycle.ACTIVE),
            Goal("g2", "Sleep through", target_date=date(2025, 5, 1), lifecycle=GoalLifecycle.COMPLETED),
            Goal("g3", "Go to school", target_date=TODAY, lifecycle=GoalLifecycle.ACTIVE),
            Goal("g4", "Gain weight", target_date=None),
        )
    )
    events = diff(summary_of(), summary_of(), plan=plan)
    assert [(e.kind, e.key) for e in events] == [(EventKind.GOAL_PAST_TARGET, "g1")]


def test_a_section_that_failed_then_or_now_reports_nothing():
    failed = a_section("conditions", state=SectionState.FAILED)
    assert diff(summary_of(conditions=failed), summary_of(conditions=(a_condition("Asthma"),))) == ()
    assert diff(summary_of(conditions=(a_condition("Asthma"),)), summary_of(conditions=failed)) == ()


def test_an_incomplete_list_today_reports_what_appeared_but_not_what_is_missing():
    before = summary_of(conditions=(a_condition("Epilepsy"),))
    now = summary_of(conditions=a_section("conditions", a_condition("Asthma"), state=SectionState.INCOMPLETE))
    assert kinds(diff(before, now)) == [(EventKind.CONDITION_NEW, "Asthma")]


def test_significant_events_come_first():
    now = summary_of(
        medications=(a_medication_request("Clobazam"),),
        encounters=(an_encounter("EMER", start="2025-05-05"),),
    )
    events = diff(summary_of(), now)
    assert [e.kind for e in events] == [EventKind.ED_VISIT, EventKind.MEDICATION_STARTED]


def test_events_marked_reviewed_are_left_out():
    now = summary_of(conditions=(a_condition("Asthma"), a_condition("Scoliosis")))
    events = diff(summary_of(), now)
    reviewed = {events[0].event_id}
    assert [e.event_id for e in without_reviewed(events, reviewed)] == [events[1].event_id]
    assert events[0].event_id.startswith("condition-new:Condition/")


def test_a_snapshot_missing_a_section_treats_it_as_unknown_not_empty():
    snapshot = snapshot_from_json({"schema": 1, "sections": []})
    now = summary_of(conditions=(a_condition("Asthma"),))
    assert changes_since(snapshot, now, signed_on=SIGNED_ON, plan=NO_PLAN, today=TODAY) == ()


# --- Updated in the EHR (_lastUpdated) ---------------------------------------------------------------


def updated(before: MedicalSummary, now: MedicalSummary, references: set[str]) -> tuple[HealthEvent, ...]:
    return updated_in_ehr(frozenset(references), now, diff(before, now))


def test_an_item_the_ehr_updated_without_a_change_the_snapshot_keeps_is_reported_once_and_not_significant():
    signed = summary_of(**SIGNED_RECORD)
    epilepsy = "Condition/cond-epilepsy"
    (event,) = updated(signed, summary_of(**SIGNED_RECORD), {epilepsy, epilepsy})
    assert (event.kind, event.key, event.label) == (EventKind.UPDATED_IN_EHR, epilepsy, "Epilepsy")
    assert event.detail == "condition changed since signing" and not event.significant
    assert event.title == "Record updated in the EHR" and event.event_id == f"updated-in-ehr:{epilepsy}"


def test_a_medication_order_reissued_with_the_same_dose_is_reported_as_updated():
    signed = summary_of(**SIGNED_RECORD)
    (event,) = updated(signed, summary_of(**SIGNED_RECORD), {"MedicationRequest/mr-lev"})
    assert (event.label, event.detail) == ("Levetiracetam", "medication order changed since signing")


def test_an_update_the_snapshot_diff_already_reports_is_not_reported_again():
    before = summary_of(medications=(a_medication_request("Levetiracetam", dose_text="5 mL", id="mr-lev"),))
    now = summary_of(medications=(a_medication_request("Levetiracetam", dose_text="7 mL", id="mr-lev"),),
                     conditions=(a_condition("Asthma", id="cond-asthma"),))
    assert updated(before, now, {"MedicationRequest/mr-lev", "Condition/cond-asthma"}) == ()


def test_updates_to_items_not_in_todays_record_or_in_a_failed_section_are_left_out():
    signed = summary_of(**SIGNED_RECORD)
    failed = summary_of(**{**SIGNED_RECORD, "conditions": a_section("conditions", state=SectionState.FAILED)})
    assert updated(signed, summary_of(**SIGNED_RECORD), {"Condition/not-in-the-record", "Patient/p1"}) == ()
    assert updated(signed, failed, {"Condition/cond-epilepsy"}) == ()


def test_an_update_never_makes_the_review_due_by_itself():
    signed = summary_of(**SIGNED_RECORD)
    events = updated(signed, summary_of(**SIGNED_RECORD), {"Condition/cond-epilepsy", "Device/dev-enteral-feeding-pump"})
    assert [e.label for e in events] == ["Epilepsy", "Enteral feeding pump"]
    assert review_status(SIGNED, signed_on=SIGNED_ON, events=events, today=TODAY).state is ReviewState.NOT_DUE


# --- When the review is due ---------------------------------------------------------------------------

SIGNED = Plan(state=PlanState.SIGNED)
ED_VISIT = HealthEvent(EventKind.ED_VISIT, "Encounter/1", "ED visit", significant=True, on=date(2025, 4, 1))
NEW_MEDICINE = HealthEvent(EventKind.MEDICATION_STARTED, "MedicationRequest/1", "Clobazam")


@pytest.mark.parametrize(
    "today,state",
    [
        (date(2025, 7, 28), ReviewState.NOT_DUE),
        (date(2025, 7, 29), ReviewState.DUE_SOON),  # 30 days before
        (date(2025, 8, 27), ReviewState.DUE_SOON),
        (date(2025, 8, 28), ReviewState.DUE),
        (date(2025, 8, 29), ReviewState.OVERDUE),
    ],
)
def test_the_review_falls_due_six_months_after_signing(today, state):
    status = review_status(SIGNED, signed_on=date(2025, 2, 28), events=(), today=today)
    assert status.due_date == date(2025, 8, 28) and status.state is state


def test_a_significant_health_event_makes_the_review_due_now_whatever_the_date():
    status = review_status(SIGNED, signed_on=SIGNED_ON, events=(NEW_MEDICINE, ED_VISIT), today=TODAY)
    assert status.state is ReviewState.DUE and status.needs_attention
    assert "1 new health event since the plan was signed on 2025-03-01" in status.reason
    quiet = review_status(SIGNED, signed_on=SIGNED_ON, events=(NEW_MEDICINE,), today=TODAY)
    assert quiet.state is ReviewState.NOT_DUE and not quiet.needs_attention


def test_a_family_waiting_on_the_care_team_makes_the_review_due_now():
    status = review_status(SIGNED, signed_on=SIGNED_ON, events=(), today=TODAY, family_asks=2)
    assert status.state is ReviewState.DUE and "The family has 2 open requests" in status.reason
    assert review_status(SIGNED, signed_on=SIGNED_ON, events=(), today=TODAY).state is ReviewState.NOT_DUE


def test_the_review_interval_is_a_site_setting_and_a_plans_own_date_wins():
    three_months = review_status(SIGNED, signed_on=SIGNED_ON, events=(), today=TODAY, review_months=3)
    assert (three_months.due_date, three_months.state) == (date(2025, 6, 1), ReviewState.DUE)
    two_months = review_status(SIGNED, signed_on=SIGNED_ON, events=(), today=TODAY, review_months=2)
    assert two_months.state is ReviewState.OVERDUE
    own_date = Plan(state=PlanState.SIGNED, next_review=date(2025, 6, 15))
    assert review_status(own_date, signed_on=SIGNED_ON, events=(), today=TODAY).due_date == date(2025, 6, 15)


def test_an_unsigned_plan_has_no_review_date_and_the_signing_time_stands_in_for_a_missing_day():
    assert review_status(Plan(), signed_on=None, events=(), today=TODAY).state is ReviewState.NOT_SIGNED
    signed_at = Plan(state=PlanState.SIGNED, signed_at=datetime(2025, 1, 10, 15, tzinfo=UTC))
    assert review_status(signed_at, signed_on=None, events=(), today=TODAY).due_date == date(2025, 7, 10)


# --- Who owes what ------------------------------------------------------------------------------------

FAMILY = Owner(Role.FAMILY, "Ana Rivera")
NEURO = Owner(Role.SPECIALIST, "Dr. Diaz")


def an_action(action_id, owner, due, status=ActionStatus.NOT_STARTED):
    return NegotiatedAction(action_id, f"Action {action_id}", owner, due=due, status=status)


ACTIONS = Plan(
    actions=(
        an_action("a1", FAMILY, date(2025, 7, 1)),
        an_action("a2", NEURO, date(2025, 5, 1)),
        an_action("a3", FAMILY, date(2025, 5, 20)),
        an_action("a4", FAMILY, date(2025, 4, 1), ActionStatus.DONE),
        an_action("a5", NEURO, date(2025, 4, 1), ActionStatus.CANCELLED),
        an_action("a6", FAMILY, None, ActionStatus.BLOCKED),
        an_action("a7", NEURO, TODAY, ActionStatus.IN_PROGRESS),
        an_action("a8", Owner(Role.FAMILY, " ana rivera "), date(2025, 5, 25)),
    )
)


def test_overdue_actions_are_open_and_due_before_today_grouped_by_owner():
    rows = overdue_actions(ACTIONS, TODAY)
    assert [(r.label, [a.action_id for a in r.actions]) for r in rows] == [
        ("Dr. Diaz (Specialist)", ["a2"]),  # the longest overdue first
        ("Ana Rivera (Family)", ["a3", "a8"]),
    ]


def test_who_owes_what_lists_open_actions_soonest_first_with_the_overdue_count():
    rows = who_owes_what(ACTIONS, TODAY)
    assert [(r.label, [a.action_id for a in r.actions], r.overdue) for r in rows] == [
        ("Dr. Diaz (Specialist)", ["a2", "a7"], 1),
        ("Ana Rivera (Family)", ["a3", "a8", "a1", "a6"], 2),
    ]


def test_one_person_is_one_row_however_their_name_was_typed():
    jordan = Owner(Role.COORDINATOR, "Jordan Lee")
    plan = Plan(actions=(
        an_action("a1", Owner(Role.COORDINATOR), date(2025, 7, 1)),  # "Care coordinator": the only coordinator
        an_action("a2", jordan, date(2025, 6, 20)),
        an_action("a3", Owner(Role.COORDINATOR, "Jordan Lee RN"), date(2025, 5, 1)),
        an_action("a4", Owner(Role.COORDINATOR, "Care coordinator"), None),
        an_action("a5", Owner(Role.SPECIALIST, "Dr Diaz", reference="Practitioner/diaz"), date(2025, 6, 5)),
        an_action("a6", Owner(Role.SPECIALIST, "Dr Luis Diaz", reference="Practitioner/diaz"), date(2025, 6, 3)),
        an_action("a7", Owner(Role.SPECIALIST, "Dr Diaz", reference="Practitioner/other-diaz"), date(2025, 6, 4)),
    ))
    rows = who_owes_what(plan, TODAY)
    assert [(r.label, [a.action_id for a in r.actions], r.overdue) for r in rows] == [
        ("Jordan Lee RN (Care coordinator)", ["a3", "a2", "a1", "a4"], 1),
        ("Dr Luis Diaz (Specialist)", ["a6", "a5"], 0),
        ("Dr Diaz (Specialist)", ["a7"], 0),
    ]


def test_an_unnamed_role_stays_its_own_row_when_several_people_share_the_role():
    plan = Plan(actions=(
        an_action("a1", Owner(Role.SPECIALIST), date(2025, 7, 1)),
        an_action("a2", Owner(Role.SPECIALIST, "Dr Diaz"), date(2025, 7, 2)),
        an_action("a3", Owner(Role.SPECIALIST, "Dr Nair"), date(2025, 7, 3)),
    ))
    assert [r.label for r in who_owes_what(plan, TODAY)] == [
        "Specialist", "Dr Diaz (Specialist)", "Dr Nair (Specialist)"]


def test_within_a_row_overdue_actions_come_first_and_undated_ones_last():
    plan = Plan(actions=(
        an_action("a1", FAMILY, None),
        an_action("a2", FAMILY, date(2025, 6, 15)),
        an_action("a3", FAMILY, date(2025, 5, 31), ActionStatus.BLOCKED),
    ))
    (row,) = who_owes_what(plan, TODAY)
    assert ([a.action_id for a in row.actions], row.overdue) == (["a3", "a2", "a1"], 1)


def test_an_owner_without_a_name_is_labelled_by_role_and_due_today_is_not_overdue():
    plan = Plan(actions=(an_action("x", Owner(Role.SCHOOL_NURSE), TODAY),))
    (row,) = who_owes_what(plan, TODAY)
    assert (row.label, row.overdue) == ("School nurse", 0)
    assert not is_overdue(plan.actions[0], TODAY) and is_overdue(plan.actions[0], date(2025, 6, 2))


def test_a_medication_started_and_stopped_since_signing_says_it_has_stopped():
    now = summary_of(medications=(a_medication_request("Amoxicillin", dose_text="5 mL", status="completed"),))
    (event,) = diff(summary_of(), now)
    assert (event.kind, event.detail) == (EventKind.MEDICATION_STARTED, "5 mL (now completed)")
