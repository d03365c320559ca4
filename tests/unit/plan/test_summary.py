"""The medical summary maps each section of FHIR JSON into typed items, following the summary's rules."""

from datetime import date

from smart_app.plan.record import SECTION_KEYS, SectionState
from smart_app.plan.summary import (
    MAY_BE_INCOMPLETE,
    NO_MEDICATION_NAME,
    CareTeamMember,
    ConditionStatus,
    EncounterKind,
    EquipmentKind,
    MedicalSummary,
    Source,
    hospital_use_from,
    item_key,
    patient_header,
    summarize,
    summarize_section,
)
from tests.builders import (
    a_care_plan,
    a_care_team,
    a_condition,
    a_device,
    a_device_request,
    a_device_use_statement,
    a_document_reference,
    a_goal,
    a_medication,
    a_medication_request,
    a_medication_statement,
    a_participant,
    a_patient,
    a_patient_contact,
    a_practitioner,
    a_practitioner_role,
    a_procedure,
    a_provenance,
    a_record,
    a_reference,
    a_related_person,
    a_section,
    a_service_request,
    an_allergy,
    an_encounter,
    an_operation_outcome,
    an_organization,
    data_absent,
    shown_as_html,
)

TODAY = date(2025, 6, 1)


def section(key, *resources, **kwargs):
    return summarize_section(a_section(key, *resources, **kwargs), today=TODAY)


def labels(items):
    return [item.label for item in items]


# --- Conditions ---------------------------------------------------------------------------------------


def test_entered_in_error_conditions_are_left_out():
    result = section(
        "conditions",
        a_condition("Asthma", verification="entered-in-error"),
        a_condition("Epilepsy", status="entered-in-error"),
        a_condition("Cerebral palsy"),
    )
    assert labels(result.active) == ["Cerebral palsy"]
    assert result.inactive == ()


def test_resolved_and_inactive_conditions_are_shown_apart_from_active_ones():
    result = section(
        "conditions",
        a_condition("Asthma", status="resolved"),
        a_condition("Seizures", status="remission"),
        a_condition("Cerebral palsy", status="relapse"),
    )
    assert labels(result.active) == ["Cerebral palsy"]
    assert {(i.label, i.status) for i in result.inactive} == {
        ("Asthma", ConditionStatus.RESOLVED),
        ("Seizures", ConditionStatus.INACTIVE),
    }


def test_a_condition_without_clinical_status_is_resolved_only_when_it_has_abated():
    result = section(
        "conditions",
        a_condition("Otitis media", status=None, abatementDateTime="2024-01-01"),
        a_condition("Scoliosis", status=None),
    )
    assert labels(result.active) == ["Scoliosis"]
    assert labels(result.inactive) == ["Otitis media"]


def test_refuted_conditions_are_left_out():
    assert section("conditions", a_condition("Cystic fibrosis", verification="refuted")).is_empty


def test_a_condition_keeps_its_codes_onset_and_category():
    condition = a_condition(
        "Epilepsy",
        category="health-concern",
        onsetDateTime="2018-04-02",
        code={"text": "Epilepsy", "coding": [{"system": "http://snomed.info/sct", "code": "84757009"}]},
    )
    (item,) = section("conditions", condition).active
    assert item.onset == date(2018, 4, 2)
    assert item.category == "Health concern"
    assert [(c.system, c.code) for c in item.codes] == [("http://snomed.info/sct", "84757009")]


def test_a_data_absent_condition_name_reads_unknown():
    (item,) = section("conditions", a_condition(code=data_absent("unknown"))).active
    assert item.label == "unknown"


def test_a_data_absent_onset_reads_unknown():
    (item,) = section("conditions", a_condition(_onsetDateTime=data_absent("asked-unknown"))).active
    assert (item.onset, item.onset_text) == (None, "unknown")


def test_a_masked_value_says_masked():
    (item,) = section("conditions", a_condition(code=data_absent("masked"))).active
    assert item.label == "masked"


# --- Sources --------------------------------------------------------------------------------------


def test_every_item_says_which_resource_it_came_from_when_it_was_recorded_and_by_whom():
    doctor = a_practitioner("Jane", "Smith")
    condition = a_condition("Epilepsy", recordedDate="2023-09-10", recorder=a_reference(doctor))
    (item,) = section("conditions", condition, doctor).active
    assert item.source == Source("Condition", "Condition/cond-epilepsy", date(2023, 9, 10), "Dr. Jane Smith")


