"""About us, emergency and legal information, release-of-information consent, and the family copy
with its short-lived link.

Layer: services. Knows nothing of Flask: views parse forms and render; this module loads, checks,
saves and audits. The family copy's content rules (consent applied to every name) live in the pure
core; its links are signed here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..audit import AuditTrail
from ..clock import Clock
from ..errors import InvalidInput
from ..pdf import render_pdf
from ..plan import about as a
from ..plan import summary as s
from ..plan.model import PlanVersion
from ..plan.signed_record import SignedRecord
from ..security import digest, new_handle
from ..session import LaunchSession
from ..store.about_store import AboutStore
from ..tenants import Tenant
from .planning import PlanningService
from .summary import SummaryService

LINK_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class AboutOverview:
    """The About us page: the answers, the emergency version, the consent and a preview of the copy."""

    header: s.PatientHeader | None
    intake: a.IntakeVersion | None
    emergency_version: int
    consent: tuple[a.ConsentEntry, ...]
    copy: a.FamilyCopy


@dataclass(frozen=True)
class CopyLink:
    token: str  # `<link id>.<expiry>.<signature>`: the only credential, naming no patient
    expires: datetime


class AboutUsService:
    def __init__(self, store: AboutStore, summary: SummaryService, planning: PlanningService, audit: AuditTrail,
                 clock: Clock, *, link_secret: bytes, family_css: str) -> None:
        self.store = store
        self.summary = summary
        self.planning = planning
        self.audit = audit
        self.clock = clock
        self.link_secret = link_secret
        self.family_css = family_css

    # -- the intake answers ("About us") and emergency information: versioned -------------------------

    def intake(self, launch: LaunchSession) -> a.IntakeVersion | None:
        return self.store.latest_intake(launch.iss, launch.patient_id)

    def intake_answers(self, launch: LaunchSession) -> a.IntakeAnswers | None:
        intake = self.intake(launch)
        return intake.answers if intake else None

    def save_intake(self, launch: LaunchSession, tenant: Tenant, form: Mapping[str, Any], base_version: int) -> None:
        answers = _checked(lambda: a.answers_from_form(form))
        self.store.save_intake(launch.iss, launch.patient_id, answers, base_version=base_version,
                               saved_by=self.summary.user_name(launch, tenant), now=self.clock.now())
        self._audit(launch, "about-intake-save", answered=len(answers.values))

    def set_answer(self, launch: LaunchSession, tenant: Tenant, link_id: str, text: str, *, saved_by: str) -> None:
        """One About us answer replaced (a change the family proposed, accepted by the care team)."""
        current = self.intake(launch)
        values = {**(current.answers.as_dict() if current else {}), link_id: text}
        answers = _checked(lambda: a.answers_from_form(values))
        self.store.save_intake(launch.iss, launch.patient_id, answers, base_version=current.version if current else 0,
                               saved_by=saved_by, now=self.clock.now())
        self._audit(launch, "about-intake-save", answered=len(answers.values), from_family=True)

    def emergency(self, launch: LaunchSession) -> tuple[int, a.EmergencyInfo]:
        return self.store.latest_emergency(launch.iss, launch.patient_id)

    def save_emergency(self, launch: LaunchSession, tenant: Tenant, form: Mapping[str, Any],
                       base_version: int) -> None:
        info = _checked(lambda: a.emergency_from_form(form))
        self.store.save_emergency(launch.iss, launch.patient_id, info, base_version=base_version,
                                  saved_by=self.summary.user_name(launch, tenant), now=self.clock.now())
        self._audit(launch, "about-emergency-save")

    def questionnaire_response(self, launch: LaunchSession) -> dict:
        """The latest answers as a FHIR QuestionnaireResponse."""
        intake = self.intake(launch)
        if intake is None:
            raise InvalidInput("The About us interview has not been filled in yet.")
        return a.questionnaire_response(intake.answers, patient_id=launch.patient_id, authored=intake.saved_at,
                                        version=intake.version, author=intake.saved_by)

    # -- release-of-information consent ---------------------------------------------------------------

    def consent(self, launch: LaunchSession) -> tuple[a.ConsentEntry, ...]:
        return tuple(self.store.consent(launch.iss, launch.patient_id))

    def team(self, launch: LaunchSession, tenant: Tenant) -> dict[str, tuple[str, str]]:
        """reference -> (name, role) for each provider on the care team the EHR lists (not the family)."""
        return team_members(self.summary.summary(launch, tenant, ("care_team",)).get("care_team"))

    def add_consent(self, launch: LaunchSession, tenant: Tenant, form: Mapping[str, Any]) -> None:
        team = self.team(launch, tenant)
        entry = _checked(lambda: a.consent_entry_from_form(
            form, entry_id=new_handle(), recorded_by=self.summary.user_name(launch, tenant),
            recorded_at=self.clock.now(), team=team))
        self.store.add_consent(launch.iss, launch.patient_id, entry)
        self._audit(launch, "consent-add")

    def withdraw_consent(self, launch: LaunchSession, tenant: Tenant, entry_id: str) -> None:
        if not self.store.withdraw_consent(launch.iss, launch.patient_id, entry_id,
                                           by=self.summary.user_name(launch, tenant), at=self.clock.now()):
            raise InvalidInput("That consent was already removed.")
        self._audit(launch, "consent-withdraw")

    def consent_bundle(self, launch: LaunchSession) -> dict:
        """The consent in force as FHIR Consent resources (a collection Bundle)."""
        return a.consent_bundle(self.consent(launch), patient_id=launch.patient_id)

    # -- the family copy ----------------------------------------------------------------------------

    def overview(self, launch: LaunchSession, tenant: Tenant) -> AboutOverview:
        """The About us page, with a preview of the copy as today's record and answers would make it."""
        record, _ = self.planning.record(launch, tenant, None)
        intake = self.intake(launch)
        emergency_version, _ = self.emergency(launch)
        return AboutOverview(header=record.header, intake=intake, emergency_version=emergency_version,
                             consent=self.consent(launch), copy=self._copy(launch, record, "en", signed=None))

    def family_copy(self, launch: LaunchSession, tenant: Tenant, requested_lang: str | None) -> a.FamilyCopy:
        """The family copy of the latest signed plan, from what was signed with it (its summary, About us
        and emergency information), in the family's language unless one is asked for. Consent is the one
        in force today: it governs each disclosure. Without a signed plan: today's record."""
        signed = self.planning.latest_signed(launch)
        record, _ = self.planning.record(launch, tenant, signed)
        lang = a.copy_language(requested_lang, record.intake, record.header)
        return self._copy(launch, record, lang, signed=signed)

    def _copy(self, launch: LaunchSession, record: SignedRecord, lang: str, *,
              signed: PlanVersion | None) -> a.FamilyCopy:
        return a.family_copy_model(
            lang=lang, today=self.clock.today(), header=record.header, sections=record.by_key,
            intake=record.intake, emergency=record.emergency, consent=self.consent(launch), signed=signed,
            curations=record.curation_by_ref, added=record.added, read_on=record.read_on)

    def copy_pdf(self, launch: LaunchSession, html: str, lang: str) -> bytes:
        """The rendered copy as PDF, a disclosure recorded in the audit trail."""
        body = self.pdf(html)
        self._audit(launch, "family-copy-disclosure", channel="pdf", lang=lang)
        return body

    def pdf(self, html: str) -> bytes:
        return render_pdf(html, self.family_css)

    def create_link(self, launch: LaunchSession, document: str, lang: str) -> CopyLink:
        """Keep the rendered copy behind a random link that opens it outside the frame for ten minutes."""
        link_id, now = new_handle(), self.clock.now()
        expires = now + LINK_LIFETIME
        self.store.save_link(digest(link_id), launch.iss, launch.patient_id, lang=lang, document=document, now=now,
                             expires_at=expires)
        self._audit(launch, "family-copy-disclosure", channel="link", lang=lang)
        return CopyLink(sign_link(link_id, expires, self.link_secret), expires)

    def open_link(self, token: str) -> tuple[str, str] | None:
        """(lang, rendered copy) of a well-signed, unexpired link; None otherwise."""
        now = self.clock.now()
        link_id = verify_link(token, self.link_secret, now)
        found = self.store.open_link(digest(link_id) if link_id else None, now)  # purges even when refused
        if found is None:
            return None
        _, _, lang, document = found
        return lang, document

    def _audit(self, launch: LaunchSession, action: str, **detail) -> None:
        self.audit.record(action, "success", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                          launch_id=launch.launch_id, **detail)


