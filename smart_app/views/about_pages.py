"""About us, emergency and legal information, release-of-information consent.

Layer: HTTP in (views). Parse, call, render. The view-models for these pages live here too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, redirect, render_template, request, url_for

from ..errors import InvalidInput
from ..plan import about as a
from ..plan.family import RequestKind
from ..web import current_launch, current_tenant, launch_blueprint, services
from . import summary_models
from .about_models import about_page, consent_rows, intake_form_view, team_choices
from .family_models import team_requests

bp = launch_blueprint("about", __name__)


@bp.get("/about")
def show():
    launch, about_us = current_launch(), services().about_us
    overview = about_us.overview(launch, current_tenant())
    today = about_us.clock.today()
    return render_template("about/show.html",
                           page=about_page(overview.intake, overview.emergency_version, overview.consent, today),
                           copy=overview.copy, banner=summary_models.banner_from(overview.header, today),
                           need_banner=launch.need_patient_banner, back="about",
                           family_requests=team_requests(services().family.open_requests(launch), None,
                                                         kinds=(RequestKind.ABOUT_CHANGE,)))


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