def test_the_author_falls_back_to_the_reference_display():
    condition = a_condition(asserter={"reference": "Practitioner/elsewhere", "display": "Dr. Who"})
    (item,) = section("conditions", condition).active
    assert item.source.author == "Dr. Who"


def test_provenance_supplies_author_and_date_when_the_resource_has_none():
    nurse = a_practitioner("Nora", "Nurse")
    condition = a_condition("Scoliosis")
    result = section(
        "conditions", condition, a_provenance(condition, author=nurse, recorded="2022-02-02T08:00:00Z"), nurse
    )
    (item,) = result.active
    assert (item.source.recorded, item.source.author) == (date(2022, 2, 2), "Dr. Nora Nurse")


def test_last_updated_is_the_recorded_date_of_last_resort():
    (item,) = section("procedures", a_procedure(meta={"lastUpdated": "2021-07-08T00:00:00Z"})).active
    assert item.source.recorded == date(2021, 7, 8)


# --- Medications --------------------------------------------------------------------------------


def test_medication_orders_are_shown_only_when_active_on_hold_or_completed():
    result = section(
        "medications",
        a_medication_request("Baclofen", status="active"),
        a_medication_request("Omeprazole", status="on-hold"),
        a_medication_request("Amoxicillin", status="completed"),
        a_medication_request("Diazepam", status="stopped"),
        a_medication_request("Ondansetron", status="cancelled"),
        a_medication_request("Ibuprofen", status="draft"),
        a_medication_request("Clonidine", status="entered-in-error"),
    )
    assert labels(result.active) == ["Baclofen", "Omeprazole"]
    assert labels(result.inactive) == ["Amoxicillin"]
    assert all(item.active for item in result.active) and not any(item.active for item in result.inactive)


def test_stopped_medication_statements_are_not_listed_as_active():
    result = section(
        "medications",
        a_medication_statement("Melatonin", status="stopped"),
        a_medication_statement("Glycopyrrolate", status="active"),
        a_medication_statement("Vitamin D", status="not-taken"),
    )
    assert labels(result.active) == ["Glycopyrrolate"]
    assert labels(result.inactive) == ["Melatonin"]


def test_a_do_not_perform_order_is_never_listed_as_a_medication():
    assert section("medications", a_medication_request("Codeine", doNotPerform=True)).is_empty


def test_a_coded_medication_is_named_by_its_concept():
    request = a_medication_request(medicationCodeableConcept={"coding": [{"display": "Baclofen 5 mg/mL"}]})
    assert labels(section("medications", request).active) == ["Baclofen 5 mg/mL"]


def test_a_contained_medication_is_named_from_the_contained_resource():
    request = a_medication_request(
        None,
        id="mr1",
        contained=[{"resourceType": "Medication", "id": "m1", "code": {"text": "Compounded baclofen"}}],
        medicationReference={"reference": "#m1"},
    )
    assert labels(section("medications", request).active) == ["Compounded baclofen"]


def test_an_included_medication_is_named_from_anywhere_in_the_section():
    medication = a_medication("Levetiracetam 100 mg/mL", rxnorm="311289")
    (item,) = section("medications", medication, a_medication_request(None, medication=medication)).active
    assert item.label == "Levetiracetam 100 mg/mL"
    assert item.codes[0].code == "311289"


def test_a_medication_resolved_by_absolute_url_is_named():
    medication = a_medication("Topiramate")
    request = a_medication_request(
        None, medicationReference={"reference": "https://ehr.example/fhir/Medication/" + medication["id"]}
    )
    assert labels(section("medications", request, medication).active) == ["Topiramate"]


def test_a_referenced_only_medication_uses_its_display_or_says_the_name_is_not_available():
    with_display = a_medication_request(
        None, id="a", medicationReference={"reference": "Medication/x", "display": "Clobazam"}
    )
    bare = a_medication_request(None, id="b", medicationReference={"reference": "Medication/y"})
    assert labels(section("medications", with_display, bare).active) == ["Clobazam", NO_MEDICATION_NAME]


