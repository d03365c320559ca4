"""Sandbox data layer: the bundled synthetic patients and the people and places around them.

Everyone here is fictional; the codes are real (SNOMED CT, RxNorm, LOINC, ICD-10-CM, NUCC, HL7
terminology). Where no code could be confirmed, a resource carries text only rather than an invented
code. Every date is computed from `today`, so windows such as "ED visits in the last 12 months" keep
answering the same way whenever the sandbox starts. Phone numbers use the 555-01xx range reserved
for fiction; NPI-like identifiers start with 9, which no real NPI does.

Pure: standard library only, no I/O. `build_resources(today)` is the whole bundled record.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

Resource = dict[str, Any]

# --- Code systems -------------------------------------------------------------------------------

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NUCC = "http://nucc.org/provider-taxonomy"
BCP47 = "urn:ietf:bcp:47"
UCUM = "http://unitsofmeasure.org"
HL7_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
CONDITION_CATEGORY = HL7_TERMINOLOGY + "condition-category"
CONDITION_CLINICAL = HL7_TERMINOLOGY + "condition-clinical"
CONDITION_VERIFICATION = HL7_TERMINOLOGY + "condition-ver-status"
ALLERGY_CLINICAL = HL7_TERMINOLOGY + "allergyintolerance-clinical"
ALLERGY_VERIFICATION = HL7_TERMINOLOGY + "allergyintolerance-verification"
ACT_CODE = HL7_TERMINOLOGY + "v3-ActCode"
ROLE_CODE = HL7_TERMINOLOGY + "v3-RoleCode"
PARTICIPATION_TYPE = HL7_TERMINOLOGY + "v3-ParticipationType"
IDENTIFIER_TYPE = HL7_TERMINOLOGY + "v2-0203"
CONTACT_ROLE = HL7_TERMINOLOGY + "v2-0131"
ORGANIZATION_TYPE = HL7_TERMINOLOGY + "organization-type"
MEDREQ_CATEGORY = HL7_TERMINOLOGY + "medicationrequest-category"
OBSERVATION_CATEGORY = HL7_TERMINOLOGY + "observation-category"
GOAL_ACHIEVEMENT = HL7_TERMINOLOGY + "goal-achievement"
US_CORE_CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
US_CORE_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"

# Identifier namespaces (not code systems).
NPI = "http://hl7.org/fhir/sid/us-npi"
MRN_SYSTEM = "https://sandbox.spoc.example/fhir/sid/mrn"

# --- Well-known ids -----------------------------------------------------------------------------

CHILD_ID = "sofia-rivera"
TEEN_ID = "daniel-oconnor"
TODDLER_ID = "leo-tran"
ADULT_ID = "walter-hughes"  # Conditions without a category, as in SMART's (Synthea) sample patients
VISITS_ONLY_ID = "maya-lindqvist"  # Conditions only as encounter diagnoses; "no known allergies" recorded
PATIENT_IDS: tuple[str, ...] = (CHILD_ID, TEEN_ID, TODDLER_ID, ADULT_ID, VISITS_ONLY_ID)

PHYSICIAN_USER_ID = "amara-okafor"  # Practitioner who can "sign in" to the sandbox chart
COORDINATOR_USER_ID = "jordan-lee"  # care coordinator, also a sandbox user

LAKESIDE = "lakeside-childrens"
BRIGHT_PATH = "bright-path-home-health"
NORTHWIND = "northwind-medical-supply"
RIVERSIDE = "riverside-family-health"


# --- Small builders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """Dates relative to the day the sandbox starts."""

    today: date

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def born(self, years: int, days: int = 0) -> date:
        """A birth date `years` and `days` before today (29 February falls back to the 28th)."""
        day = 28 if (self.today.month, self.today.day) == (2, 29) else self.today.day
        return self.today.replace(year=self.today.year - years, day=day) - timedelta(days=days)


def coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def concept(text: str, *codings: dict[str, str]) -> dict[str, Any]:
    return {"coding": list(codings), "text": text} if codings else {"text": text}


def reference(resource_type: str, id_: str, display: str | None = None) -> dict[str, str]:
    ref = {"reference": f"{resource_type}/{id_}"}
    return {**ref, "display": display} if display else ref


def instant(day: date, hour: int = 12) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


def resource(resource_type: str, id_: str, updated: date, **fields: Any) -> Resource:
    return {"resourceType": resource_type, "id": id_, "meta": {"lastUpdated": instant(updated)}, **fields}


def phone(number: str, use: str = "work") -> dict[str, str]:
    return {"system": "phone", "value": number, "use": use}


def fictional_phone(n: int) -> str:
    return f"(555) 555-01{n:02d}"


def human_name(given: str, family: str, *, prefix: str = "", suffix: str = "") -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "family": family, "given": given.split()}
    if prefix:
        name["prefix"] = [prefix]
    if suffix:
        name["suffix"] = [suffix]
    return name


def address(line: str, city: str, state: str = "IL", postal_code: str = "55555") -> dict[str, Any]:
    return {"use": "home", "line": [line], "city": city, "state": state, "postalCode": postal_code, "country": "US"}


def note(text: str) -> list[dict[str, str]]:
    return [{"text": text}]


def status_concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


# --- Vocabulary rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    key: str
    text: str
    icd10: tuple[str, str]
    snomed: tuple[str, str] | None = None

    def code(self) -> dict[str, Any]:
        codings = [coding(SNOMED, *self.snomed)] if self.snomed else []
        return concept(self.text, *codings, coding(ICD10CM, *self.icd10))


@dataclass(frozen=True)
class Drug:
    key: str
    rxnorm: str
    name: str

    def code(self) -> dict[str, Any]:
        return concept(self.name, coding(RXNORM, self.rxnorm, self.name))


@dataclass(frozen=True)
class Clinician:
    id: str
    given: str
    family: str
    credential: str
    specialty: tuple[str, str]  # NUCC code, display
    organization: str
    phone: int
    npi: str

    @property
    def role_id(self) -> str:
        return f"{self.id}-role"

    @property
    def display(self) -> str:
        prefix = "Dr. " if self.credential in ("MD", "DO", "AuD") else ""
        return f"{prefix}{self.given} {self.family}, {self.credential}"


# Problems (SNOMED CT where confirmed, always ICD-10-CM).
CEREBRAL_PALSY = Problem(
    "cerebral-palsy",
    "Spastic quadriplegic cerebral palsy",
    ("G80.0", "Spastic quadriplegic cerebral palsy"),
    ("128188000", "Cerebral palsy"),
)
EPILEPSY = Problem(
    "epilepsy",
    "Epilepsy",
    ("G40.909", "Epilepsy, unspecified, not intractable, without status epilepticus"),
    ("84757009", "Epilepsy"),
)
GASTROSTOMY_STATUS = Problem("gastrostomy-status", "Gastrostomy status (G-tube fed)", ("Z93.1", "Gastrostomy status"))
TRACHEOSTOMY_STATUS = Problem(
    "tracheostomy-status",
    "Tracheostomy status",
    ("Z93.0", "Tracheostomy status"),
    ("302108003", "Tracheostomy present"),
)
CHRONIC_RESPIRATORY_FAILURE = Problem(
    "chronic-respiratory-failure",
    "Chronic respiratory failure with hypercapnia",
    ("J96.12", "Chronic respiratory failure with hypercapnia"),
    ("39871006", "Chronic respiratory failure"),
)
VENTILATOR_DEPENDENCE = Problem(
    "ventilator-dependence",
    "Dependence on home mechanical ventilation",
    ("Z99.11", "Dependence on respirator [ventilator] status"),
    ("444932008", "Dependence on ventilator"),
)
GERD = Problem(
    "gerd",
    "Gastroesophageal reflux disease",
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("235595009", "Gastroesophageal reflux disease"),
)
NEUROGENIC_BLADDER = Problem(
    "neurogenic-bladder",
    "Neurogenic bladder",
    ("N31.9", "Neuromuscular dysfunction of bladder, unspecified"),
    ("398064005", "Neurogenic urinary bladder"),
)
SCOLIOSIS = Problem(
    "scoliosis",
    "Neuromuscular scoliosis",
    ("M41.40", "Neuromuscular scoliosis, site unspecified"),
    ("298382003", "Scoliosis deformity of spine"),
)
DEVELOPMENTAL_DELAY = Problem(
    "developmental-delay",
    "Global developmental delay",
    ("F88", "Other disorders of psychological development"),
    ("248290002", "Developmental delay"),
)
DYSPHAGIA = Problem(
    "dysphagia", "Oropharyngeal dysphagia", ("R13.12", "Dysphagia, oropharyngeal phase"), ("40739000", "Dysphagia")
)
OSTEOPENIA = Problem(
    "osteopenia",
    "Osteopenia",
    ("M85.80", "Other specified disorders of bone density and structure, unspecified site"),
    ("312894000", "Osteopenia"),
)
CONSTIPATION = Problem(
    "constipation", "Chronic constipation", ("K59.00", "Constipation, unspecified"), ("14760008", "Constipation")
)
SIALORRHEA = Problem(
    "sialorrhea",
    "Sialorrhea (drooling)",
    ("K11.7", "Disturbances of salivary secretion"),
    ("53827007", "Excessive salivation"),
)
ASPIRATION_PNEUMONIA = Problem(
    "aspiration-pneumonia",
    "Aspiration pneumonia",
    ("J69.0", "Pneumonitis due to inhalation of food and vomit"),
    ("233604007", "Pneumonia"),
)
ASTHMA = Problem(
    "asthma", "Asthma (entered in error)", ("J45.909", "Unspecified asthma, uncomplicated"), ("195967001", "Asthma")
)
CAREGIVER_STRAIN = Problem(
    "caregiver-strain",
    "Caregiver strain: night nursing hours unfilled",
    ("Z63.6", "Dependent relative needing care at home"),
)
TRANSPORT = Problem(
    "transportation", "No accessible transport to specialty visits", ("Z59.82", "Transportation insecurity")
)

TYPE_1_DIABETES = Problem(
    "type-1-diabetes",
    "Type 1 diabetes mellitus",
    ("E10.9", "Type 1 diabetes mellitus without complications"),
    ("46635009", "Diabetes mellitus type 1"),
)
HYPERTROPHIC_CARDIOMYOPATHY = Problem(
    "hcm",
    "Hypertrophic cardiomyopathy",
    ("I42.2", "Other hypertrophic cardiomyopathy"),
    ("233873004", "Hypertrophic cardiomyopathy"),
)
CELIAC = Problem("celiac", "Celiac disease", ("K90.0", "Celiac disease"), ("396331005", "Celiac disease"))
ANXIETY = Problem(
    "anxiety", "Anxiety disorder", ("F41.9", "Anxiety disorder, unspecified"), ("197480006", "Anxiety disorder")
)
DKA = Problem("dka", "Diabetic ketoacidosis", ("E10.10", "Type 1 diabetes mellitus with ketoacidosis without coma"))

DOWN_SYNDROME = Problem(
    "down-syndrome",
    "Down syndrome (trisomy 21)",
    ("Q90.9", "Down syndrome, unspecified"),
    ("41040004", "Down syndrome"),
)
AVSD = Problem(
    "avsd",
    "Complete atrioventricular septal defect, repaired",
    ("Q21.2", "Atrioventricular septal defect"),
    ("13213009", "Congenital heart disease"),
)
HEARING_LOSS = Problem(
    "hearing-loss",
    "Bilateral sensorineural hearing loss",
    ("H90.3", "Sensorineural hearing loss, bilateral"),
    ("60700002", "Sensorineural hearing loss"),
)
HYPOTHYROIDISM = Problem(
    "hypothyroidism", "Hypothyroidism", ("E03.9", "Hypothyroidism, unspecified"), ("40930008", "Hypothyroidism")
)
SLEEP_APNEA = Problem(
    "sleep-apnea",
    "Obstructive sleep apnea",
    ("G47.33", "Obstructive sleep apnea (adult) (pediatric)"),
    ("78275009", "Obstructive sleep apnea syndrome"),
)

# Drugs at RxNorm ingredient level.
LEVETIRACETAM = Drug("levetiracetam", "114477", "levetiracetam")
BACLOFEN = Drug("baclofen", "1292", "baclofen")
OMEPRAZOLE = Drug("omeprazole", "7646", "omeprazole")
POLYETHYLENE_GLYCOL = Drug("polyethylene-glycol", "221147", "polyethylene glycol 3350")
ALBUTEROL = Drug("albuterol", "435", "albuterol")
BUDESONIDE = Drug("budesonide", "19831", "budesonide")
MIDAZOLAM = Drug("midazolam", "6960", "midazolam")
OXYBUTYNIN = Drug("oxybutynin", "32675", "oxybutynin")
SODIUM_CHLORIDE = Drug("sodium-chloride", "9863", "sodium chloride")
GABAPENTIN = Drug("gabapentin", "25480", "gabapentin")
CLONIDINE = Drug("clonidine", "2599", "clonidine")
ACETAMINOPHEN = Drug("acetaminophen", "161", "acetaminophen")
TOPIRAMATE = Drug("topiramate", "38404", "topiramate")
AMOXICILLIN = Drug("amoxicillin", "723", "amoxicillin")
INSULIN_GLARGINE = Drug("insulin-glargine", "274783", "insulin glargine")
INSULIN_LISPRO = Drug("insulin-lispro", "86009", "insulin lispro")
METOPROLOL = Drug("metoprolol", "6918", "metoprolol")
SERTRALINE = Drug("sertraline", "36437", "sertraline")
LEVOTHYROXINE = Drug("levothyroxine", "10582", "levothyroxine")
FUROSEMIDE = Drug("furosemide", "4603", "furosemide")
CETIRIZINE = Drug("cetirizine", "20610", "cetirizine")
DRUGS: tuple[Drug, ...] = (
    LEVETIRACETAM,
    BACLOFEN,
    OMEPRAZOLE,
    POLYETHYLENE_GLYCOL,
    ALBUTEROL,
    BUDESONIDE,
    MIDAZOLAM,
    OXYBUTYNIN,
    SODIUM_CHLORIDE,
    GABAPENTIN,
    CLONIDINE,
    ACETAMINOPHEN,
    TOPIRAMATE,
    AMOXICILLIN,
    INSULIN_GLARGINE,
    INSULIN_LISPRO,
    METOPROLOL,
    SERTRALINE,
    LEVOTHYROXINE,
    FUROSEMIDE,
    CETIRIZINE,
)

# Shared Medication resources, reached by medicationReference (so `_include` matters).
SHARED_MEDICATIONS: tuple[Drug, ...] = (OMEPRAZOLE, CLONIDINE, INSULIN_GLARGINE)


def medication_id(drug: Drug) -> str:
    return f"med-{drug.key}"


CLINICIANS: tuple[Clinician, ...] = (
    Clinician(PHYSICIAN_USER_ID, "Amara", "Okafor", "MD", ("208000000X", "Pediatrics"), LAKESIDE, 1, "9990000101"),
    Clinician(
        "henrik-larsen",
        "Henrik",
        "Larsen",
        "MD",
        ("2084N0402X", "Neurology with Special Qualifications in Child Neurology"),
        LAKESIDE,
        2,
        "9990000102",
    ),
    Clinician(
        "priya-raman", "Priya", "Raman", "MD", ("2080P0214X", "Pediatric Pulmonology"), LAKESIDE, 3, "9990000103"
    ),
    Clinician(
        "mateo-alvarez",
        "Mateo",
        "Alvarez",
        "MD",
        ("2080P0206X", "Pediatric Gastroenterology"),
        LAKESIDE,
        4,
        "9990000104",
    ),
    Clinician(
        "grace-whitfield", "Grace", "Whitfield", "MD", ("207X00000X", "Orthopaedic Surgery"), LAKESIDE, 5, "9990000105"
    ),
    Clinician(
        "samuel-osei",
        "Samuel",
        "Osei",
        "MD",
        ("208100000X", "Physical Medicine & Rehabilitation"),
        LAKESIDE,
        6,
        "9990000106",
    ),
    Clinician(
        COORDINATOR_USER_ID, "Jordan", "Lee", "RN", ("163W00000X", "Registered Nurse"), LAKESIDE, 7, "9990000107"
    ),
    Clinician(
        "rosa-delgado", "Rosa", "Delgado", "RN", ("163W00000X", "Registered Nurse"), BRIGHT_PATH, 8, "9990000108"
    ),
    Clinician(
        "elena-petrov", "Elena", "Petrov", "MD", ("2080P0205X", "Pediatric Endocrinology"), LAKESIDE, 9, "9990000109"
    ),
    Clinician(
        "kwame-mensah", "Kwame", "Mensah", "MD", ("2080P0202X", "Pediatric Cardiology"), LAKESIDE, 10, "9990000110"
    ),
    Clinician("omar-haddad", "Omar", "Haddad", "MD", ("207Q00000X", "Family Medicine"), RIVERSIDE, 11, "9990000111"),
    Clinician("hannah-kim", "Hannah", "Kim", "AuD", ("231H00000X", "Audiologist"), LAKESIDE, 12, "9990000112"),
    Clinician("luis-ortega", "Luis", "Ortega", "MD", ("207Y00000X", "Otolaryngology"), LAKESIDE, 13, "9990000113"),
)
CLINICIAN_BY_ID = {c.id: c for c in CLINICIANS}

MEDICAL_PRACTITIONER = coding(SNOMED, "158965000", "Medical practitioner")
CARE_COORDINATOR = coding(SNOMED, "768820003", "Care coordinator")
CAREGIVER = coding(SNOMED, "133932002", "Caregiver")


# --- Shared resources: organisations, practitioners, medications --------------------------------


def organization(id_: str, name: str, kind: tuple[str, str], phone_n: int, city: str, updated: date) -> Resource:
    return resource(
        "Organization",
        id_,
        updated,
        active=True,
        type=[concept(kind[1], coding(ORGANIZATION_TYPE, *kind))],
        name=name,
        telecom=[phone(fictional_phone(phone_n))],
        address=[{**address("100 Harbor Street", city), "use": "work"}],
    )


def organizations(t: Timeline) -> list[Resource]:
    updated = t.ago(400)
    return [
        organization(
            LAKESIDE, "Lakeside Children's Hospital", ("prov", "Healthcare Provider"), 20, "Millbrook", updated
        ),
        organization(
            BRIGHT_PATH, "Bright Path Home Health & Nursing", ("prov", "Healthcare Provider"), 21, "Millbrook", updated
        ),
        organization(NORTHWIND, "Northwind Medical Supply (DME)", ("other", "Other"), 22, "Eastfield", updated),
        organization(RIVERSIDE, "Riverside Family Health", ("prov", "Healthcare Provider"), 23, "Riverside", updated),
    ]


def practitioner(c: Clinician, updated: date) -> Resource:
    prefix = "Dr." if c.credential in ("MD", "DO", "AuD") else ""
    return resource(
        "Practitioner",
        c.id,
        updated,
        identifier=[{"system": NPI, "value": c.npi}],
        active=True,
        name=[human_name(c.given, c.family, prefix=prefix, suffix=c.credential)],
        telecom=[phone(fictional_phone(c.phone))],
    )


def role_codes(c: Clinician) -> list[dict[str, Any]]:
    if c.id == COORDINATOR_USER_ID:
        return [concept("Care coordinator", CARE_COORDINATOR)]
    if c.credential == "MD":
        return [concept(c.specialty[1], MEDICAL_PRACTITIONER)]
    return []


def practitioner_role(c: Clinician, updated: date) -> Resource:
    return resource(
        "PractitionerRole",
        c.role_id,
        updated,
        active=True,
        practitioner=reference("Practitioner", c.id, c.display),
        organization=reference("Organization", c.organization),
        code=role_codes(c),
        specialty=[concept(c.specialty[1], coding(NUCC, *c.specialty))],
        telecom=[phone(fictional_phone(c.phone))],
    )


def shared_medication(drug: Drug, updated: date) -> Resource:
    return resource("Medication", medication_id(drug), updated, code=drug.code(), status="active")


def shared_resources(t: Timeline) -> list[Resource]:
    updated = t.ago(400)
    people = [builder(c, updated) for c in CLINICIANS for builder in (practitioner, practitioner_role)]
    return [*organizations(t), *people, *(shared_medication(d, updated) for d in SHARED_MEDICATIONS)]


# --- Patient-owned resource builders -------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """Builds the resources of one patient: ids are prefixed with the patient id."""

    patient_id: str
    t: Timeline

    @property
    def subject(self) -> dict[str, str]:
        return reference("Patient", self.patient_id)

    def id(self, kind: str, key: str) -> str:
        return f"{self.patient_id}-{kind}-{key}"

    def condition(
        self,
        problem: Problem,
        *,
        onset: date,
        clinical: str | None = "active",
        verification: str = "confirmed",
        health_concern: bool = False,
        category: str | None = "problem-list-item",  # "encounter-diagnosis", or None: R4 allows no category
        abated: date | None = None,
        recorder: str = PHYSICIAN_USER_ID,
        text_note: str | None = None,
    ) -> Resource:
        if health_concern:
            categories = [concept("Health Concern", coding(US_CORE_CONDITION_CATEGORY, "health-concern",
                                                           "Health Concern"))]
        elif category == "encounter-diagnosis":
            categories = [concept("Encounter Diagnosis", coding(CONDITION_CATEGORY, "encounter-diagnosis",
                                                                "Encounter Diagnosis"))]
        elif category is None:
            categories = []
        else:
            categories = [concept("Problem List Item", coding(CONDITION_CATEGORY, "problem-list-item",
                                                              "Problem List Item"))]
        fields: dict[str, Any] = {}
        if clinical:  # FHIR con-5: no clinicalStatus on an entered-in-error condition
            fields["clinicalStatus"] = status_concept(CONDITION_CLINICAL, clinical)
        fields["verificationStatus"] = status_concept(CONDITION_VERIFICATION, verification)
        if categories:
            fields["category"] = categories
        fields.update(code=problem.code(), subject=self.subject, onsetDateTime=onset.isoformat())
        if abated:
            fields["abatementDateTime"] = abated.isoformat()
        fields.update(recordedDate=onset.isoformat(), recorder=reference("Practitioner", recorder))
        if text_note:
            fields["note"] = note(text_note)
        return resource("Condition", self.id("condition", problem.key), abated or onset, **fields)

    def medication_request(
        self,
        key: str,
        medication: dict[str, Any],
        *,
        authored: date,
        dosage: str,
        status: str = "active",
        requester: str = PHYSICIAN_USER_ID,
        reason: Problem | None = None,
        status_reason: str | None = None,
        contained: list[Resource] | None = None,
    ) -> Resource:
        fields: dict[str, Any] = {"contained": contained} if contained else {}
        fields.update(status=status)
        if status_reason:
            fields["statusReason"] = concept(status_reason)
        fields.update(
            intent="order",
            category=[concept("Community", coding(MEDREQ_CATEGORY, "community", "Community"))],
            **medication,
            subject=self.subject,
            authoredOn=authored.isoformat(),
            requester=reference("Practitioner", requester),
            dosageInstruction=[{"text": dosage}],
        )
        if reason:
            fields["reasonReference"] = [reference("Condition", self.id("condition", reason.key))]
        return resource("MedicationRequest", self.id("medreq", key), authored, **fields)

    def coded_order(self, drug: Drug, dosage: str, authored: date, **kw: Any) -> Resource:
        return self.medication_request(
            drug.key, {"medicationCodeableConcept": drug.code()}, authored=authored, dosage=dosage, **kw
        )

    def referenced_order(self, drug: Drug, dosage: str, authored: date, **kw: Any) -> Resource:
        medication = {"medicationReference": reference("Medication", medication_id(drug), drug.name)}
        return self.medication_request(drug.key, medication, authored=authored, dosage=dosage, **kw)

    def medication_statement(
        self, key: str, code: dict[str, Any], *, asserted: date, source: Resource, dosage: str
    ) -> Resource:
        return resource(
            "MedicationStatement",
            self.id("medstatement", key),
            asserted,
            status="active",
            medicationCodeableConcept=code,
            subject=self.subject,
            dateAsserted=asserted.isoformat(),
            informationSource=reference(source["resourceType"], source["id"]),
            dosage=[{"text": dosage}],
        )

    def allergy(
        self,
        key: str,
        code: dict[str, Any],
        *,
        category: str,
        criticality: str,
        recorded: date,
        manifestation: tuple[str, str] | None = None,
        severity: str = "moderate",
        clinical: str = "active",
        text_note: str | None = None,
    ) -> Resource:
        fields: dict[str, Any] = {
            "clinicalStatus": status_concept(ALLERGY_CLINICAL, clinical),
            "verificationStatus": status_concept(ALLERGY_VERIFICATION, "confirmed"),
            "type": "allergy",
            "category": [category],
            "criticality": criticality,
            "code": code,
            "patient": self.subject,
            "recordedDate": recorded.isoformat(),
            "recorder": reference("Practitioner", PHYSICIAN_USER_ID),
        }
        if manifestation:
            fields["reaction"] = [
                {"manifestation": [concept(manifestation[1], coding(SNOMED, *manifestation))], "severity": severity}
            ]
        if text_note:
            fields["note"] = note(text_note)
        return resource("AllergyIntolerance", self.id("allergy", key), recorded, **fields)

    def procedure(self, key: str, code: dict[str, Any], *, performed: date, surgeon: str) -> Resource:
        return resource(
            "Procedure",
            self.id("procedure", key),
            performed,
            status="completed",
            category=concept("Surgical procedure", coding(SNOMED, "387713003", "Surgical procedure")),
            code=code,
            subject=self.subject,
            performedDateTime=performed.isoformat(),
            performer=[{"actor": reference("Practitioner", surgeon)}],
        )

    def device(self, key: str, name: str, snomed: tuple[str, str], *, since: date, owner: str = NORTHWIND) -> Resource:
        return resource(
            "Device",
            self.id("device", key),
            since,
            status="active",
            deviceName=[{"name": name, "type": "user-friendly-name"}],
            type=concept(name, coding(SNOMED, *snomed)),
            patient=self.subject,
            owner=reference("Organization", owner),
        )

    def encounter(
        self,
        key: str,
        cls: tuple[str, str],
        kind: tuple[str, str],
        *,
        start: date,
        days: int = 0,
        clinician: str,
        provider: str = LAKESIDE,
        reason: Problem | None = None,
    ) -> Resource:
        end = start + timedelta(days=days)
        fields: dict[str, Any] = {
            "status": "finished",
            "class": coding(ACT_CODE, *cls),
            "type": [concept(kind[1], coding(SNOMED, *kind))],
            "subject": self.subject,
            "participant": [
                {
                    "type": [concept("attender", coding(PARTICIPATION_TYPE, "ATND", "attender"))],
                    "individual": reference("Practitioner", clinician, CLINICIAN_BY_ID[clinician].display),
                }
            ],
            "period": {"start": instant(start, 9), "end": instant(end, 11 if days == 0 else 15)},
            "serviceProvider": reference("Organization", provider),
        }
        if reason:
            fields["diagnosis"] = [{"condition": reference("Condition", self.id("condition", reason.key))}]
        return resource("Encounter", self.id("encounter", key), min(end, self.t.today), **fields)

    def service_request(
        self,
        key: str,
        code: dict[str, Any],
        *,
        authored: date,
        requester: str,
        performer: dict[str, str],
        status: str = "active",
        reason: Problem | None = None,
        text_note: str | None = None,
    ) -> Resource:
        fields: dict[str, Any] = {
            "status": status,
            "intent": "order",
            "category": [concept("Patient referral", coding(SNOMED, "3457005", "Patient referral"))],
            "code": code,
            "subject": self.subject,
            "authoredOn": authored.isoformat(),
            "requester": reference("Practitioner", requester),
            "performer": [performer],
        }
        if reason:
            fields["reasonReference"] = [reference("Condition", self.id("condition", reason.key))]
        if text_note:
            fields["note"] = note(text_note)
        return resource("ServiceRequest", self.id("servicerequest", key), authored, **fields)

    def goal(
        self,
        key: str,
        text: str,
        *,
        start: date,
        due: date,
        expressed_by: dict[str, str],
        addresses: Iterable[Problem] = (),
    ) -> Resource:
        fields: dict[str, Any] = {
            "lifecycleStatus": "active",
            "achievementStatus": concept("In Progress", coding(GOAL_ACHIEVEMENT, "in-progress", "In Progress")),
            "description": {"text": text},
            "subject": self.subject,
            "startDate": start.isoformat(),
            "target": [{"dueDate": due.isoformat()}],
            "expressedBy": expressed_by,
        }
        conditions = [reference("Condition", self.id("condition", p.key)) for p in addresses]
        if conditions:
            fields["addresses"] = conditions
        return resource("Goal", self.id("goal", key), start, **fields)

    def related_person(self, key: str, given: str, family: str, relation: tuple[str, str], phone_n: int) -> Resource:
        return resource(
            "RelatedPerson",
            self.id("relatedperson", key),
            self.t.ago(200),
            active=True,
            patient=self.subject,
            relationship=[concept(relation[1].capitalize(), coding(ROLE_CODE, *relation))],
            name=[human_name(given, family)],
            telecom=[phone(fictional_phone(phone_n), "mobile")],
        )

    def care_team(
        self, name: str, members: Iterable[tuple[dict[str, Any], dict[str, str]]], *, since: date
    ) -> Resource:
        return resource(
            "CareTeam",
            self.id("careteam", "longitudinal"),
            since,
            status="active",
            category=[
                concept(
                    "Longitudinal care-coordination focused care team",
                    coding(LOINC, "LA28865-6", "Longitudinal care-coordination focused care team"),
                )
            ],
            name=name,
            subject=self.subject,
            period={"start": since.isoformat()},
            participant=[{"role": [role], "member": member} for role, member in members],
            managingOrganization=[reference("Organization", LAKESIDE)],
        )

    def care_plan(
        self, *, title: str, description: str, since: date, addresses: Iterable[Problem], goals: Iterable[str]
    ) -> Resource:
        return resource(
            "CarePlan",
            self.id("careplan", "complex-care"),
            since,
            status="active",
            intent="plan",
            category=[
                concept(
                    "Assessment and Plan of Treatment",
                    coding(US_CORE_CAREPLAN_CATEGORY, "assess-plan", "Assessment and Plan of Treatment"),
                )
            ],
            title=title,
            description=description,
            subject=self.subject,
            period={"start": since.isoformat()},
            created=since.isoformat(),
            author=reference("Practitioner", PHYSICIAN_USER_ID),
            careTeam=[reference("CareTeam", self.id("careteam", "longitudinal"))],
            addresses=[reference("Condition", self.id("condition", p.key)) for p in addresses],
            goal=[reference("Goal", self.id("goal", g)) for g in goals],
        )

    def advance_care_plan(self, *, created: date, summary: str) -> Resource:
        return resource(
            "DocumentReference",
            self.id("document", "advance-care-plan"),
            created,
            status="current",
            docStatus="final",
            type=concept("Personal advance care plan", coding(LOINC, "81334-5", "Patient Personal advance care plan")),
            category=[concept("Advance directives", coding(LOINC, "42348-3", "Advance directives"))],
            subject=self.subject,
            date=instant(created),
            author=[reference("Practitioner", PHYSICIAN_USER_ID)],
            description=summary,
            content=[
                {
                    "attachment": {
                        "contentType": "text/plain",
                        "data": base64.b64encode(summary.encode()).decode(),
                        "title": "Advance care plan",
                        "creation": instant(created),
                    }
                }
            ],
        )


def patient(
    c: Chart,
    *,
    given: str,
    family: str,
    gender: str,
    born: date,
    mrn: str,
    home: dict[str, Any],
    phone_n: int,
    languages: tuple[tuple[str, str], ...],
    guardian: Resource | None,
    pcp: str,
) -> Resource:
    fields: dict[str, Any] = {
        "identifier": [
            {
                "use": "usual",
                "type": concept("Medical record number", coding(IDENTIFIER_TYPE, "MR", "Medical record number")),
                "system": MRN_SYSTEM,
                "value": mrn,
            }
        ],
        "active": True,
        "name": [human_name(given, family)],
        "telecom": [phone(fictional_phone(phone_n), "home")],
        "gender": gender,
        "birthDate": born.isoformat(),
        "address": [home],
    }
    if guardian:
        fields["contact"] = [
            {
                "relationship": [
                    concept(
                        "Mother and legal guardian",
                        coding(ROLE_CODE, "MTH", "mother"),
                        coding(ROLE_CODE, "GUARD", "guardian"),
                    ),
                    concept("Emergency contact", coding(CONTACT_ROLE, "C", "Emergency Contact")),
                ],
                "name": guardian["name"][0],
                "telecom": guardian["telecom"],
            }
        ]
    fields["communication"] = [
        {"language": concept(name, coding(BCP47, code, name)), "preferred": i == 0}
        for i, (code, name) in enumerate(languages)
    ]
    fields["generalPractitioner"] = [reference("Practitioner", pcp)]
    fields["managingOrganization"] = reference("Organization", LAKESIDE)
    return resource("Patient", c.patient_id, c.t.ago(30), **fields)


def role_member(role: dict[str, Any], clinician_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    clinician = CLINICIAN_BY_ID[clinician_id]
    return role, reference("PractitionerRole", clinician.role_id, clinician.display)


def specialist(clinician_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    clinician = CLINICIAN_BY_ID[clinician_id]
    return role_member(concept(clinician.specialty[1], MEDICAL_PRACTITIONER), clinician_id)


AMBULATORY = ("AMB", "ambulatory")
EMERGENCY = ("EMER", "emergency")
INPATIENT = ("IMP", "inpatient encounter")
HOME_HEALTH = ("HH", "home health")
CHECK_UP = ("185349003", "Encounter for check up")
PROBLEM_VISIT = ("185347001", "Encounter for problem")
ED_ADMISSION = ("50849002", "Emergency room admission")
HOSPITAL_ADMISSION = ("32485007", "Hospital admission")
HOME_VISIT = ("439708006", "Home visit")


# --- Patient 1: Sofia Rivera, 8 y, child with medical complexity ---------------------------------

SOFIA_ACTIVE_PROBLEMS: tuple[tuple[Problem, int], ...] = (  # (problem, onset in days after birth)
    (CEREBRAL_PALSY, 270),
    (EPILEPSY, 400),
    (GASTROSTOMY_STATUS, 420),
    (TRACHEOSTOMY_STATUS, 700),
    (CHRONIC_RESPIRATORY_FAILURE, 690),
    (VENTILATOR_DEPENDENCE, 700),
    (GERD, 150),
    (NEUROGENIC_BLADDER, 1500),
    (SCOLIOSIS, 1800),
    (DEVELOPMENTAL_DELAY, 240),
    (DYSPHAGIA, 200),
    (OSTEOPENIA, 2200),
    (CONSTIPATION, 500),
    (SIALORRHEA, 900),
)

# (clinician, days ago, reason) for the clinic visits of the last 24 months.
SOFIA_CLINIC_VISITS: tuple[tuple[str, int, Problem], ...] = (
    (PHYSICIAN_USER_ID, 20, CEREBRAL_PALSY),
    (PHYSICIAN_USER_ID, 120, CEREBRAL_PALSY),
    (PHYSICIAN_USER_ID, 400, CEREBRAL_PALSY),
    ("henrik-larsen", 45, EPILEPSY),
    ("henrik-larsen", 230, EPILEPSY),
    ("henrik-larsen", 430, EPILEPSY),
    ("priya-raman", 75, CHRONIC_RESPIRATORY_FAILURE),
    ("priya-raman", 260, CHRONIC_RESPIRATORY_FAILURE),
    ("priya-raman", 520, CHRONIC_RESPIRATORY_FAILURE),
    ("mateo-alvarez", 100, GERD),
    ("mateo-alvarez", 470, DYSPHAGIA),
    ("grace-whitfield", 330, SCOLIOSIS),
    ("grace-whitfield", 270, SCOLIOSIS),
    ("grace-whitfield", 600, SCOLIOSIS),
    ("samuel-osei", 180, CEREBRAL_PALSY),
    ("samuel-osei", 650, CEREBRAL_PALSY),
)


def sofia(t: Timeline) -> list[Resource]:
    c = Chart(CHILD_ID, t)
    born = t.born(8, 97)
    mother = c.related_person("mother", "Ana Lucía", "Rivera", ("MTH", "mother"), 40)
    father = c.related_person("father", "Luis", "Rivera", ("FTH", "father"), 41)
    home = address("1428 Alder Lane, Apt 3", "Millbrook")
    record = [
        patient(
            c,
            given="Sofia Isabel",
            family="Rivera",
            gender="female",
            born=born,
            mrn="SB-100001",
            home=home,
            phone_n=42,
            languages=(("es", "Spanish"), ("en", "English")),
            guardian=mother,
            pcp=PHYSICIAN_USER_ID,
        ),
        mother,
        father,
        *sofia_conditions(c, born),
        *sofia_medications(c, mother),
        *sofia_allergies(c, born),
        *sofia_procedures(c, born),
        *sofia_equipment(c, born, mother),
        sofia_care_team(c, mother),
        *sofia_encounters(c),
        *sofia_services(c),
        *sofia_plans(c, mother),
    ]
    return record


def sofia_conditions(c: Chart, born: date) -> Iterator[Resource]:
    for problem, onset_day in SOFIA_ACTIVE_PROBLEMS:
        yield c.condition(problem, onset=born + timedelta(days=onset_day))
    yield c.condition(
        CAREGIVER_STRAIN,
        onset=c.t.ago(90),
        health_concern=True,
        recorder=COORDINATOR_USER_ID,
        text_note="Mother covers most overnight shifts; 40 of 56 approved nursing hours are staffed.",
    )
    yield c.condition(TRANSPORT, onset=c.t.ago(60), health_concern=True, recorder=COORDINATOR_USER_ID)
    yield c.condition(ASPIRATION_PNEUMONIA, onset=c.t.ago(152), clinical="resolved", abated=c.t.ago(130))
    yield c.condition(
        ASTHMA,
        onset=c.t.ago(300),
        clinical=None,
        verification="entered-in-error",
        text_note="Recorded on the wrong chart; see pulmonology note.",
    )


def sofia_medications(c: Chart, mother: Resource) -> list[Resource]:
    t = c.t
    glycopyrrolate = {
        "resourceType": "Medication",
        "id": "med1",
        "code": {"text": "Glycopyrrolate 0.2 mg/mL compounded oral solution"},
    }
    return [
        c.coded_order(
            LEVETIRACETAM,
            "300 mg (3 mL) via G-tube twice daily",
            t.ago(210),
            requester="henrik-larsen",
            reason=EPILEPSY,
        ),
        c.coded_order(
            BACLOFEN, "10 mg via G-tube three times daily", t.ago(180), requester="samuel-osei", reason=CEREBRAL_PALSY
        ),
        c.referenced_order(
            OMEPRAZOLE,
            "10 mg via G-tube once daily before first feed",
            t.ago(100),
            requester="mateo-alvarez",
            reason=GERD,
        ),
        c.coded_order(
            POLYETHYLENE_GLYCOL,
            "8.5 g in 120 mL water via G-tube once daily",
            t.ago(100),
            requester="mateo-alvarez",
            reason=CONSTIPATION,
        ),
        c.coded_order(
            ALBUTEROL,
            "2.5 mg nebulized via trach every 4 hours as needed for wheeze",
            t.ago(75),
            requester="priya-raman",
            reason=CHRONIC_RESPIRATORY_FAILURE,
        ),
        c.coded_order(
            BUDESONIDE,
            "0.5 mg nebulized via trach twice daily",
            t.ago(75),
            requester="priya-raman",
            reason=CHRONIC_RESPIRATORY_FAILURE,
        ),
        c.coded_order(
            SODIUM_CHLORIDE,
            "3% saline 3 mL nebulized twice daily for secretions",
            t.ago(75),
            requester="priya-raman",
            reason=CHRONIC_RESPIRATORY_FAILURE,
        ),
        c.coded_order(
            MIDAZOLAM,
            "5 mg intranasal once for seizure longer than 5 minutes; may repeat once",
            t.ago(45),
            requester="henrik-larsen",
            reason=EPILEPSY,
        ),
        c.coded_order(OXYBUTYNIN, "2.5 mg via G-tube twice daily", t.ago(330), reason=NEUROGENIC_BLADDER),
        c.coded_order(
            GABAPENTIN,
            "100 mg via G-tube three times daily for neuro-irritability",
            t.ago(180),
            requester="samuel-osei",
            reason=CEREBRAL_PALSY,
        ),
        c.referenced_order(CLONIDINE, "0.05 mg via G-tube at bedtime for sleep", t.ago(120)),
        c.coded_order(ACETAMINOPHEN, "240 mg via G-tube every 6 hours as needed for pain or fever", t.ago(20)),
        c.medication_request(
            "glycopyrrolate",
            {"medicationReference": {"reference": "#med1", "display": "glycopyrrolate (compounded)"}},
            contained=[glycopyrrolate],
            authored=t.ago(120),
            dosage="1 mg via G-tube three times daily for drooling",
            reason=SIALORRHEA,
        ),
        c.coded_order(
            TOPIRAMATE,
            "25 mg via G-tube twice daily",
            t.ago(500),
            status="stopped",
            requester="henrik-larsen",
            status_reason="Stopped: replaced by levetiracetam after breakthrough seizures",
            reason=EPILEPSY,
        ),
        c.coded_order(
            AMOXICILLIN,
            "400 mg via G-tube twice daily for 7 days",
            t.ago(40),
            status="entered-in-error",
            status_reason="Ordered on the wrong patient",
        ),
        c.medication_statement(
            "levetiracetam",
            LEVETIRACETAM.code(),
            asserted=t.ago(20),
            source=mother,
            dosage="300 mg twice daily, as given at home",
        ),
        c.medication_statement(
            "melatonin",
            concept("Melatonin 1 mg (over the counter)"),
            asserted=t.ago(20),
            source=mother,
            dosage="1 mg at bedtime",
        ),
    ]


def sofia_allergies(c: Chart, born: date) -> list[Resource]:
    return [
        c.allergy(
            "latex",
            concept("Latex", coding(SNOMED, "300916003", "Latex allergy")),
            category="environment",
            criticality="high",
            recorded=born + timedelta(days=800),
            manifestation=("126485001", "Urticaria"),
            severity="severe",
        ),
        c.allergy(
            "penicillin",
            concept("Penicillin", coding(SNOMED, "91936005", "Allergy to penicillin")),
            category="medication",
            criticality="low",
            recorded=born + timedelta(days=1100),
            manifestation=("271807003", "Eruption of skin"),
        ),
        c.allergy(
            "egg",
            concept("Egg", coding(SNOMED, "91930004", "Allergy to eggs")),
            category="food",
            criticality="low",
            recorded=born + timedelta(days=365),
            clinical="inactive",
            text_note="Outgrown; tolerates baked egg in formula blend.",
        ),
    ]


def sofia_procedures(c: Chart, born: date) -> list[Resource]:
    return [
        c.procedure(
            "gastrostomy",
            concept("Gastrostomy tube insertion", coding(SNOMED, "54956002", "Gastrostomy")),
            performed=born + timedelta(days=420),
            surgeon="mateo-alvarez",
        ),
        c.procedure(
            "tracheostomy",
            concept("Tracheostomy", coding(SNOMED, "48387007", "Tracheostomy")),
            performed=born + timedelta(days=700),
            surgeon="priya-raman",
        ),
        c.procedure(
            "spinal-fusion",
            concept("Posterior spinal fusion T2-pelvis", coding(SNOMED, "55705006", "Spinal fusion")),
            performed=c.t.ago(300),
            surgeon="grace-whitfield",
        ),
    ]


GENERIC_DEVICE = ("49062001", "Device")  # SNOMED parent concept where no specific code was confirmed


def sofia_equipment(c: Chart, born: date, mother: Resource) -> list[Resource]:
    t = c.t
    ventilated_since = born + timedelta(days=760)
    ventilator = c.device(
        "ventilator",
        "Home mechanical ventilator",
        ("464002006", "Portable ventilator, electric"),
        since=ventilated_since,
    )
    return [
        c.device(
            "trach-tube",
            "Tracheostomy tube, cuffless 4.0 pediatric",
            ("129121000", "Tracheostomy tube"),
            since=t.ago(30),
        ),
        ventilator,
        c.device("feeding-pump", "Enteral feeding pump", GENERIC_DEVICE, since=t.ago(400)),
        c.device("g-button", "Low-profile gastrostomy button 14 Fr", GENERIC_DEVICE, since=t.ago(90)),
        c.device("wheelchair", "Tilt-in-space manual wheelchair", ("228869008", "Manual wheelchair"), since=t.ago(500)),
        c.device("suction", "Portable suction machine", GENERIC_DEVICE, since=t.ago(700)),
        c.device(
            "spinal-rods",
            "Spinal rod fixation system",
            ("303947005", "Rod fixation system"),
            since=t.ago(300),
            owner=LAKESIDE,
        ),
        resource(
            "DeviceUseStatement",
            c.id("deviceuse", "ventilator"),
            t.ago(30),
            status="active",
            subject=c.subject,
            timingPeriod={"start": ventilated_since.isoformat()},
            recordedOn=instant(t.ago(30)),
            source=reference("RelatedPerson", mother["id"]),
            device=reference("Device", ventilator["id"]),
            reasonReference=[reference("Condition", c.id("condition", VENTILATOR_DEPENDENCE.key))],
            note=note("Ventilated overnight and during naps; off the ventilator for school hours."),
        ),
        resource(
            "DeviceRequest",
            c.id("devicerequest", "pulse-oximeter"),
            t.ago(14),
            status="active",
            intent="order",
            codeCodeableConcept=concept(
                "Home pulse oximeter with alarm", coding(SNOMED, "448703006", "Pulse oximeter")
            ),
            subject=c.subject,
            authoredOn=t.ago(14).isoformat(),
            requester=reference("Practitioner", "priya-raman"),
            performer=reference("Organization", NORTHWIND),
            reasonReference=[reference("Condition", c.id("condition", CHRONIC_RESPIRATORY_FAILURE.key))],
        ),
    ]


def sofia_care_team(c: Chart, mother: Resource) -> Resource:
    members = [
        role_member(concept("Primary care pediatrician", MEDICAL_PRACTITIONER), PHYSICIAN_USER_ID),
        *(specialist(s) for s in ("henrik-larsen", "priya-raman", "mateo-alvarez", "grace-whitfield", "samuel-osei")),
        role_member(concept("Care coordinator", CARE_COORDINATOR), COORDINATOR_USER_ID),
        role_member(concept("Home health nurse", coding(SNOMED, "224535009", "Registered nurse")), "rosa-delgado"),
        (
            concept("Mother and primary caregiver", CAREGIVER),
            reference("RelatedPerson", mother["id"], "Ana Lucía Rivera"),
        ),
    ]
    return c.care_team("Sofia's complex care team", members, since=c.t.ago(900))


def sofia_encounters(c: Chart) -> list[Resource]:
    t = c.t
    visits = [
        c.encounter(
            f"clinic-{days}",
            AMBULATORY,
            CHECK_UP if who == PHYSICIAN_USER_ID else PROBLEM_VISIT,
            start=t.ago(days),
            clinician=who,
            reason=reason,
        )
        for who, days, reason in SOFIA_CLINIC_VISITS
    ]
    return [
        *visits,
        c.encounter(
            "home-visit", HOME_HEALTH, HOME_VISIT, start=t.ago(10), clinician="rosa-delgado", provider=BRIGHT_PATH
        ),
        c.encounter("ed-seizure", EMERGENCY, ED_ADMISSION, start=t.ago(60), clinician="henrik-larsen", reason=EPILEPSY),
        c.encounter(
            "ed-trach", EMERGENCY, ED_ADMISSION, start=t.ago(210), clinician="priya-raman", reason=TRACHEOSTOMY_STATUS
        ),
        c.encounter(
            "ed-g-tube", EMERGENCY, ED_ADMISSION, start=t.ago(480), clinician="mateo-alvarez", reason=GASTROSTOMY_STATUS
        ),
        c.encounter(
            "admission-pneumonia",
            INPATIENT,
            HOSPITAL_ADMISSION,
            start=t.ago(152),
            days=6,
            clinician="priya-raman",
            reason=ASPIRATION_PNEUMONIA,
        ),
        c.encounter(
            "admission-spinal-fusion",
            INPATIENT,
            HOSPITAL_ADMISSION,
            start=t.ago(300),
            days=5,
            clinician="grace-whitfield",
            reason=SCOLIOSIS,
        ),
    ]


def sofia_services(c: Chart) -> list[Resource]:
    t = c.t
    home_health = reference("Organization", BRIGHT_PATH, "Bright Path Home Health & Nursing")
    return [
        c.service_request(
            "home-nursing",
            concept("Private duty home nursing, 56 hours per week"),
            authored=t.ago(90),
            requester=PHYSICIAN_USER_ID,
            performer=home_health,
            reason=VENTILATOR_DEPENDENCE,
        ),
        c.service_request(
            "physical-therapy",
            concept("Physical therapy", coding(SNOMED, "91251008", "Physical therapy procedure")),
            authored=t.ago(180),
            requester="samuel-osei",
            performer=home_health,
            reason=CEREBRAL_PALSY,
        ),
        c.service_request(
            "occupational-therapy",
            concept("Occupational therapy", coding(SNOMED, "84478008", "Occupational therapy")),
            authored=t.ago(180),
            requester="samuel-osei",
            performer=home_health,
            reason=CEREBRAL_PALSY,
        ),
        c.service_request(
            "speech-therapy",
            concept("Speech and feeding therapy", coding(SNOMED, "5154007", "Speech therapy")),
            authored=t.ago(100),
            requester="mateo-alvarez",
            performer=home_health,
            reason=DYSPHAGIA,
        ),
        c.service_request(
            "orthopaedic-referral",
            concept("Referral to orthopaedic surgery for scoliosis"),
            authored=t.ago(620),
            requester=PHYSICIAN_USER_ID,
            status="completed",
            performer=reference("PractitionerRole", CLINICIAN_BY_ID["grace-whitfield"].role_id),
            reason=SCOLIOSIS,
        ),
    ]


def sofia_plans(c: Chart, mother: Resource) -> list[Resource]:
    t = c.t
    return [
        c.goal(
            "stay-home",
            "Stay out of the hospital for respiratory illness this winter",
            start=t.ago(90),
            due=t.ago(-120),
            expressed_by=reference("RelatedPerson", mother["id"]),
            addresses=(CHRONIC_RESPIRATORY_FAILURE,),
        ),
        c.goal(
            "school",
            "Attend school at least four days a week with her nurse",
            start=t.ago(60),
            due=t.ago(-180),
            expressed_by=reference("Practitioner", COORDINATOR_USER_ID),
        ),
        c.care_plan(
            title="Complex care plan",
            since=t.ago(200),
            description="Coordinated respiratory, neurology, nutrition and mobility care at home.",
            addresses=(CEREBRAL_PALSY, EPILEPSY, CHRONIC_RESPIRATORY_FAILURE),
            goals=("stay-home", "school"),
        ),
        c.advance_care_plan(
            created=t.ago(240),
            summary="Family wishes: full treatment including intubation and ICU care; "
            "revisit goals of care at each admission.",
        ),
    ]


# --- Patient 2: Daniel O'Connor, 16 y, type 1 diabetes and hypertrophic cardiomyopathy ----------

HOSTILE_NOTE = 'Patient says "I\'m fine" <script>alert(1)</script> & skips checks.'


def daniel(t: Timeline) -> list[Resource]:
    c = Chart(TEEN_ID, t)
    born = t.born(16, 40)
    mother = c.related_person("mother", "Karen", "O'Connor", ("MTH", "mother"), 50)
    members = [
        role_member(concept("Primary care physician", MEDICAL_PRACTITIONER), "omar-haddad"),
        specialist("elena-petrov"),
        specialist("kwame-mensah"),
        role_member(concept("Care coordinator", CARE_COORDINATOR), COORDINATOR_USER_ID),
        (concept("Mother", CAREGIVER), reference("RelatedPerson", mother["id"], "Karen O'Connor")),
    ]
    return [
        patient(
            c,
            given="Daniel James",
            family="O'Connor",
            gender="male",
            born=born,
            mrn="SB-100002",
            home=address("77 Birch <Court>", "Riverside"),
            phone_n=51,
            languages=(("en", "English"),),
            guardian=mother,
            pcp="omar-haddad",
        ),
        mother,
        c.condition(
            TYPE_1_DIABETES, onset=born + timedelta(days=9 * 365), recorder="elena-petrov", text_note=HOSTILE_NOTE
        ),
        c.condition(HYPERTROPHIC_CARDIOMYOPATHY, onset=born + timedelta(days=13 * 365), recorder="kwame-mensah"),
        c.condition(CELIAC, onset=born + timedelta(days=11 * 365)),
        c.condition(ANXIETY, onset=t.ago(400), recorder="omar-haddad"),
        c.condition(DKA, onset=t.ago(700), clinical="resolved", abated=t.ago(694), recorder="elena-petrov"),
        c.referenced_order(
            INSULIN_GLARGINE,
            "18 units subcutaneously at bedtime (pump backup)",
            t.ago(90),
            requester="elena-petrov",
            reason=TYPE_1_DIABETES,
        ),
        c.coded_order(
            INSULIN_LISPRO,
            "Via insulin pump; basal 0.7 units/hour, carb ratio 1:10",
            t.ago(90),
            requester="elena-petrov",
            reason=TYPE_1_DIABETES,
        ),
        c.coded_order(
            METOPROLOL,
            "25 mg by mouth twice daily",
            t.ago(150),
            requester="kwame-mensah",
            reason=HYPERTROPHIC_CARDIOMYOPATHY,
        ),
        c.coded_order(
            SERTRALINE,
            "50 mg by mouth once daily <b>with breakfast</b>",
            t.ago(200),
            requester="omar-haddad",
            reason=ANXIETY,
        ),
        c.allergy(
            "peanut",
            concept("Peanut", coding(SNOMED, "91935009", "Allergy to peanut")),
            category="food",
            criticality="high",
            recorded=born + timedelta(days=3 * 365),
            manifestation=("39579001", "Anaphylaxis"),
            severity="severe",
            text_note="Carries epinephrine <img src=x onerror=alert(2)> at school.",
        ),
        c.device("insulin-pump", "Insulin pump", ("69805005", "Insulin pump"), since=t.ago(365)),
        c.device(
            "icd",
            "Implantable cardioverter-defibrillator",
            ("72506001", "Implantable defibrillator"),
            since=t.ago(500),
            owner=LAKESIDE,
        ),
        c.procedure(
            "echo",
            concept("Echocardiogram", coding(SNOMED, "40701008", "Echocardiography")),
            performed=t.ago(150),
            surgeon="kwame-mensah",
        ),
        c.care_team("Daniel's care team", members, since=t.ago(700)),
        c.encounter(
            "clinic-endo", AMBULATORY, PROBLEM_VISIT, start=t.ago(90), clinician="elena-petrov", reason=TYPE_1_DIABETES
        ),
        c.encounter(
            "clinic-cardio",
            AMBULATORY,
            PROBLEM_VISIT,
            start=t.ago(150),
            clinician="kwame-mensah",
            reason=HYPERTROPHIC_CARDIOMYOPATHY,
        ),
        c.encounter("clinic-pcp", AMBULATORY, CHECK_UP, start=t.ago(200), clinician="omar-haddad", provider=RIVERSIDE),
        c.encounter(
            "ed-hypoglycemia",
            EMERGENCY,
            ED_ADMISSION,
            start=t.ago(95),
            clinician="elena-petrov",
            reason=TYPE_1_DIABETES,
        ),
        c.service_request(
            "diabetes-education",
            concept("Diabetes self-management education"),
            authored=t.ago(90),
            requester="elena-petrov",
            performer=reference("PractitionerRole", CLINICIAN_BY_ID[COORDINATOR_USER_ID].role_id),
            reason=TYPE_1_DIABETES,
            text_note="Family asks for sessions after 4 pm & on weekends.",
        ),
        c.goal(
            "a1c",
            "Keep HbA1c below 7.5%",
            start=t.ago(90),
            due=t.ago(-90),
            expressed_by=reference("Practitioner", "elena-petrov"),
            addresses=(TYPE_1_DIABETES,),
        ),
    ]


# --- Patient 3: Leo Tran, 2 y, Down syndrome with repaired AVSD and hearing loss ----------------


def leo(t: Timeline) -> list[Resource]:
    c = Chart(TODDLER_ID, t)
    born = t.born(2, 75)
    father = c.related_person("father", "Minh", "Tran", ("FTH", "father"), 60)
    mother = c.related_person("mother", "Linh", "Tran", ("MTH", "mother"), 61)
    members = [
        role_member(concept("Primary care pediatrician", MEDICAL_PRACTITIONER), PHYSICIAN_USER_ID),
        specialist("kwame-mensah"),
        specialist("luis-ortega"),
        role_member(concept("Audiologist", coding(NUCC, "231H00000X", "Audiologist")), "hannah-kim"),
        role_member(concept("Care coordinator", CARE_COORDINATOR), COORDINATOR_USER_ID),
        (concept("Father", CAREGIVER), reference("RelatedPerson", father["id"], "Minh Tran")),
    ]
    return [
        patient(
            c,
            given="Leo",
            family="Tran",
            gender="male",
            born=born,
            mrn="SB-100003",
            home=address("5 Quarry Road", "Eastfield"),
            phone_n=62,
            languages=(("vi", "Vietnamese"), ("en", "English")),
            guardian=mother,
            pcp=PHYSICIAN_USER_ID,
        ),
        father,
        mother,
        c.condition(DOWN_SYNDROME, onset=born),
        c.condition(AVSD, onset=born, recorder="kwame-mensah"),
        c.condition(HEARING_LOSS, onset=born + timedelta(days=60), recorder="luis-ortega"),
        c.condition(HYPOTHYROIDISM, onset=born + timedelta(days=200)),
        c.condition(SLEEP_APNEA, onset=t.ago(120), recorder="luis-ortega"),
        c.coded_order(LEVOTHYROXINE, "25 mcg by mouth once daily", t.ago(60), reason=HYPOTHYROIDISM),
        c.coded_order(CETIRIZINE, "2.5 mg by mouth once daily", t.ago(30)),
        c.coded_order(
            FUROSEMIDE,
            "4 mg by mouth twice daily",
            born + timedelta(days=100),
            status="stopped",
            requester="kwame-mensah",
            status_reason="Stopped after AVSD repair",
            reason=AVSD,
        ),
        c.procedure(
            "avsd-repair",
            concept("Complete repair of atrioventricular septal defect"),
            performed=born + timedelta(days=150),
            surgeon="kwame-mensah",
        ),
        c.device(
            "hearing-aids", "Bilateral behind-the-ear hearing aids", GENERIC_DEVICE, since=born + timedelta(days=180)
        ),
        c.care_team("Leo's care team", members, since=born + timedelta(days=30)),
        c.encounter("clinic-cardio", AMBULATORY, PROBLEM_VISIT, start=t.ago(45), clinician="kwame-mensah", reason=AVSD),
        c.encounter(
            "clinic-audiology", AMBULATORY, PROBLEM_VISIT, start=t.ago(80), clinician="hannah-kim", reason=HEARING_LOSS
        ),
        c.encounter("clinic-pcp", AMBULATORY, CHECK_UP, start=t.ago(30), clinician=PHYSICIAN_USER_ID),
        c.encounter(
            "admission-bronchiolitis",
            INPATIENT,
            HOSPITAL_ADMISSION,
            start=t.ago(250),
            days=3,
            clinician=PHYSICIAN_USER_ID,
        ),
        c.service_request(
            "speech-therapy",
            concept("Speech therapy", coding(SNOMED, "5154007", "Speech therapy")),
            authored=t.ago(80),
            requester="hannah-kim",
            performer=reference("Organization", BRIGHT_PATH),
            reason=HEARING_LOSS,
        ),
    ]


# --- Patient 4: Walter Hughes, 63 y, an adult whose Conditions carry no category -------------------
# SMART's public sandbox serves Synthea patients like him: R4 lets a Condition go without a category,
# and a summary that asks only for problem-list items shows him with no conditions at all.

ADULT_PROBLEMS: tuple[Problem, ...] = (
    Problem("hypertension", "Essential hypertension", ("I10", "Essential (primary) hypertension"),
            ("59621000", "Essential hypertension")),
    Problem("diabetes-2", "Type 2 diabetes mellitus", ("E11.9", "Type 2 diabetes mellitus without complications"),
            ("44054006", "Diabetes mellitus type 2")),
    Problem("hyperlipidemia", "Hyperlipidemia", ("E78.5", "Hyperlipidemia, unspecified"),
            ("55822004", "Hyperlipidemia")),
    Problem("ckd-3", "Chronic kidney disease stage 3", ("N18.30", "Chronic kidney disease, stage 3 unspecified")),
    Problem("obesity", "Obesity", ("E66.9", "Obesity, unspecified"), ("414916001", "Obesity")),
    Problem("knee-oa", "Osteoarthritis of knee", ("M17.9", "Osteoarthritis of knee, unspecified"),
            ("239873007", "Osteoarthritis of knee")),
    Problem("copd", "Chronic obstructive pulmonary disease", ("J44.9", "Chronic obstructive pulmonary disease, "
            "unspecified"), ("13645005", "Chronic obstructive lung disease")),
    Problem("cad", "Coronary artery disease", ("I25.10", "Atherosclerotic heart disease of native coronary "
            "artery without angina pectoris"), ("53741008", "Coronary arteriosclerosis")),
    Problem("afib", "Atrial fibrillation", ("I48.91", "Unspecified atrial fibrillation"),
            ("49436004", "Atrial fibrillation")),
    Problem("heart-failure", "Heart failure", ("I50.9", "Heart failure, unspecified"), ("84114007", "Heart failure")),
    Problem("gout", "Gout", ("M10.9", "Gout, unspecified"), ("90560007", "Gout")),
    HYPOTHYROIDISM,
    SLEEP_APNEA,
    Problem("depression", "Major depressive disorder", ("F32.9", "Major depressive disorder, single episode, "
            "unspecified"), ("370143000", "Major depressive disorder")),
    Problem("chronic-pain", "Chronic pain", ("G89.29", "Other chronic pain"), ("82423001", "Chronic pain")),
    Problem("anemia", "Anemia", ("D64.9", "Anemia, unspecified"), ("271737000", "Anemia")),
    Problem("diabetic-neuropathy", "Diabetic neuropathy", ("E11.40", "Type 2 diabetes mellitus with diabetic "
            "neuropathy, unspecified")),
    Problem("glaucoma", "Glaucoma", ("H40.9", "Unspecified glaucoma"), ("23986001", "Glaucoma")),
    Problem("gerd-adult", "Gastroesophageal reflux disease", ("K21.9", "Gastro-esophageal reflux disease without "
            "esophagitis")),
)
ADULT_RESOLVED: tuple[Problem, ...] = (
    Problem("bronchitis", "Acute bronchitis", ("J20.9", "Acute bronchitis, unspecified"),
            ("10509002", "Acute bronchitis")),
)
METFORMIN = Drug("metformin", "6809", "metformin")
LISINOPRIL = Drug("lisinopril", "29046", "lisinopril")


def walter(t: Timeline) -> list[Resource]:
    c = Chart(ADULT_ID, t)
    born = t.born(63, 150)
    record = [
        patient(c, given="Walter", family="Hughes", gender="male", born=born, mrn="SB-100004",
                home=address("902 Elm Street", "Millbrook"), phone_n=70, languages=(("en", "English"),),
                guardian=None, pcp="omar-haddad"),
        *(c.condition(problem, onset=t.ago(400 + 90 * n), category=None, recorder="omar-haddad")
          for n, problem in enumerate(ADULT_PROBLEMS)),
        *(c.condition(problem, onset=t.ago(900), clinical="resolved", abated=t.ago(870), category=None,
                      recorder="omar-haddad") for problem in ADULT_RESOLVED),
        c.coded_order(METFORMIN, "500 mg by mouth twice daily", t.ago(300), requester="omar-haddad"),
        c.coded_order(LISINOPRIL, "10 mg by mouth once daily", t.ago(500), requester="omar-haddad"),
        c.allergy("penicillin", concept("Penicillin", coding(SNOMED, "91936005", "Allergy to penicillin")),
                  category="medication", criticality="high", recorded=t.ago(4000),
                  manifestation=("39579001", "Anaphylaxis"), severity="severe"),
        c.encounter("clinic-pcp", AMBULATORY, CHECK_UP, start=t.ago(60), clinician="omar-haddad"),
        c.care_team("Walter's care team", [
            role_member(concept("Primary care physician", MEDICAL_PRACTITIONER), "omar-haddad"),
            specialist("kwame-mensah"),
            role_member(concept("Care coordinator", CARE_COORDINATOR), COORDINATOR_USER_ID),
        ], since=t.ago(700)),
    ]
    return record


# --- Patient 5: Maya Lindqvist, 6 y: diagnoses only from visits; "no known allergies" recorded ----------

VISIT_DIAGNOSES: tuple[Problem, ...] = (
    Problem("asthma", "Asthma", ("J45.909", "Unspecified asthma, uncomplicated"), ("195967001", "Asthma")),
    Problem("eczema", "Atopic dermatitis", ("L20.9", "Atopic dermatitis, unspecified"),
            ("24079001", "Atopic dermatitis")),
    Problem("otitis", "Recurrent otitis media", ("H66.90", "Otitis media, unspecified, unspecified ear")),
)
NO_KNOWN_ALLERGY = ("716186003", "No known allergy")


def maya(t: Timeline) -> list[Resource]:
    c = Chart(VISITS_ONLY_ID, t)
    born = t.born(6, 20)
    mother = c.related_person("mother", "Elin", "Lindqvist", ("MTH", "mother"), 80)
    recorded = t.ago(200)
    no_known_allergies = resource(
        "AllergyIntolerance", c.id("allergy", "nka"), recorded,
        clinicalStatus=status_concept(ALLERGY_CLINICAL, "active"),
        verificationStatus=status_concept(ALLERGY_VERIFICATION, "confirmed"),
        code=concept("No known allergies", coding(SNOMED, *NO_KNOWN_ALLERGY)), patient=c.subject,
        recordedDate=recorded.isoformat(), recorder=reference("Practitioner", PHYSICIAN_USER_ID))
    return [
        patient(c, given="Maya", family="Lindqvist", gender="female", born=born, mrn="SB-100005",
                home=address("18 Harbor View", "Eastfield"), phone_n=81, languages=(("sv", "Swedish"), ("en", "English")),
                guardian=mother, pcp=PHYSICIAN_USER_ID),
        mother,
        *(c.condition(problem, onset=t.ago(300 + 200 * n), category="encounter-diagnosis")
          for n, problem in enumerate(VISIT_DIAGNOSES)),
        c.coded_order(ALBUTEROL, "2 puffs every 4 hours as needed for wheeze", t.ago(90)),
        no_known_allergies,
        c.encounter("clinic-pcp", AMBULATORY, PROBLEM_VISIT, start=t.ago(90), clinician=PHYSICIAN_USER_ID),
        c.care_team("Maya's care team", [
            role_member(concept("Primary care pediatrician", MEDICAL_PRACTITIONER), PHYSICIAN_USER_ID),
            role_member(concept("Care coordinator", CARE_COORDINATOR), COORDINATOR_USER_ID),
            (concept("Mother", CAREGIVER), reference("RelatedPerson", mother["id"], "Elin Lindqvist")),
        ], since=t.ago(400)),
    ]


# --- The whole bundled record ---------------------------------------------------------------------


def build_resources(today: date) -> list[dict]:
    """FHIR R4 JSON for every bundled patient and the shared practitioners, organisations and
    medications. Dates are computed relative to `today` so the record never ages out of windows
    like 'last 12 months'."""
    t = Timeline(today)
    return [*shared_resources(t), *sofia(t), *daniel(t), *leo(t), *walter(t), *maya(t)]
