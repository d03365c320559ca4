"""Which scopes the app asks for, and what a granted scope string allows (R10, R21).

Layer: launch. Pure functions.
"""

from __future__ import annotations

import re

# What the medical summary reads.
READ_TYPES: tuple[str, ...] = (
    "Patient", "RelatedPerson", "Condition", "MedicationRequest", "MedicationStatement", "Medication",
    "AllergyIntolerance", "Procedure", "Device", "DeviceUseStatement", "DeviceRequest", "CareTeam",
    "Practitioner", "PractitionerRole", "Organization", "Encounter", "ServiceRequest", "Goal",
    "CarePlan", "DocumentReference", "Task", "Provenance",  # the last two: to read back what we filed
)
# What each write mode files in the EHR.
WRITE_TYPES: dict[str, tuple[str, ...]] = {
    "careplan": ("CarePlan", "Goal", "Task", "CareTeam", "Provenance", "DocumentReference"),
    "note": ("DocumentReference",),
    "none": (),
}

# What a family launch reads from the EHR: who signed in and whom they may see; the plan is the app's own.
FAMILY_READ_TYPES: tuple[str, ...] = ("Patient", "RelatedPerson")

_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Za-z]+)\.([a-z*]+)(\?.*)?$")


def requested_scopes(*, kind: str, write_mode: str, v2: bool, override: tuple[str, ...] = ()) -> str:
    """The scope string for an authorization request. No wildcard resource scopes (R10). A family launch
    (the patient portal) asks only to read who signed in: never to write, never beyond the patient."""
    if kind == "family":
        return " ".join(["launch/patient", "openid", "fhirUser",
                         *(f"patient/{t}.{'rs' if v2 else 'read'}" for t in FAMILY_READ_TYPES)])
    if override:
        scopes = list(override)
    else:
        scopes = ["openid", "fhirUser", "online_access"]
        scopes += [f"patient/{t}.{'rs' if v2 else 'read'}" for t in READ_TYPES]
        scopes += [f"patient/{t}.{'cu' if v2 else 'write'}" for t in WRITE_TYPES.get(write_mode, ())]
    context = "launch" if kind == "ehr" else "launch/patient"
    if context not in scopes:
        scopes.insert(0, context)
    return " ".join(scopes)


def grants(scope: str, resource_type: str, interaction: str) -> bool:
    """Whether a granted scope string allows `interaction` ('read', 'search', 'create', 'update')
    on `resource_type`, in v1 (`read`/`write`/`*`) or v2 (`cruds`) syntax."""
    letter = {"read": "r", "search": "s", "create": "c", "update": "u", "delete": "d"}[interaction]
    for token in scope.split():
        match = _SCOPE.match(token)
        if not match or match.group(2) not in ("*", resource_type):
            continue
        perms = match.group(3)
        if perms == "*":
            return True
        if perms == "read" and letter in "rs":
            return True
        if perms == "write" and letter in "cud":
            return True
        if perms not in ("read", "write") and set(perms) <= set("cruds") and letter in perms:
            return True
    return False