def test_dose_text_is_built_from_structured_dosage_when_there_is_no_text():
    request = a_medication_request(
        "Baclofen",
        dose_text=None,
        dosageInstruction=[
            {
                "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}],
                "timing": {"code": {"text": "three times a day"}},
            }
        ],
    )
    (item,) = section("medications", request).active
    assert item.dose_text == "5 mg three times a day"


def test_a_statement_that_repeats_an_order_is_shown_once():
    order = a_medication_request("Baclofen", id="mr-1")
    same_name = a_medication_statement("baclofen", id="ms-1")
    based_on = a_medication_statement(
        "Baclofen 5mg", id="ms-2", basedOn=[{"reference": "MedicationRequest/mr-1"}]
    )
    other = a_medication_statement("Melatonin", id="ms-3")
    result = section("medications", order, same_name, based_on, other)
    assert [(i.label, i.source.resource_type) for i in result.active] == [
        ("Baclofen", "MedicationRequest"),
        ("Melatonin", "MedicationStatement"),
    ]


def test_a_statement_still_taken_stays_beside_a_completed_order_of_the_same_medicine():
    result = section(
        "medications",
        a_medication_request("Baclofen", status="completed"),
        a_medication_statement("Baclofen", status="active"),
    )
    assert [(i.label, i.source.resource_type) for i in result.active] == [("Baclofen", "MedicationStatement")]
    assert [(i.label, i.source.resource_type) for i in result.inactive] == [("Baclofen", "MedicationRequest")]


def test_the_same_resource_on_two_pages_is_shown_once():
    request = a_medication_request("Baclofen")
    assert labels(section("medications", request, dict(request)).active) == ["Baclofen"]


def test_an_order_author_is_its_requester():
    doctor = a_practitioner("Paul", "Physician")
    role = a_practitioner_role(doctor, specialty="Neurology")
    request = a_medication_request("Baclofen", authoredOn="2024-12-01", requester=a_reference(role))
    (item,) = section("medications", request, role, doctor).active
    assert (item.source.recorded, item.source.author) == (date(2024, 12, 1), "Dr. Paul Physician")


# --- Allergies, procedures ------------------------------------------------------------------------


def test_allergies_show_reactions_and_criticality_and_separate_resolved_ones():
    result = section(
        "allergies",
        an_allergy("Peanut", reactions=("Hives", "Wheeze", "Hives")),
        an_allergy("Latex", status="resolved", criticality="unable-to-assess"),
        an_allergy("Penicillin", verification="refuted"),
        an_allergy("Eggs", verification="entered-in-error"),
    )
    (peanut,) = result.active
    (latex,) = result.inactive
    assert (peanut.label, peanut.reactions, peanut.criticality) == ("Peanut", ("Hives", "Wheeze"), "high")
    assert latex.criticality == "unable to assess"


def test_procedures_not_done_are_left_out_and_stopped_ones_shown_apart():
    result = section(
        "procedures",
        a_procedure("Gastrostomy"),
        a_procedure("Tracheostomy", status="not-done"),
        a_procedure("VP shunt revision", status="stopped"),
    )
    assert labels(result.active) == ["Gastrostomy"]
    assert labels(result.inactive) == ["VP shunt revision"]
    assert result.active[0].performed == date(2019, 6, 1)


# --- Equipment -------------------------------------------------------------------------------------


def test_equipment_comes_from_devices_use_statements_and_orders():
    supplier = an_organization("Home Medical Supply")
    pump = a_device("Feeding pump", owner=a_reference(supplier))
    oximeter = a_device("Pulse oximeter", id="ox", manufacturer="Acme")
    result = section(
        "equipment",
        pump,
        a_device_use_statement(pump),
        oximeter,
        supplier,
        a_device_request("Suction machine", performer=a_reference(supplier)),
    )
    assert {(i.label, i.kind, i.supplier) for i in result.active} == {
        ("Feeding pump", EquipmentKind.IN_USE, "Home Medical Supply"),
        ("Pulse oximeter", EquipmentKind.DEVICE, "Acme"),
        ("Suction machine", EquipmentKind.ORDERED, "Home Medical Supply"),
    }


def test_equipment_no_longer_used_is_shown_apart_and_revoked_orders_left_out():
    pump = a_device("Feeding pump")
    result = section(
        "equipment",
        pump,
        a_device_use_statement(pump, status="completed"),
        a_device("Old wheelchair", status="inactive"),
        a_device_request("Standing frame", status="revoked"),
        a_device("Wrong device", status="entered-in-error"),
    )
    assert labels(result.active) == []
    assert labels(result.inactive) == ["Feeding pump", "Old wheelchair"]