def team_members(section: s.SummarySection | None) -> dict[str, tuple[str, str]]:
    """reference -> (name, role) for each provider on the care team the EHR lists (not the family)."""
    if section is None:
        return {}
    return {m.member: (m.name, m.role or m.specialty) for m in section.active
            if isinstance(m, s.CareTeamMember) and m.member and not m.member.startswith(("RelatedPerson/", "Patient/"))}


def link_secret(secret_key: str, token_keys: Sequence[str]) -> bytes:
    """The HMAC key for links: the app's secret key, else derived from the token-encryption key (both
    shared by every instance, never sent anywhere)."""
    base = secret_key or token_keys[0]
    return hashlib.sha256(b"spoc:family-copy-link\0" + base.encode()).digest()


def sign_link(link_id: str, expires: datetime, secret: bytes) -> str:
    """`<link id>.<expiry, unix seconds>.<signature>`: random, expiring, no patient data."""
    stamp = str(int(expires.timestamp()))
    return f"{link_id}.{stamp}.{_signature(link_id, stamp, secret)}"


def verify_link(token: str, secret: bytes, now: datetime) -> str | None:
    """The link id of a well-signed, unexpired token; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    link_id, stamp, signature = parts
    if not hmac.compare_digest(signature, _signature(link_id, stamp, secret)):
        return None
    if int(stamp) <= now.timestamp():
        return None
    return link_id


def _signature(link_id: str, stamp: str, secret: bytes) -> str:
    mac = hmac.new(secret, f"{link_id}.{stamp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _checked(make):
    try:
        return make()
    except a.AboutError as err:
        raise InvalidInput(str(err)) from None
