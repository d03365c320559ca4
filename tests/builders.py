"""Builders for FHIR R4 JSON test data: small, valid resources with the fields a test cares about.

Every builder returns a plain dict (as the EHR would send it) and takes `**fields` to add or replace
top-level elements, so a test can state only what matters: `a_condition("Asthma", status="resolved")`,
`a_device("Feeding pump", owner=a_reference(supplier))`.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import escape

from smart_app.plan.record import SectionFetch, SectionState, SourceRecord

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

Json = dict[str, Any]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "x"


def a_reference(resource: Json, display: str | None = None) -> Json:
    """A Reference to a built resource ('Type/id')."""
    reference: Json = {"reference": f"{resource['resourceType']}/{resource['id']}"}
    if display:
        reference["display"] = display
    return reference


def a_concept(
    text: str | None = None, *, system: str | None = None, code: str | None = None, display: str | None = None
) -> Json:
    """A CodeableConcept with text, a coding, or both."""
    concept: Json = {}
    if system or code:
        coding = {k: v for k, v in (("system", system), ("code", code), ("display", display)) if v}
        concept["coding"] = [coding]
    if text:
        concept["text"] = text
    return concept


def data_absent(code: str = "unknown") -> Json:
    """An element whose value is missing, with the reason the EHR gives."""
    return {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": code}]}


def a_name(given: str = "Ada", family: str = "Lovelace", **fields: Any) -> Json:
    return {"given": [given], "family": family, **fields}


def a_phone(value: str = "555-0100", **fields: Any) -> Json:
    return {"system": "phone", "value": value, **fields}


# --- Patient and people ---------------------------------------------------------------------------


def a_patient(
    id: str = "ada",
    *,
    given: str = "Ada",
    family: str = "Lovelace",
    birth_date: str = "2015-03-04",
    gender: str = "female",
    mrn: str | None = "MRN-0001",
    **fields: Any,
) -> Json:
    patient: Json = {
        "resourceType": "Patient",
        "id": id,
        "name": [a_name(given, family, use="official")],
        "birthDate": birth_date,
        "gender": gender,
    }
    if mrn:
        patient["identifier"] = [
            {
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
                },
                "value": mrn,
            }
        ]
    return {**patient, **fields}


def a_patient_contact(
    given: str = "Grace",
    family: str = "Lovelace",
    *,
    relationship: str = "N",
    phone: str | None = "555-0199",
    **fields: Any,
) -> Json:
    contact: Json = {
        "name": a_name(given, family),
        "relationship": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": relationship}]}
        ],
    }
    if phone:
        contact["telecom"] = [a_phone(phone)]
    return {**contact, **fields}


def a_related_person(
    given: str = "Mary",
    family: str = "Lovelace",
    *,
    relationship: str = "MTH",
    patient: str = "ada",
    phone: str | None = "555-0123",
    id: str | None = None,
    **fields: Any,
) -> Json:
    person: Json = {
        "resourceType": "RelatedPerson",
        "id": id or f"rp-{slug(given + ' ' + family)}",
        "patient": {"reference": f"Patient/{patient}"},
        "name": [a_name(given, family)],
        "relationship": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": relationship}
                ]
            }
        ],
    }
    if phone:
        person["telecom"] = [a_phone(phone)]
    return {**person, **fields}


def a_practitioner(
    given: str = "Jane",
    family: str = "Smith",
    *,
    phone: str | None = "555-0200",
    id: str | None = None,
    **fields: Any,
) -> Json:
    practitioner: Json = {
        "resourceType": "Practitioner",
        "id": id or f"pr-{slug(given + ' ' + family)}",
        "name": [a_name(given, family, prefix=["Dr."])],
    }
    if phone:
        practitioner["telecom"] = [a_phone(phone)]
    return {**practitioner, **fields}


def an_organization(
    name: str = "Children's Hospital", *, phone: str | None = "555-0300", id: str | None = None, **fields: Any
) -> Json:
    organization: Json = {"resourceType": "Organization", "id": id or f"org-{slug(name)}", "name": name}
    if phone:
        organization["telecom"] = [a_phone(phone)]
    return {**organization, **fields}


def a_practitioner_role(
    practitioner: Json | None = None,
    organization: Json | None = None,
    *,
    specialty: str | None = "Neurology",
    code: str | None = None,
    phone: str | None = None,
    id: str | None = None,
    **fields: Any,
) -> Json:
    role: Json = {"resourceType": "PractitionerRole", "id": id or f"role-{slug(str(specialty or code))}"}
    if practitioner is not None:
        role["practitioner"] = a_reference(practitioner)
    if organization is not None:
        role["organization"] = a_reference(organization)
    if specialty:
        role["specialty"] = [a_concept(specialty)]
    if code:
        role["code"] = [a_concept(code)]
    if phone:
        role["telecom"] = [a_phone(phone)]
    return {**role, **fields}


# --- Clinical resources -----------------------------------------------------------------------------


def a_condition(
    text: str = "Cerebral palsy",
    *,
    patient: str = "ada",
    status: str | None = "active",
    verification: str | None = None,
    category: str = "problem-list-item",
    id: str | None = None,
    **fields: Any,
) -> Json:
    condition: Json = {
        "resourceType": "Condition",
        "id": id or f"cond-{slug(text)}",
        "subject": {"reference": f"Patient/{patient}"},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": category}]}],
        "code": {"text": text},
    }
    if status:
        condition["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": status}]}
    if verification:
        condition["verificationStatus"] = {
            "coding": [{"system": CONDITION_VERIFICATION, "code": verification}]
        }
    return {**condition, **fields}


def a_medication(
    text: str = "Levetiracetam 100 mg/mL oral solution",
    *,
    rxnorm: str | None = None,
    id: str | None = None,
    **fields: Any,
) -> Json:
    code = a_concept(text, system=RXNORM if rxnorm else None, code=rxnorm)
    return {"resourceType": "Medication", "id": id or f"med-{slug(text)}", "code": code, **fields}


def a_medication_request(
    text: str | None = "Levetiracetam 100 mg/mL oral solution",
    *,
    patient: str = "ada",
    status: str = "active",
    intent: str = "order",
    medication: Json | None = None,
    dose_text: str | None = "5 mL twice daily",
    id: str | None = None,
    **fields: Any,
) -> Json:
    """A MedicationRequest naming its medicine by concept (text), or by reference to `medication`."""
    request: Json = {
        "resourceType": "MedicationRequest",
        "id": id or f"mr-{slug(text or (medication or {}).get('id', 'ref'))}",
        "status": status,
        "intent": intent,
        "subject": {"reference": f"Patient/{patient}"},
    }
    if medication is not None:
        request["medicationReference"] = a_reference(medication)
    elif text is not None:
        request["medicationCodeableConcept"] = {"text": text}
    if dose_text:
        request["dosageInstruction"] = [{"text": dose_text}]
    return {**request, **fields}


def a_medication_statement(
    text: str | None = "Melatonin 3 mg tablet",
    *,
    patient: str = "ada",
    status: str = "active",
    id: str | None = None,
    **fields: Any,
) -> Json:
    statement: Json = {
        "resourceType": "MedicationStatement",
        "id": id or f"ms-{slug(text or 'ref')}",
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
    }
    if text is not None:
        statement["medicationCodeableConcept"] = {"text": text}
    return {**statement, **fields}


def an_allergy(
    text: str = "Peanut",
    *,
    patient: str = "ada",
    status: str | None = "active",
    verification: str | None = "confirmed",
    reactions: tuple[str, ...] = ("Hives",),
    criticality: str | None = "high",
    id: str | None = None,
    **fields: Any,
) -> Json:
    allergy: Json = {
        "resourceType": "AllergyIntolerance",
        "id": id or f"allergy-{slug(text)}",
        "patient": {"reference": f"Patient/{patient}"},
        "code": {"text": text},
    }
    if status:
        allergy["clinicalStatus"] = {"coding": [{"system": ALLERGY_CLINICAL, "code": status}]}
    if verification:
        allergy["verificationStatus"] = {"coding": [{"system": ALLERGY_VERIFICATION, "code": verification}]}
    if reactions:
        allergy["reaction"] = [{"manifestation": [{"text": r} for r in reactions]}]
    if criticality:
        allergy["criticality"] = criticality
    return {**allergy, **fields}


def a_procedure(
    text: str = "Gastrostomy tube insertion",
    *,
    patient: str = "ada",
    status: str = "completed",
    performed: str | None = "2019-06-01",
    id: str | None = None,
    **fields: Any,
) -> Json:
    procedure: Json = {
        "resourceType": "Procedure",
        "id": id or f"proc-{slug(text)}",
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"text": text},
    }
    if performed:
        procedure["performedDateTime"] = performed
    return {**procedure, **fields}


def a_device(
    name: str = "Enteral feeding pump",
    *,
    patient: str = "ada",
    status: str = "active",
    id: str | None = None,
    **fields: Any,
) -> Json:
    return {
        "resourceType": "Device",
        "id": id or f"dev-{slug(name)}",
        "status": status,
        "patient": {"reference": f"Patient/{patient}"},
        "deviceName": [{"name": name, "type": "user-friendly-name"}],
        **fields,
    }


def a_device_use_statement(
    device: Json, *, patient: str = "ada", status: str = "active", id: str | None = None, **fields: Any
) -> Json:
    return {
        "resourceType": "DeviceUseStatement",
        "id": id or f"dus-{device['id']}",
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
        "device": a_reference(device),
        **fields,
    }


def a_device_request(
    text: str = "Suction machine",
    *,
    patient: str = "ada",
    status: str = "active",
    intent: str = "order",
    id: str | None = None,
    **fields: Any,
) -> Json:
    return {
        "resourceType": "DeviceRequest",
        "id": id or f"dr-{slug(text)}",
        "status": status,
        "intent": intent,
        "subject": {"reference": f"Patient/{patient}"},
        "codeCodeableConcept": {"text": text},
        **fields,
    }


def a_participant(who: Json | None, *, role: str | None = None, **fields: Any) -> Json:
    """A CareTeam participant whose member is `who` (a built resource), with an optional role text."""
    participant: Json = {}
    if who is not None:
        participant["member"] = a_reference(who)
    if role:
        participant["role"] = [a_concept(role)]
    return {**participant, **fields}


def a_care_team(
    *participants: Json,
    patient: str = "ada",
    status: str = "active",
    name: str = "Complex care team",
    id: str | None = None,
    **fields: Any,
) -> Json:
    return {
        "resourceType": "CareTeam",
        "id": id or f"team-{slug(name)}",
        "status": status,
        "name": name,
        "subject": {"reference": f"Patient/{patient}"},
        "participant": list(participants),
        **fields,
    }


def an_encounter(
    kind: str = "AMB",
    *,
    start: str = "2025-01-15",
    end: str | None = None,
    patient: str = "ada",
    status: str = "finished",
    type_text: str | None = "Clinic visit",
    id: str | None = None,
    **fields: Any,
) -> Json:
    """An Encounter of v3 ActCode class `kind`: AMB, EMER, IMP..."""
    encounter: Json = {
        "resourceType": "Encounter",
        "id": id or f"enc-{slug(kind + ' ' + start)}",
        "status": status,
        "class": {"system": ACT_CODE, "code": kind},
        "subject": {"reference": f"Patient/{patient}"},
        "period": {"start": start, **({"end": end} if end else {})},
    }
    if type_text:
        encounter["type"] = [a_concept(type_text)]
    return {**encounter, **fields}


def a_service_request(
    text: str = "Physical therapy",
    *,
    patient: str = "ada",
    status: str = "active",
    category: str | None = "3457005",
    id: str | None = None,
    **fields: Any,
) -> Json:
    request: Json = {
        "resourceType": "ServiceRequest",
        "id": id or f"sr-{slug(text)}",
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"text": text},
    }
    if category:
        request["category"] = [{"coding": [{"system": SNOMED, "code": category}]}]
    return {**request, **fields}


def a_goal(
    text: str = "Sleep through the night",
    *,
    patient: str = "ada",
    status: str = "active",
    due: str | None = None,
    id: str | None = None,
    **fields: Any,
) -> Json:
    goal: Json = {
        "resourceType": "Goal",
        "id": id or f"goal-{slug(text)}",
        "lifecycleStatus": status,
        "subject": {"reference": f"Patient/{patient}"},
        "description": {"text": text},
    }
    if due:
        goal["target"] = [{"dueDate": due}]
    return {**goal, **fields}


def a_care_plan(
    title: str = "Complex care plan",
    *,
    patient: str = "ada",
    status: str = "active",
    id: str | None = None,
    **fields: Any,
) -> Json:
    return {
        "resourceType": "CarePlan",
        "id": id or f"cp-{slug(title)}",
        "status": status,
        "intent": "plan",
        "title": title,
        "subject": {"reference": f"Patient/{patient}"},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                        "code": "assess-plan",
                    }
                ]
            }
        ],
        **fields,
    }


def a_document_reference(
    description: str = "POLST form",
    *,
    patient: str = "ada",
    status: str = "current",
    type_text: str = "Advance directive",
    date: str = "2024-02-01",
    id: str | None = None,
    **fields: Any,
) -> Json:
    return {
        "resourceType": "DocumentReference",
        "id": id or f"doc-{slug(description)}",
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
        "type": {"text": type_text},
        # what the summary asks for: advance directives (LOINC 42348-3)
        "category": [{"coding": [{"system": "http://loinc.org", "code": "42348-3"}]}],
        "description": description,
        "date": date,
        "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/1"}}],
        **fields,
    }


def a_provenance(
    target: Json,
    *,
    author: Json | None = None,
    recorded: str = "2024-05-01T10:00:00Z",
    id: str | None = None,
    **fields: Any,
) -> Json:
    provenance: Json = {
        "resourceType": "Provenance",
        "id": id or f"prov-{target['id']}",
        "target": [a_reference(target)],
        "recorded": recorded,
        "agent": [],
    }
    if author is not None:
        provenance["agent"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "author",
                        }
                    ]
                },
                "who": a_reference(author),
            }
        ]
    return {**provenance, **fields}


def an_operation_outcome(
    diagnostics: str = "Results may be incomplete",
    *,
    severity: str = "warning",
    code: str = "incomplete",
    **fields: Any,
) -> Json:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
        **fields,
    }


# --- Bundles, sections, records -----------------------------------------------------------------------


def a_bundle(
    *resources: Json,
    next_url: str | None = None,
    self_url: str | None = None,
    search_modes: dict[str, str] | None = None,
) -> Json:
    """A searchset Bundle; `search_modes` maps a resource type to "include" (default "match")."""
    modes = search_modes or {}
    entries = [
        {"resource": r, "search": {"mode": modes.get(r.get("resourceType", ""), "match")}} for r in resources
    ]
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    links = [("self", self_url), ("next", next_url)]
    if any(url for _, url in links):
        bundle["link"] = [{"relation": rel, "url": url} for rel, url in links if url]
    return bundle


def a_section(
    key: str, *resources: Json, state: SectionState = SectionState.COMPLETE, notes: tuple[str, ...] = ()
) -> SectionFetch:
    return SectionFetch(key=key, resources=tuple(resources), state=state, notes=notes)


def a_record(patient_id: str = "ada", **sections: tuple[Json, ...] | SectionFetch) -> SourceRecord:
    """A SourceRecord: a_record(conditions=(a_condition(),), medications=a_section("medications", ...))."""
    built = {
        key: value if isinstance(value, SectionFetch) else a_section(key, *value)
        for key, value in sections.items()
    }
    return SourceRecord(patient_id=patient_id, sections=built)


def shown_as_html(text: str) -> str:
    """Text as an autoescaping template (Jinja with markupsafe) would put it in the page."""
    return str(escape(text))
