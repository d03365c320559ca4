"""About us, emergency and legal information, release-of-information consent.

Layer: HTTP in (views). Parse, call, render. The view-models for these pages live here too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from flask import Response, redirect, render_template, request, url_for

from ..errors import InvalidInput
from ..plan import about as a
from ..plan import i18n
from ..web import current_launch, current_tenant, launch_blueprint, services
from . import pages

bp = launch_blueprint("about", __name__)


@bp.get("/about")
def show():
    launch, about_us = current_launch(), services().about_us
    overview = about_us.overview(launch, current_tenant())
    today = about_us.clock.today()
    return render_template("about/show.html",
                           page=about_page(overview.intake, overview.emergency_version, overview.consent, today),
                           copy=overview.copy, banner=pages.banner_from(overview.summary.header, today),
                           need_banner=launch.need_patient_banner)


@bp.get("/about/intake")
def intake_form():
    return render_template("about/intake.html", form=intake_form_view(services().about_us.intake(current_launch())))


@bp.post("/about/intake")
def save_intake():
    services().about_us.save_intake(current_launch(), current_tenant(), request.form, _base_version())
    return redirect(url_for("about.show", _anchor="about-us"), code=303)


@bp.get("/about/questionnaire")
def questionnaire():
    return _fhir_json(a.intake_questionnaire())


@bp.get("/about/questionnaire-response")
def questionnaire_response():
    """The latest answers as a FHIR QuestionnaireResponse (400 before the first save)."""
    return _fhir_json(services().about_us.questionnaire_response(current_launch()))


@bp.get("/about/emergency")
def emergency_form():
    version, info = services().about_us.emergency(current_launch())
    return render_template("about/emergency.html", info=info, version=version)


@bp.post("/about/emergency")
def save_emergency():
    services().about_us.save_emergency(current_launch(), current_tenant(), request.form, _base_version())
    return redirect(url_for("about.show", _anchor="emergency"), code=303)


@bp.get("/about/consent")
def consent_form():
    launch, about_us = current_launch(), services().about_us
    today = about_us.clock.today()
    return render_template("about/consent.html", team=team_choices(about_us.team(launch, current_tenant())),
                           entries=consent_rows(about_us.consent(launch), today), today=today.isoformat())


@bp.post("/about/consent")
def add_consent():
    services().about_us.add_consent(current_launch(), current_tenant(), request.form)
    return redirect(url_for("about.consent_form"), code=303)


@bp.post("/about/consent/<entry_id>/remove")
def remove_consent(entry_id: str):
    services().about_us.withdraw_consent(current_launch(), current_tenant(), entry_id)
    return redirect(url_for("about.consent_form"), code=303)


@bp.get("/about/consent.json")
def consent_bundle():
    """The consent in force as FHIR Consent resources (a collection Bundle)."""
    return _fhir_json(services().about_us.consent_bundle(current_launch()))


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


def team_choices(team: Mapping[str, tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(reference, "Name · role") for the consent form's picker."""
    return tuple((ref, " · ".join(p for p in pair if p)) for ref, pair in team.items())


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