# --- Care team -----------------------------------------------------------------------------------


def test_care_team_specialists_are_resolved_through_practitioner_role():
    neurologist = a_practitioner("Nina", "Neuro", phone="555-0400")
    clinic = an_organization("Neurology Clinic")
    role = a_practitioner_role(neurologist, clinic, specialty="Pediatric neurology", phone="555-0401")
    team = a_care_team(a_participant(role, role="Neurologist"))
    (member,) = section("care_team", team, role, neurologist, clinic).active
    assert member == CareTeamMember(
        member="PractitionerRole/" + role["id"],
        name="Dr. Nina Neuro",
        role="Neurologist",
        specialty="Pediatric neurology",
        phone="555-0401",
        organization="Neurology Clinic",
        source=member.source,
    )
    assert member.source.reference == "CareTeam/" + team["id"]


def test_care_team_members_of_every_kind_are_named():
    doctor = a_practitioner("Pat", "Primary")
    agency = an_organization("Home Nursing Agency", phone="555-0500")
    mother = a_related_person("Mary", "Lovelace", relationship="MTH")
    team = a_care_team(
        a_participant(doctor, role="Primary care provider"),
        a_participant(agency),
        a_participant(mother),
        a_participant(a_patient()),
    )
    result = section("care_team", team, doctor, agency, mother)
    assert {(m.name, m.role, m.phone) for m in result.active} == {
        ("Dr. Pat Primary", "Primary care provider", "555-0200"),
        ("Home Nursing Agency", "", "555-0500"),
        ("Mary Lovelace", "Mother", "555-0123"),
    }


def test_a_care_team_member_not_included_by_the_ehr_uses_the_reference_display():
    team = a_care_team(a_participant(None, member={"reference": "Practitioner/x", "display": "Dr. Far Away"}))
    assert labels(section("care_team", team).active) == ["Dr. Far Away"]


def test_care_team_members_whose_participation_ended_are_shown_apart():
    doctor = a_practitioner("Old", "Doctor")
    team = a_care_team(a_participant(doctor, period={"end": "2024-01-01"}))
    result = section("care_team", team, doctor)
    assert (labels(result.active), labels(result.inactive)) == ([], ["Dr. Old Doctor"])


def test_a_member_on_two_care_teams_is_listed_once():
    doctor = a_practitioner("Pat", "Primary")
    result = section(
        "care_team",
        a_care_team(a_participant(doctor), id="t1"),
        a_care_team(a_participant(doctor), id="t2"),
        doctor,
    )
    assert labels(result.active) == ["Dr. Pat Primary"]


# --- Encounters and hospital use ------------------------------------------------------------------


def test_hospital_use_counts_ed_visits_and_admissions_of_the_last_twelve_months():
    fetch = a_section(
        "encounters",
        an_encounter("EMER", start="2025-05-01", id="e1"),
        an_encounter("EMER", start="2024-06-01", id="e2"),  # exactly a year ago: counted
        an_encounter("EMER", start="2024-05-31", id="e3"),  # older: not counted
        an_encounter("IMP", start="2025-02-10", end="2025-02-14", id="e4"),
        an_encounter("IMP", start="2025-03-01", status="cancelled", id="e5"),
        an_encounter("EMER", start="2025-04-01", status="entered-in-error", id="e6"),
    )
    use = hospital_use_from(fetch, today=TODAY)
    assert (use.ed_visits_12m, use.admissions_12m, use.since, use.complete) == (2, 1, date(2024, 6, 1), True)


def test_hospital_use_is_unknown_when_the_encounter_search_failed():
    assert hospital_use_from(a_section("encounters", state=SectionState.FAILED), today=TODAY) is None


def test_hospital_use_says_it_is_incomplete_when_encounters_were_capped():
    use = hospital_use_from(a_section("encounters", state=SectionState.INCOMPLETE), today=TODAY)
    assert use is not None and not use.complete


