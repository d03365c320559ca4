"""People in the plan: who the signed-in user is, which roles they may act and sign in, and how a
person is named everywhere (owners, sign-offs, positions, history).

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

A person's identity is their fhirUser reference from the launch's id_token ("Practitioner/123",
"PractitionerRole/9", "RelatedPerson/4", "Patient/1"), relative to the FHIR base; the role they choose
in the app is self-declared. Where the EHR says what the user is (the fhirUser's resource type, the
codes of their PractitionerRole), the role choice is checked against it:
- a Patient or RelatedPerson identity acts for the family only, never as a professional;
- the primary care clinician signs as a Practitioner or PractitionerRole;
- when the EHR's PractitionerRole codes map to app roles, only those roles may be chosen;
- nobody signs without an identity: the app must know who signs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import ROLE_LABELS, Owner, Role

FAMILY_TYPES = frozenset({"Patient", "RelatedPerson"})
PRACTITIONER_TYPES = frozenset({"Practitioner", "PractitionerRole"})
# The roles of the plan that must sign it when the site does not say otherwise.
DEFAULT_SIGNERS: tuple[Role, ...] = (Role.COORDINATOR, Role.CLINICIAN)

PRACTITIONER_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/practitioner-role"
# PractitionerRole.code -> the app roles that person may take. A site may pass its own (SNOMED
# occupations, local codes); codes that map to nothing leave the choice unchecked.
DEFAULT_ROLE_CODES: Mapping[tuple[str, str], frozenset[Role]] = {
    (PRACTITIONER_ROLE_SYSTEM, "doctor"): frozenset({Role.CLINICIAN, Role.SPECIALIST, Role.COORDINATOR}),
    (PRACTITIONER_ROLE_SYSTEM, "nurse"): frozenset({Role.COORDINATOR, Role.SCHOOL_NURSE, Role.COMMUNITY}),
    (PRACTITIONER_ROLE_SYSTEM, "pharmacist"): frozenset({Role.COMMUNITY}),
}

# Titles and credentials that do not make a different person: "Dr. Jordan Lee, RN" is "jordan lee".
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "rn", "np", "md", "do", "pa", "bsn", "msn", "lpn",
                     "aprn", "pharmd", "phd", "msw", "lcsw", "dnp", "mph", "facp", "faap", "pt", "ot", "slp"})


# ---------------------------------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------------------------------


def user_reference(fhir_user: str | None, fhir_base: str = "") -> str:
    """The fhirUser as "Type/id", relative to the FHIR base it belongs to; "" when there is none.

    A user on another server keeps its absolute URL: it is not the same person as a local id."""
    user = (fhir_user or "").strip()
    base = fhir_base.strip().rstrip("/")
    if base and user.startswith(base + "/"):
        user = user[len(base) + 1:]
    return user


def resource_type(user: str) -> str:
    """"Practitioner" for "Practitioner/123" or ".../fhir/Practitioner/123/_history/2"; "" if unknown."""
    parts = [p for p in user.split("?")[0].split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-2] if len(parts) >= 2 else ""


def roles_from_codes(codes: Iterable[tuple[str, str]],
                     mapping: Mapping[tuple[str, str], frozenset[Role]] = DEFAULT_ROLE_CODES) -> frozenset[Role] | None:
    """The app roles the user's PractitionerRole codes (system, code) allow; None when none is known."""
    known = [mapping[c] for c in codes if c in mapping]
    return frozenset().union(*known) if known else None


def may_act_as(user: str, role: Role, ehr_roles: frozenset[Role] | None = None) -> str | None:
    """Why this identity may not work in this role (None when it may). An unknown identity may: the
    role is then self-declared, and the choice is audited."""
    kind = resource_type(user)
    if kind in FAMILY_TYPES and role is not Role.FAMILY:
        return (f"You are signed in as a {_person_kind(kind)}, so you cannot work as the "
                f"{ROLE_LABELS[role].lower()}. The care coordinator records the family's words.")
    if ehr_roles is not None and role not in ehr_roles:
        listed = roles_text(ehr_roles)
        return f"The EHR lists you as {listed}, not as the {ROLE_LABELS[role].lower()}."
    return None


def may_sign_as(user: str, role: Role, ehr_roles: frozenset[Role] | None = None) -> str | None:
    """Why this identity may not sign for this role (None when it may)."""
    if not user.strip():
        return ("The EHR did not say who you are, so the app cannot record your signature. "
                "Open the app from the EHR again.")
    reason = may_act_as(user, role, ehr_roles)
    if reason:
        return reason
    if role is Role.CLINICIAN and resource_type(user) not in PRACTITIONER_TYPES:
        return "The primary care clinician signs as a practitioner in the EHR; you are not signed in as one."
    return None


def required_signers(roles: Iterable[str]) -> tuple[Role, ...]:
    """A site's list of the roles that must sign (tenant file), checked: known professional roles,
    each once, at least one. Raises ValueError naming what is wrong."""
    listed = [str(r).strip() for r in roles]
    signers: list[Role] = []
    for value in listed:
        try:
            role = Role(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a role of the plan.") from None
        if role is Role.FAMILY:
            raise ValueError("The family does not sign in the app: the care coordinator records their positions.")
        if role in signers:
            raise ValueError(f"{value!r} is listed twice.")
        signers.append(role)
    if not signers:
        raise ValueError("At least one role must sign the plan.")
    return tuple(signers)


def _person_kind(resource: str) -> str:
    return "patient" if resource == "Patient" else "family member"


def roles_text(roles: frozenset[Role]) -> str:
    """"care coordinator", "care coordinator or primary care clinician", in the order of Role."""
    return listed([ROLE_LABELS[r].lower() for r in Role if r in roles], "or")


def listed(words: list[str], last: str = "and") -> str:
    """"A", "A and B", "A, B and C"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


# ---------------------------------------------------------------------------------------------------
# One person, one name
# ---------------------------------------------------------------------------------------------------


def person_label(name: str, role: Role) -> str:
    """How a person is named everywhere: "Jordan Lee (Care coordinator)", or the role alone."""
    shown = " ".join(name.split())
    return f"{shown} ({ROLE_LABELS[role]})" if shown else ROLE_LABELS[role]


def owner_label(owner: Owner) -> str:
    return person_label(owner.name, owner.role)


def normalized_name(name: str) -> str:
    """A name without case, punctuation, titles or credentials: "Dr. Jordan Lee, RN" -> "jordan lee"."""
    words = re.findall(r"[^\W_]+", name.casefold())
    kept = [w for w in words if w not in _TITLES]
    return " ".join(kept or words)


_ROLE_NAMES = frozenset(normalized_name(label) for label in ROLE_LABELS.values())


@dataclass(frozen=True, slots=True)
class PersonKey:
    """Who an owner is, for grouping: a FHIR reference, else a normalised name, else the role alone."""

    kind: str  # "reference" | "name" | "role"
    value: str


def owner_identity(owner: Owner) -> PersonKey:
    """A name that is only a role's label ("Care coordinator") names nobody in particular."""
    if owner.reference.strip():
        return PersonKey("reference", owner.reference.strip())
    name = normalized_name(owner.name)
    if name and name not in _ROLE_NAMES:
        return PersonKey("name", name)
    return PersonKey("role", owner.role.value)
