"""The family's door: who signed in through the portal, checked against the EHR, and the site's rule
that lets them open the plan (issue 18).

Layer: services. Knows nothing of Flask. The EHR's word is taken only as far as it can be checked: the
fhirUser of the id_token must be the launch patient, or a RelatedPerson the EHR links to that patient.
"""

from __future__ import annotations

from ..audit import AuditTrail
from ..clock import Clock
from ..errors import LaunchError, NotForThisUser, ScopeDenied, SmartAppError
from ..fhir.gateway import FhirHttpError
from ..plan.family import FamilyRequest, RequestKind
from ..plan.family_access import AccessRule, Admission, Relation, admission, age_in_years, rule_text
from ..plan.fhir_text import as_list, fhir_date, human_name, target_of, text_of
from ..plan.people import resource_type, user_reference
from ..security import new_handle
from ..session import LaunchSession, SessionStore
from ..store.family_store import FamilyStore
from ..tenants import Tenant
from .ehr_access import EhrAccess


NOT_LINKED = "The EHR does not list you as family of this patient. Ask the care team."
UNREADABLE = "The EHR's record of who you are could not be read. Try again in a moment."


class FamilyAccessService:
    def __init__(self, ehr: EhrAccess, sessions: SessionStore, store: FamilyStore, audit: AuditTrail,
                 clock: Clock) -> None:
        self.ehr = ehr
        self.sessions = sessions
        self.store = store
        self.audit = audit
        self.clock = clock

    def admit(self, launch: LaunchSession, tenant: Tenant) -> Admission:
        """Admit a family launch, or end it and raise NotForThisUser saying why (in English and Spanish:
        the family's language is not known before they are in)."""
        try:
            relation, name = self._who(launch, tenant)
        except (LaunchError, NotForThisUser) as refused:
            self._refuse(launch, "not-linked")
            raise refused from None
        patient = self.ehr.read(launch, tenant, f"Patient/{launch.patient_id}") or {}
        user = user_reference(launch.fhir_user, launch.iss)
        decided = admission(relation, age=age_in_years(fhir_date(patient.get("birthDate")), self.clock.today()),
                            setting=tenant.adolescent_parent_access, adolescent_age=tenant.adolescent_age,
                            granted=self.store.granted(launch.iss, launch.patient_id, user))
        if not decided.admitted:
            if decided.rule is AccessRule.ADOLESCENT_ASK:
                self._ask_for_access(launch, user, name)
            self._refuse(launch, decided.rule.value)
            raise NotForThisUser(" ".join(rule_text(decided.rule, lang, tenant.adolescent_age) for lang in ("en", "es")))
        self.sessions.admit_family(launch.launch_id, person_name=name, access_rule=decided.rule.value)
        self.audit.record("family-admitted", "success", iss=launch.iss, patient_id=launch.patient_id,
                          user=launch.fhir_user, launch_id=launch.launch_id, rule=decided.rule.value)
        return decided

    def _who(self, launch: LaunchSession, tenant: Tenant) -> tuple[Relation, str]:
        """The signed-in person's relation to the patient and their name, as the EHR records them."""
        user = user_reference(launch.fhir_user, launch.iss)
        kind = resource_type(user)
        if kind == "Patient":
            if user != f"Patient/{launch.patient_id}":
                raise NotForThisUser("You signed in as a different patient than the one this plan is for.")
            patient = self.ehr.read(launch, tenant, user)
            if patient is None:
                raise LaunchError("The EHR's record of the patient could not be read. Try again in a moment.")
            return Relation.SELF, human_name(patient.get("name")) or "Patient"
        if kind != "RelatedPerson" or "://" in user:
            raise NotForThisUser("The family's page is for the patient and their family. The care team opens the "
                                 "plan from the patient's chart.")
        person = self._person(launch, tenant, user)
        if target_of(person.get("patient")) != f"Patient/{launch.patient_id}" or person.get("active") is False:
            raise NotForThisUser(NOT_LINKED)
        name = human_name(person.get("name")) or "Family member"
        relationship = next((t for t in map(text_of, as_list(person.get("relationship"))) if t), "")
        return Relation.RELATED, f"{name} ({relationship.lower()})" if relationship else name

    def _person(self, launch: LaunchSession, tenant: Tenant, user: str) -> dict:
        """The RelatedPerson who signed in. An EHR that will not show them under this patient's access
        (403, 404) does not link them to the patient; any other failure is worth another try."""
        try:
            person = self.ehr.gateway(launch, tenant).read(user)
        except ScopeDenied:
            raise NotForThisUser(NOT_LINKED) from None
        except FhirHttpError as err:
            if err.status in (404, 410):
                raise NotForThisUser(NOT_LINKED) from None
            raise LaunchError(UNREADABLE) from None
        except SmartAppError:
            raise LaunchError(UNREADABLE) from None
        if not isinstance(person, dict) or person.get("resourceType") != "RelatedPerson":
            raise LaunchError(UNREADABLE)
        return person

    def _ask_for_access(self, launch: LaunchSession, user: str, name: str) -> None:
        """One open access request per person, however often they try."""
        asked = self.store.requests(launch.iss, launch.patient_id, kinds=(RequestKind.ACCESS,), by_user=user)
        if any(r.is_open for r in asked):
            return
        self.store.add_request(launch.iss, launch.patient_id, FamilyRequest(
            request_id=new_handle(), kind=RequestKind.ACCESS, subject_id="", text="Asks to see the plan in the portal.",
            by_name=name, by_user=user, at=self.clock.now()))

    def _refuse(self, launch: LaunchSession, reason: str) -> None:
        self.sessions.end(launch.launch_id, "family-refused")
        self.audit.record("family-admitted", "denied", iss=launch.iss, patient_id=launch.patient_id,
                          user=launch.fhir_user, launch_id=launch.launch_id, reason=reason)


__all__ = ["FamilyAccessService"]