def test_specialists_seen_come_from_outpatient_encounters_with_their_latest_visit():
    neurologist = a_practitioner("Nina", "Neuro")
    role = a_practitioner_role(neurologist, specialty="Neurology")
    visit = {"participant": [{"individual": a_reference(role)}]}
    fetch = a_section(
        "encounters",
        role,
        neurologist,
        an_encounter("AMB", start="2024-09-01", id="a1", **visit),
        an_encounter("AMB", start="2025-03-01", id="a2", **visit),
        an_encounter(
            "EMER", start="2025-04-01", id="a3", participant=[{"individual": {"display": "Dr. ED Doctor"}}]
        ),
    )
    (seen,) = hospital_use_from(fetch, today=TODAY).specialists_seen
    assert (seen.name, seen.specialty, seen.last_seen) == ("Dr. Nina Neuro", "Neurology", date(2025, 3, 1))


def test_encounters_are_listed_most_recent_first_without_planned_ones():
    result = section(
        "encounters",
        an_encounter("AMB", start="2024-01-01", id="old"),
        an_encounter("EMER", start="2025-01-01", id="new"),
        an_encounter("AMB", start="2025-09-01", status="planned", id="future"),
    )
    assert [(i.kind, i.start) for i in result.active] == [
        (EncounterKind.EMERGENCY, date(2025, 1, 1)),
        (EncounterKind.OUTPATIENT, date(2024, 1, 1)),
    ]


# --- Services, goals, care plans, documents --------------------------------------------------------


def test_referrals_and_services_separate_completed_ones_and_name_the_performer():
    agency = an_organization("Sunrise Home Health")
    result = section(
        "services",
        a_service_request("Home nursing", performer=[a_reference(agency)]),
        agency,
        a_service_request("Speech therapy", status="completed", category=None),
        a_service_request("Draft order", status="draft"),
    )
    (nursing,) = result.active
    assert (nursing.label, nursing.category, nursing.performer) == (
        "Home nursing",
        "Referral",
        "Sunrise Home Health",
    )
    assert labels(result.inactive) == ["Speech therapy"]


def test_goals_separate_achieved_ones_and_keep_the_due_date():
    result = section(
        "goals",
        a_goal("Walk with a walker", due="2025-12-01"),
        a_goal("Gain weight", status="completed"),
        a_goal("Wrong", status="entered-in-error"),
    )
    assert [(i.label, i.due) for i in result.active] == [("Walk with a walker", date(2025, 12, 1))]
    assert labels(result.inactive) == ["Gain weight"]


def test_care_plans_separate_revoked_ones():
    result = section(
        "care_plans", a_care_plan("Asthma action plan"), a_care_plan("Old plan", status="revoked")
    )
    assert (labels(result.active), labels(result.inactive)) == (["Asthma action plan"], ["Old plan"])


def test_advance_directives_separate_superseded_documents_and_hide_entered_in_error():
    result = section(
        "documents",
        a_document_reference("POLST form"),
        a_document_reference("Old POLST", status="superseded"),
        a_document_reference("Wrong patient", docStatus="entered-in-error"),
    )
    assert [(i.label, i.kind, i.dated) for i in result.active] == [
        ("POLST form", "Advance directive", date(2024, 2, 1))
    ]
    assert labels(result.inactive) == ["Old POLST"]


# --- Patient and contacts --------------------------------------------------------------------------


def test_the_patient_header_reads_name_birth_date_sex_mrn_and_language():
    patient = a_patient(
        communication=[
            {"language": {"text": "English"}},
            {"language": {"text": "Spanish"}, "preferred": True},
        ]
    )
    header = patient_header(a_section("patient", patient))
    assert (header.name, header.birth_date, header.sex, header.mrn, header.language) == (
        "Ada Lovelace",
        date(2015, 3, 4),
        "female",
        "MRN-0001",
        "Spanish",
    )


def test_the_patient_header_picks_the_launch_patient():
    fetch = a_section("patient", a_patient("other", given="Bob"), a_patient("ada"))
    assert patient_header(fetch, patient_id="ada").name == "Ada Lovelace"


def test_a_data_absent_sex_reads_unknown_and_no_patient_gives_no_header():
    patient = a_patient(gender=None, _gender=data_absent("asked-declined"))
    assert patient_header(a_section("patient", patient)).sex == "unknown"
    assert patient_header(a_section("patient")) is None


