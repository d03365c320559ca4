"""People: who the signed-in user is, which roles they may act and sign in, one name per person."""

import pytest

from smart_app.plan import people
from smart_app.plan.model import Owner, Role


@pytest.mark.parametrize("fhir_user,base,expected", [
    ("https://ehr.example/fhir/Practitioner/123", "https://ehr.example/fhir", "Practitioner/123"),
    ("https://ehr.example/fhir/Practitioner/123", "https://ehr.example/fhir/", "Practitioner/123"),
    ("Practitioner/123", "https://ehr.example/fhir", "Practitioner/123"),
    ("https://other.example/fhir/Practitioner/123", "https://ehr.example/fhir",
     "https://other.example/fhir/Practitioner/123"),
    (None, "https://ehr.example/fhir", ""),
    ("  ", "", ""),
])
def test_the_user_is_named_relative_to_the_fhir_base(fhir_user, base, expected):
    assert people.user_reference(fhir_user, base) == expected


@pytest.mark.parametrize("user,kind", [
    ("Practitioner/123", "Practitioner"),
    ("https://ehr.example/fhir/PractitionerRole/9", "PractitionerRole"),
    ("https://ehr.example/fhir/RelatedPerson/4/_history/2", "RelatedPerson"),
    ("Patient/1?x=y", "Patient"),
    ("Practitioner/123/", "Practitioner"),
    ("123", ""),
    ("", ""),
])
def test_the_resource_type_of_a_user(user, kind):
    assert people.resource_type(user) == kind


def test_a_patient_or_family_member_acts_only_for_the_family():
    for user in ("Patient/1", "RelatedPerson/4"):
        assert people.may_act_as(user, Role.FAMILY) is None
        for role in set(Role) - {Role.FAMILY}:
            assert "so you cannot work as the" in people.may_act_as(user, role)
    assert "patient" in people.may_act_as("Patient/1", Role.CLINICIAN)
    assert "family member" in people.may_act_as("RelatedPerson/4", Role.CLINICIAN)


def test_an_unknown_identity_may_act_in_any_role_and_the_ehrs_roles_narrow_the_choice():
    for role in Role:
        assert people.may_act_as("", role) is None and people.may_act_as("Practitioner/1", role) is None
    nurse = frozenset({Role.COORDINATOR, Role.SCHOOL_NURSE})
    assert people.may_act_as("Practitioner/1", Role.COORDINATOR, nurse) is None
    assert people.may_act_as("Practitioner/1", Role.CLINICIAN, nurse) == (
        "The EHR lists you as care coordinator or school nurse, not as the primary care clinician.")


def test_who_may_sign_as_what():
    assert people.may_sign_as("Practitioner/1", Role.CLINICIAN) is None
    assert people.may_sign_as("PractitionerRole/1", Role.CLINICIAN) is None
    assert people.may_sign_as("Person/1", Role.COORDINATOR) is None
    assert "signs as a practitioner" in people.may_sign_as("Person/1", Role.CLINICIAN)
    assert "signs as a practitioner" in people.may_sign_as("123", Role.CLINICIAN)
    assert "did not say who you are" in people.may_sign_as("", Role.COORDINATOR)
    assert "family member" in people.may_sign_as("RelatedPerson/4", Role.COORDINATOR)
    assert "EHR lists you" in people.may_sign_as("Practitioner/1", Role.CLINICIAN, frozenset({Role.COORDINATOR}))


def test_practitioner_role_codes_say_which_roles_a_person_may_take():
    doctor = (people.PRACTITIONER_ROLE_SYSTEM, "doctor")
    nurse = (people.PRACTITIONER_ROLE_SYSTEM, "nurse")
    assert people.roles_from_codes([doctor]) == {Role.CLINICIAN, Role.SPECIALIST, Role.COORDINATOR}
    assert Role.CLINICIAN not in people.roles_from_codes([nurse])
    assert people.roles_from_codes([nurse, doctor]) >= {Role.CLINICIAN, Role.SCHOOL_NURSE}
    assert people.roles_from_codes([(people.PRACTITIONER_ROLE_SYSTEM, "ict")]) is None  # the EHR says nothing
    assert people.roles_from_codes([]) is None
    site = {("http://snomed.info/sct", "224535009"): frozenset({Role.COORDINATOR})}
    assert people.roles_from_codes([("http://snomed.info/sct", "224535009"), doctor], site) == {Role.COORDINATOR}


def test_a_site_lists_the_roles_that_must_sign():
    assert people.required_signers(["coordinator", " clinician "]) == (Role.COORDINATOR, Role.CLINICIAN)
    assert people.required_signers(["clinician", "specialist"]) == (Role.CLINICIAN, Role.SPECIALIST)
    with pytest.raises(ValueError, match="'doctor' is not a role"):
        people.required_signers(["doctor"])
    with pytest.raises(ValueError, match="family does not sign"):
        people.required_signers(["coordinator", "family"])
    with pytest.raises(ValueError, match="listed twice"):
        people.required_signers(["clinician", "clinician"])
    with pytest.raises(ValueError, match="At least one"):
        people.required_signers([])


def test_a_person_is_named_one_way_everywhere():
    assert people.person_label(" Jordan  Lee ", Role.COORDINATOR) == "Jordan Lee (Care coordinator)"
    assert people.person_label("", Role.SCHOOL_NURSE) == "School nurse"
    assert people.owner_label(Owner(Role.COMMUNITY, "Acme DME")) == "Acme DME (Community provider)"
    assert people.listed(["A"]) == "A" and people.listed(["A", "B", "C"]) == "A, B and C"
    assert people.listed(["A", "B"], "or") == "A or B"


def test_one_person_is_one_identity_whatever_their_name_looks_like():
    jordan = people.owner_identity(Owner(Role.COORDINATOR, "Jordan Lee"))
    assert people.owner_identity(Owner(Role.COORDINATOR, "Jordan Lee, RN")) == jordan
    assert people.owner_identity(Owner(Role.COORDINATOR, "jordan  lee")) == jordan
    assert people.owner_identity(Owner(Role.SPECIALIST, "Dr. Jordan Lee")) == jordan
    assert people.owner_identity(Owner(Role.COORDINATOR, "Care coordinator")) == people.PersonKey("role", "coordinator")
    assert people.owner_identity(Owner(Role.COORDINATOR)) == people.PersonKey("role", "coordinator")
    by_reference = people.owner_identity(Owner(Role.COORDINATOR, "J. Lee", reference="Practitioner/jl"))
    assert by_reference == people.PersonKey("reference", "Practitioner/jl")
    assert people.normalized_name("Dr.") == "dr"  # a name of titles only is still a name
