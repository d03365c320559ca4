"""Who is in the sandbox: patient summaries for the chart and picker, and the users to sign in as.

Layer: sandbox. Imports: stdlib and sandbox only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sandbox.config import SandboxUser
from sandbox.search import reference_id
from sandbox.store import ResourceStore

BUILT_IN_USER = SandboxUser("sandbox-clinician", "Dr. Sam Sandbox", "Physician")
MRN_CODE = "MR"


@dataclass(frozen=True)
class PatientRow:
    patient_id: str
    name: str
    birth_date: str
    sex: str
    mrn: str
    age: str


def human_name(resource: dict) -> str:
    names = resource.get("name") or []
    if isinstance(names, dict):  # Organization-like single name is a string; HumanName list here
        names = [names]
    usual = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if not usual:
        return resource.get("id", "Unnamed")
    if usual.get("text"):
        return usual["text"]
    parts = [*usual.get("prefix", ()), *usual.get("given", ()), usual.get("family", "")]
    return " ".join(p for p in parts if p) or resource.get("id", "Unnamed")


def mrn(patient: dict) -> str:
    identifiers = patient.get("identifier") or []
    for identifier in identifiers:
        codes = [c.get("code") for c in (identifier.get("type") or {}).get("coding", ())]
        if MRN_CODE in codes:
            return identifier.get("value", "")
    return identifiers[0].get("value", "") if identifiers else ""


def age_on(birth_date: str, today: date) -> str:
    try:
        born = date.fromisoformat(birth_date[:10])
    except ValueError:
        return ""
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 2:
        return f"{years} y"
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    return f"{max(months, 0)} mo"


def patient_row(patient: dict, today: date) -> PatientRow:
    birth = patient.get("birthDate", "")
    return PatientRow(
        patient["id"], human_name(patient), birth, (patient.get("gender") or "").capitalize(),
        mrn(patient), age_on(birth, today) if birth else "")


def patient_rows(store: ResourceStore, today: date) -> list[PatientRow]:
    rows = [patient_row(p, today) for p in store.all_of("Patient")]
    return sorted(rows, key=lambda r: r.name.split()[-1:] + [r.name])


def users(store: ResourceStore, configured: list) -> list[SandboxUser]:
    """Configured users, else Practitioners that hold a PractitionerRole, else a built-in one."""
    if configured:
        return [SandboxUser(*u) for u in configured]
    roles: dict[str, str] = {}
    for role in store.all_of("PractitionerRole"):
        ref = reference_id((role.get("practitioner") or {}).get("reference", ""), "Practitioner")
        if ref and ref[1] not in roles:
            roles[ref[1]] = _role_text(role)
    found = [
        SandboxUser(p["id"], human_name(p), roles[p["id"]])
        for p in store.all_of("Practitioner")
        if p["id"] in roles
    ]
    return found or [BUILT_IN_USER]


def _role_text(role: dict) -> str:
    for concept in [*role.get("specialty", ()), *role.get("code", ())]:
        if concept.get("text"):
            return concept["text"]
        for coding in concept.get("coding", ()):
            if coding.get("display"):
                return coding["display"]
    return "Clinician"
