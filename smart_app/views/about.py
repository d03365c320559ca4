"""About us, emergency and legal information, release-of-information consent.

Layer: HTTP in (views). Parse, call, render. The view-models for these pages live here too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Response, redirect, render_template, request, url_for

from ..errors import InvalidInput
from ..plan import about as a
from ..plan import i18n
from ..plan import summary as s
from ..security import new_handle
from ..store.about import AboutStore
from ..web import app_state, current_launch, current_tenant, launch_blueprint
from . import pages

bp = launch_blueprint("about", __name__)

# What the About us page and the family copy read from the EHR.
EHR_KEYS = ("patient", "conditions", "medications", "allergies", "equipment", "care_team", "documents")


@bp.get("/about")
def show():
    launch, store = current_launch(), about_store()
    header, sections = ehr_summary(EHR_KEYS)
    intake = store.latest_intake(launch.iss, launch.patient_id)
    emergency_version, emergency = store.latest_emergency(launch.iss, launch.patient_id)
    consent = store.consent(launch.iss, launch.patient_id)
    curation = app_state().curation
    copy = a.family_copy_model(lang="en", today=date.today(), header=header, sections=sections,
                               intake=intake.answers if intake else None, emergency=emergency, consent=consent,
                               signed=None, curations=curation.curations(launch.iss, launch.patient_id),
                               added=curation.added(launch.iss, launch.patient_id))
    return render_template("about/show.html", page=about_page(intake, emergency_version, consent, date.today()),
                           copy=copy, banner=pages.banner_from(header, date.today()),
                           need_banner=launch.need_patient_banner)


@bp.get("/about/intake")
def intake_form():
    launch = current_launch()
    intake = about_store().latest_intake(launch.iss, launch.patient_id)
    return render_template("about/intake.html", form=intake_form_view(intake))


@bp.post("/about/intake")
def save_intake():
    launch = current_launch()
    answers = _checked(lambda: a.answers_from_form(request.form))
    about_store().save_intake(launch.iss, launch.patient_id, answers, base_version=_base_version(),
                              saved_by=user_name(), now=datetime.now(UTC))
    audit("about-intake-save", answered=len(answers.values))
    return redirect(url_for("about.show", _anchor="about-us"), code=303)


@bp.get("/about/questionnaire")
def questionnaire():
    return _fhir_json(a.intake_questionnaire())


@bp.get("/about/questionnaire-response")
def questionnaire_response():
    """The latest answers as a FHIR QuestionnaireResponse (404 before the first save)."""
    launch = current_launch()
    intake = about_store().latest_intake(launch.iss, launch.patient_id)
    if intake is None:
        raise InvalidInput("The About us interview has not been filled in yet.")
    return _fhir_json(a.questionnaire_response(intake.answers, patient_id=launch.patient_id,
                                               authored=intake.saved_at, version=intake.version,
                                               author=intake.saved_by))


@bp.get("/about/emergency")
def emergency_form():
    launch = current_launch()
    version, info = about_store().latest_emergency(launch.iss, launch.patient_id)
    return render_template("about/emergency.html", info=info, version=version)


@bp.post("/about/emergency")
def save_emergency():
    launch = current_launch()
    info = _checked(lambda: a.emergency_from_form(request.form))
    about_store().save_emergency(launch.iss, launch.patient_id, info, base_version=_base_version(),
                                 saved_by=user_name(), now=datetime.now(UTC))
    audit("about-emergency-save")
    return redirect(url_for("about.show", _anchor="emergency"), code=303)


@bp.get("/about/consent")
def consent_form():
    launch = current_launch()
    _, sections = ehr_summary(("care_team",))
    consent = about_store().consent(launch.iss, launch.patient_id)
    return render_template("about/consent.html", team=team_choices(sections.get("care_team")),
                           entries=consent_rows(consent, date.today()), today=date.today().isoformat())


@bp.post("/about/consent")
def add_consent():
    launch = current_launch()
    _, sections = ehr_summary(("care_team",))
    team = team_members(sections.get("care_team"))
    entry = _checked(lambda: a.consent_entry_from_form(request.form, entry_id=new_handle(), recorded_by=user_name(),
                                                       recorded_at=datetime.now(UTC), team=team))
    about_store().add_consent(launch.iss, launch.patient_id, entry)
    audit("consent-add")
    return redirect(url_for("about.consent_form"), code=303)


@bp.post("/about/consent/<entry_id>/remove")
def remove_consent(entry_id: str):
    launch = current_launch()
    if not about_store().withdraw_consent(launch.iss, launch.patient_id, entry_id, by=user_name(),
                                          at=datetime.now(UTC)):
        raise InvalidInput("That consent was already removed.")
    audit("consent-withdraw")
    return redirect(url_for("about.consent_form"), code=303)


@bp.get("/about/consent.json")
def consent_bundle():
    """The consent in force as FHIR Consent resources (a collection Bundle)."""
    launch = current_launch()
    entries = about_store().consent(launch.iss, launch.patient_id)
    return _fhir_json(a.consent_bundle(entries, patient_id=launch.patient_id))


# -- shared with the family copy ----------------------------------------------------------------


def about_store() -> AboutStore:
    return app_state().about


def ehr_summary(keys: Sequence[str]) -> tuple[s.PatientHeader | None, dict[str, s.SummarySection]]:
    """The patient's header and the summary sections for `keys`, fetched from the EHR in parallel."""
    launch, today = current_launch(), date.today()
    header = None
    sections: dict[str, s.SummarySection] = {}
    for fetch in app_state().ehr.summary_sections(launch, current_tenant(), today=today, keys=keys):
        if fetch.key == "patient":
            header = s.patient_header(fetch, patient_id=launch.patient_id)
        sections[fetch.key] = s.summarize_section(fetch, today=today, patient_id=launch.patient_id)
    return header, sections


