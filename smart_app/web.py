"""Request plumbing shared by every blueprint: the current launch, CSRF, headers, error pages.

Layer: HTTP in (Flask). Embedded-in-the-EHR rules live here, and stay on in tests (R56, R57, R59).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask.wrappers import Request
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from .errors import InvalidInput, NotForThisUser, SessionExpired, SmartAppError
from .plan.text import clean_text, isolated
from .security import BROWSER_COOKIE, same_secret
from .session import LaunchSession
from .tenants import Tenant, origin_of

if TYPE_CHECKING:
    from . import AppState
    from .services import Services

log = logging.getLogger("smart_app.web")


def app_state() -> AppState:
    return current_app.extensions["spoc"]


def services() -> Services:
    return app_state().services


def current_launch() -> LaunchSession:
    launch = g.get("launch")
    if launch is None:
        raise SessionExpired("Open the Shared Plan of Care from the patient's chart.")
    return launch


def current_tenant() -> Tenant | None:
    return g.get("tenant")


def bind_launch(launch_id: str, *, family: bool = False) -> LaunchSession:
    """Load the launch named in the URL for this browser; sets g.launch and g.tenant. A family launch
    reaches only the family's pages (`family=True`), a professional launch only the others."""
    state = app_state()
    launch = state.sessions.load(launch_id, request.cookies.get(BROWSER_COOKIE))
    if launch.is_family is not family:
        state.audit.record("page", "denied", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                           launch_id=launch.launch_id, reason="wrong-audience")
        raise NotForThisUser("This page is for the care team." if launch.is_family
                             else "This page is for the patient and family.")
    if launch.is_family and not launch.access_rule:  # signed in, but not (yet) admitted by the site's rule
        raise NotForThisUser("The care team has not given you access to this plan.")
    g.launch = launch
    g.tenant = state.tenants.for_iss(launch.iss)
    return launch


def check_csrf(launch: LaunchSession) -> None:
    """Every POST carries the launch's CSRF token, as a form field or an X-CSRF-Token header."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    if not same_secret(sent, launch.csrf_token):
        raise InvalidInput("This form has expired. Reload the page and try again.")


def launch_blueprint(name: str, import_name: str, *, family: bool = False) -> Blueprint:
    """A blueprint whose pages live under /p/<launch_id>/ (the family's under /f/<launch_id>/): each
    request is bound to its launch (R29: two charts in one browser never share one), a family launch
    reaches only the family's pages, and every POST is CSRF-checked."""
    bp = Blueprint(name, import_name, url_prefix="/f/<launch_id>" if family else "/p/<launch_id>")

    @bp.url_value_preprocessor
    def _bind(endpoint, values):
        bind_launch(values.pop("launch_id"), family=family)

    @bp.url_defaults
    def _launch_in_urls(endpoint, values):
        if "launch_id" not in values and g.get("launch") is not None:
            values["launch_id"] = g.launch.launch_id

    @bp.before_request
    def _csrf():
        if request.method == "POST":
            check_csrf(current_launch())

    return bp


class CleanFormRequest(Request):
    """A request whose posted form values are cleaned (plan.text.clean_text) before any view reads them:
    the form's door for text, so no view has to remember it."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__["form"]
        self.__dict__["form"] = type(form)((clean_text(k), clean_text(v)) for k, v in form.items(multi=True))


def shown(value: object) -> object:
    """What a template's `{{ value }}` prints: text with its bidi controls isolated (plan.text.isolated),
    so a value never reorders the page around it; Markup (already built by the app) as it is."""
    if type(value) is str or (isinstance(value, str) and not isinstance(value, Markup)):  # plain str first: most
        return isolated(value)
    return value


def register(app: Flask) -> None:
    app.request_class = CleanFormRequest
    app.jinja_env.finalize = shown  # set before any template is compiled: Jinja bakes it in

    @app.context_processor
    def template_helpers():
        def csrf_field() -> Markup:
            launch = g.get("launch")
            token = launch.csrf_token if launch else ""
            return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')

        return {"csrf_field": csrf_field, "nav_endpoints": frozenset(app.view_functions)}

    @app.after_request
    def embedded_headers(resp: Response) -> Response:
        tenant = current_tenant()
        ancestors = tenant.frame_ancestors if tenant else app_state().tenants.all_frame_ancestors()
        form_targets = " ".join(sorted({origin_of(t.iss) for t in ([tenant] if tenant else app_state().tenants)}))
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; "
            f"form-action 'self' {form_targets}; "
            f"frame-ancestors {' '.join(ancestors) or chr(39) + 'none' + chr(39)}"
        )
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"  # the launch handle must not leak in Referer
        resp.headers.pop("X-Frame-Options", None)  # R56: never DENY/SAMEORIGIN; CSP governs framing
        if request.endpoint not in ("static", "launch.jwks"):
            resp.headers["Cache-Control"] = "no-store"  # R59: PHI pages are never cached
            resp.headers["Pragma"] = "no-cache"
        return resp

    @app.errorhandler(SmartAppError)
    def smart_app_error(err: SmartAppError):
        log.warning("smart_app_error kind=%s status=%s", type(err).__name__, err.http_status)
        return render_template("errors/error.html", error=err), err.http_status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        return render_template("errors/error.html", error=_PlainError(err)), err.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(err: Exception):
        log.error("unexpected_error kind=%s", type(err).__name__, exc_info=err)
        return render_template("errors/error.html", error=_PlainError(None)), 500


class _PlainError:
    """A werkzeug HTTP error, or an unexpected one, shown with the same friendly page."""

    relaunch_hint = False

    def __init__(self, err: HTTPException | None) -> None:
        self.title = err.name if err else "Something went wrong"
        self.message = (
            "That page does not exist." if err is not None and err.code == 404
            else "The request could not be handled." if err is not None
            else "The app hit an unexpected problem. Nothing you entered has been lost; try again."
        )

    def __str__(self) -> str:
        return self.message