def test_contacts_come_from_related_persons_and_patient_contacts_once_each():
    patient = a_patient(
        contact=[
            a_patient_contact("Mary", "Lovelace", phone=None),
            a_patient_contact("George", "Byron", relationship="C", phone="555-0777"),
            a_patient_contact("Ex", "Contact", period={"end": "2020-01-01"}),
        ]
    )
    mother = a_related_person("Mary", "Lovelace", relationship="MTH", phone="555-0123")
    former = a_related_person("Former", "Guardian", relationship="GUARD", active=False)
    result = section("patient", patient, mother, former)
    assert [(c.name, c.relationship, c.phone) for c in result.active] == [
        ("George Byron", "Emergency contact", "555-0777"),
        ("Mary Lovelace", "Mother", "555-0123"),
    ]


# --- Sections ----------------------------------------------------------------------------------


def test_operation_outcomes_and_provenance_are_never_items_and_an_outcome_means_a_note():
    condition = a_condition("Asthma")
    result = section("conditions", an_operation_outcome(), a_provenance(condition), condition)
    assert labels(result.active) == ["Asthma"]
    assert result.notes == (MAY_BE_INCOMPLETE,)


def test_a_section_keeps_its_fetch_state_and_notes():
    result = section(
        "allergies", state=SectionState.INCOMPLETE, notes=("Only the first 10 pages were read.",)
    )
    assert (result.state, result.notes, result.count) == (
        SectionState.INCOMPLETE,
        ("Only the first 10 pages were read.",),
        0,
    )


def test_a_section_maps_only_its_own_resource_types():
    assert section("conditions", a_medication_request("Baclofen"), an_allergy()).is_empty


def test_an_unknown_section_key_gives_an_empty_section():
    result = section("immunizations", a_condition())
    assert (result.key, result.is_empty) == ("immunizations", True)


def test_items_are_sorted_by_label_regardless_of_case():
    result = section("conditions", a_condition("scoliosis"), a_condition("Asthma"), a_condition("Epilepsy"))
    assert labels(result.active) == ["Asthma", "Epilepsy", "scoliosis"]


def test_summarize_gives_every_section_in_order_and_the_header():
    record = a_record(
        patient=(a_patient(),),
        conditions=(a_condition(),),
        encounters=(an_encounter("EMER", start="2025-05-05"),),
    )
    summary = summarize(record, today=TODAY)
    assert isinstance(summary, MedicalSummary)
    assert [s.key for s in summary.sections] == [k for k in SECTION_KEYS if k != "patient"]
    assert summary.patient.name == "Ada Lovelace"
    assert summary.section("conditions").count == 1
    assert summary.section("patient") is summary.contacts
    assert summary.hospital_use.ed_visits_12m == 1


def test_one_failed_section_does_not_stop_the_others():
    record = a_record(
        conditions=(a_condition(),), medications=a_section("medications", state=SectionState.FAILED)
    )
    summary = summarize(record, today=TODAY)
    assert summary.section("medications").state is SectionState.FAILED
    assert summary.section("conditions").count == 1


def test_hostile_labels_survive_only_escaped_when_shown():
    hostile = '<script>alert("x")</script>'
    (item,) = section("conditions", a_condition(hostile)).active
    assert item.label == hostile  # plain text in the model: escaping is the template's job
    assert "<script>" not in shown_as_html(item.label)
    assert "&lt;script&gt;" in shown_as_html(item.label)


def test_every_item_has_a_stable_key_for_curation():
    doctor = a_practitioner("Pat", "Primary")
    patient = a_patient(contact=[a_patient_contact("George", "Byron")])
    record = a_record(
        patient=(patient,),
        conditions=(a_condition("Asthma"),),
        care_team=(
            a_care_team(a_participant(doctor), a_participant(None, member={"display": "Dr. Unlinked"})),
            doctor,
        ),
    )
    summary = summarize(record, today=TODAY)
    keys = [item_key(i) for s in (summary.contacts, *summary.sections) for i in (*s.active, *s.inactive)]
    assert sorted(keys) == sorted(
        [
            "Patient/ada|george byron",
            "Condition/cond-asthma",
            "Practitioner/" + doctor["id"],
            "CareTeam/team-complex-care-team|dr. unlinked",
        ]
    )
    relaunched = summarize(record, today=date(2025, 12, 1))
    assert keys == [
        item_key(i) for s in (relaunched.contacts, *relaunched.sections) for i in (*s.active, *s.inactive)
    ]