def user_name() -> str:
    return app_state().ehr.user_name(current_launch(), current_tenant()) or "the care team"


def audit(action: str, **detail) -> None:
    launch = current_launch()
    app_state().audit.record(action, "success", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                             launch_id=launch.launch_id, **detail)


def _checked(make):
    try:
        return make()
    except a.AboutError as err:
        raise InvalidInput(str(err)) from None


def _base_version() -> int:
    try:
        return max(int(request.form.get("base_version", "0")), 0)
    except ValueError:
        raise InvalidInput("This form is out of date. Reload the page and try again.") from None


def _fhir_json(resource: Mapping) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False, indent=2), mimetype="application/fhir+json")


# -- view-models ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class AnswerSection:
    title: str
    rows: tuple[AnswerRow, ...]


@dataclass(frozen=True, slots=True)
class ConsentRow:
    entry_id: str
    recipient: str
    role: str
    period: str
    given: str  # "Ana Rivera, 3 March 2026"
    in_force: bool


@dataclass(frozen=True, slots=True)
class AboutPage:
    intake_version: int
    saved_line: str  # "Version 2, saved 3 March 2026 by Jordan Lee"
    sections: tuple[AnswerSection, ...]
    emergency_version: int
    consent: tuple[ConsentRow, ...]


def about_page(intake: a.IntakeVersion | None, emergency_version: int, consent: Sequence[a.ConsentEntry],
               today: date) -> AboutPage:
    answers = intake.answers if intake else a.IntakeAnswers()
    sections = tuple(
        AnswerSection(section.title, tuple(AnswerRow(q.text, a.answer_display(q.link_id, answers.get(q.link_id)))
                                           for q in section.questions if answers.get(q.link_id)))
        for section in a.INTAKE)
    saved = (f"Version {intake.version}, saved {i18n.format_date(intake.saved_at.date(), 'en')} by {intake.saved_by}"
             if intake else "")
    return AboutPage(intake_version=intake.version if intake else 0, saved_line=saved,
                     sections=tuple(sec for sec in sections if sec.rows), emergency_version=emergency_version,
                     consent=consent_rows(consent, today))


def consent_rows(consent: Sequence[a.ConsentEntry], today: date) -> tuple[ConsentRow, ...]:
    def period(entry: a.ConsentEntry) -> str:
        start = i18n.format_date(entry.start, "en") or "now"
        return f"{start} to {i18n.format_date(entry.end, 'en') or 'until withdrawn'}"

    return tuple(ConsentRow(entry_id=e.entry_id, recipient=e.recipient, role=e.role, period=period(e),
                            given=f"{e.consented_by}, {i18n.format_date(e.consented_on, 'en')}",
                            in_force=e.in_force(today)) for e in consent)


def team_members(section: s.SummarySection | None) -> dict[str, tuple[str, str]]:
    """reference -> (name, role) for each provider on the care team the EHR lists (not the family)."""
    if section is None:
        return {}
    return {m.member: (m.name, m.role or m.specialty) for m in section.active
            if isinstance(m, s.CareTeamMember) and m.member and not m.member.startswith(("RelatedPerson/", "Patient/"))}


def team_choices(section: s.SummarySection | None) -> tuple[tuple[str, str], ...]:
    """(reference, "Name · role") for the consent form's picker."""
    return tuple((ref, " · ".join(p for p in pair if p)) for ref, pair in team_members(section).items())


@dataclass(frozen=True, slots=True)
class FieldView:
    link_id: str
    label: str
    hint: str
    kind: str  # text | string | choice | boolean
    value: str
    choices: tuple[tuple[str, str], ...]  # (code, label)


@dataclass(frozen=True, slots=True)
class FieldsetView:
    link_id: str
    title: str
    fields: tuple[FieldView, ...]


@dataclass(frozen=True, slots=True)
class IntakeForm:
    base_version: int
    fieldsets: tuple[FieldsetView, ...]


def intake_form_view(intake: a.IntakeVersion | None) -> IntakeForm:
    answers = intake.answers if intake else a.IntakeAnswers()
    return IntakeForm(
        base_version=intake.version if intake else 0,
        fieldsets=tuple(FieldsetView(section.link_id, section.title, tuple(
            FieldView(q.link_id, q.text, q.hint, q.kind.value, answers.get(q.link_id),
                      tuple((c.code, c.display) for c in q.choices)) for q in section.questions))
            for section in a.INTAKE))
