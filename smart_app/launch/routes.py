"""Launch endpoints: EHR launch, standalone launch, callback, the app's public JWKS.

Layer: HTTP in (Flask). Parse, call, redirect; the rules live in discovery, oauth, context.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import parse_qsl

from flask import Blueprint, g, jsonify, make_response, redirect, render_template, request, url_for

from ..errors import AuthorizationDenied, LaunchError, NotForThisUser, SmartAppError
from ..security import BROWSER_COOKIE, new_state, with_new_browser_id
from ..session import FAMILY_AUDIENCE, PROFESSIONAL_AUDIENCE, PendingAuthorization, TokenSet
from ..web import app_state
from . import oauth
from .context import context_from
from .scopes import requested_scopes

bp = Blueprint("launch", __name__)
log = logging.getLogger("smart_app.launch")


@bp.get("/launch")
def start():
    """EHR launch: `iss` and `launch` from the EHR (R1, R2)."""
    return _begin(request.args.get("iss"), request.args.get("launch"), kind="ehr")


@bp.get("/launch/standalone")
def standalone():
    """Standalone launch: the user picks the patient in the EHR's own login."""
    return _begin(request.args.get("iss"), None, kind="standalone")


@bp.get("/launch/family")
def family():
    """The family's door (issue 18): a standalone launch from the EHR's patient portal."""
    return _begin(request.args.get("iss"), None, kind="family")


def _begin(iss: str | None, launch: str | None, *, kind: str):
    state = app_state()
    if not iss:
        raise LaunchError("The EHR did not say which server launched the app (no iss).")
    try:
        tenant = state.tenants.for_iss(iss)  # R1: unknown iss refused before any outbound request
    except SmartAppError:
        state.audit.record("launch", "denied", reason="unknown-iss")
        raise
    g.tenant = tenant
    if kind == "family" and not tenant.family_launch:
        state.audit.record("launch", "denied", iss=tenant.iss, reason="family-launch-off")
        raise NotForThisUser("This clinic has not opened the Shared Plan of Care to patients and families yet. "
                             "Ask your care team for a printed copy.")
    if kind == "ehr" and not launch:
        raise LaunchError("The EHR did not send a launch context. Open the app from the patient's chart.")
    smart = state.discovery.for_tenant(tenant)
    code_verifier = secrets.token_urlsafe(64)
    oauth_state = new_state()
    scope = requested_scopes(kind=kind, write_mode=tenant.write_mode, v2=smart.permission_v2, override=tenant.scopes)
    browser, cookie = with_new_browser_id(request.cookies.get(BROWSER_COOKIE))  # never one the client chose
    state.sessions.begin_authorization(
        oauth_state,
        browser,
        PendingAuthorization(
            iss=tenant.iss, kind=kind, code_verifier=code_verifier, token_endpoint=smart.token_endpoint,
            issuer=smart.issuer, jwks_uri=smart.jwks_uri, scope=scope,
        ),
    )
    url = oauth.authorization_url(
        tenant, smart.authorization_endpoint, state=oauth_state, code_verifier=code_verifier, scope=scope,
        launch=launch, timeout_s=state.settings.fhir_timeout_s,
    )
    if len(url) > state.settings.max_authorize_url and smart.authorize_post:  # R11
        action, _, query = url.partition("?")
        response = make_response(render_template("launch/authorize_post.html", action=action, fields=parse_qsl(query)))
    else:
        response = redirect(url, code=302)  # R31: same frame, no popup
    _set_browser_cookie(response, cookie)
    if kind == "ehr":
        state.services.summary.expect_launch(tenant)
    return response


def _set_browser_cookie(response, cookie: str) -> None:
    # R30: the app lives in the EHR's iframe, a third-party context: SameSite=None; Secure; Partitioned
    response.set_cookie(
        BROWSER_COOKIE, cookie, secure=True, httponly=True, samesite="None", partitioned=True, path="/",
        max_age=60 * 60 * 12,
    )


@bp.get("/callback")
def callback():
    state = app_state()
    oauth_state = request.args.get("state")
    if request.args.get("error"):  # R16: say why, never loop back into authorize
        iss = state.sessions.issuer_of_state(oauth_state, request.cookies.get(BROWSER_COOKIE))
        if iss:
            g.tenant = state.tenants.for_iss(iss)
        state.audit.record("launch", "failure", iss=iss, reason="oauth-error", error=request.args["error"][:60])
        # Anyone can send a browser here with an error of their making: the EHR's own words are shown only
        # for a launch this browser began, and error_uri never becomes a link (issue 12 overrides R16).
        description = request.args.get("error_description") if iss else None
        raise AuthorizationDenied(_oauth_error_message(request.args["error"], description))
    try:
        pending = state.sessions.consume_authorization(oauth_state, request.cookies.get(BROWSER_COOKIE))
    except LaunchError:
        state.audit.record("launch", "failure", reason="bad-state")
        raise
    tenant = state.tenants.for_iss(pending.iss)
    g.tenant = tenant
    callback_iss = request.args.get("iss")
    if callback_iss and pending.issuer and callback_iss != pending.issuer:  # R15 (RFC 9207)
        state.audit.record("launch", "failure", iss=tenant.iss, reason="issuer-mismatch")
        raise LaunchError("The sign-in reply came from a different server than the one the launch began with.")
    code = request.args.get("code")
    if not code:
        raise LaunchError("The EHR's reply carried no authorization code.")
    # R14: the token endpoint is the one stored with the state, never one named in the callback
    response = oauth.exchange_code(
        tenant, pending.token_endpoint, code=code, code_verifier=pending.code_verifier,
        keys=state.client_keys, timeout_s=state.settings.fhir_timeout_s, now=state.clock.timestamp(),
    )
    try:
        context = context_from(response, requested_scope=pending.scope, now=state.clock.now())
    except LaunchError:
        state.audit.record("launch", "failure", iss=tenant.iss, reason="token-response")
        raise
    if response.get("encounter") and not context.encounter_id:
        log.warning("launch encounter ignored: not a FHIR id")
    fhir_user = None
    if context.id_token and "openid" in pending.scope.split():
        jwks_uri = pending.jwks_uri
        fhir_user = oauth.validate_id_token(
            context.id_token, issuer=pending.issuer, client_id=tenant.client_id, iss=tenant.iss,
            now=state.clock.timestamp(),
            key_set=(lambda fresh: state.discovery.key_set(jwks_uri, fresh=fresh)) if jwks_uri else None,
        )
    family = pending.kind == "family"
    if family and not fhir_user:
        state.audit.record("launch", "failure", iss=tenant.iss, reason="no-fhir-user")
        raise LaunchError("The portal did not say who signed in, so the family's page cannot open.")
    launch_id = state.sessions.create(
        iss=tenant.iss, patient_id=context.patient_id, fhir_user=fhir_user,
        encounter_id=None if family else context.encounter_id,
        need_patient_banner=context.need_patient_banner, intent=context.intent, scope=context.scope,
        browser=pending.browser,
        tokens=TokenSet(context.access_token, context.refresh_token, context.expires_at),
        token_endpoint=pending.token_endpoint,
        audience=FAMILY_AUDIENCE if family else PROFESSIONAL_AUDIENCE,
    )
    if family:
        launch = state.sessions.load(launch_id, request.cookies.get(BROWSER_COOKIE, ""))
        state.services.family_access.admit(launch, tenant)  # NotForThisUser, the session ended, when refused
        state.audit.record("launch", "success", iss=tenant.iss, patient_id=context.patient_id, user=fhir_user,
                           launch_id=launch_id, kind=pending.kind)
        return redirect(url_for("family.show", launch_id=launch_id), code=303)
    if context.encounter_id:
        _keep_encounter_only_if_it_is_the_patients(launch_id)
    state.audit.record("launch", "success", iss=tenant.iss, patient_id=context.patient_id, user=fhir_user,
                       launch_id=launch_id, kind=pending.kind)
    return redirect(url_for("summary.show", launch_id=launch_id), code=303)


def _keep_encounter_only_if_it_is_the_patients(launch_id: str) -> None:
    """R20: an encounter from the EHR is used only if its subject is the launch patient."""
    state = app_state()
    launch = state.sessions.load(launch_id, request.cookies.get(BROWSER_COOKIE, ""))
    if not state.services.summary.encounter_belongs_to_patient(launch, g.tenant):
        log.warning("launch encounter ignored: not this patient's or unreadable")
        state.sessions.clear_encounter(launch_id)


@bp.get("/.well-known/jwks.json")
def jwks():
    """The app's public keys for private_key_jwt (R26): public only, no auth, cacheable."""
    response = jsonify(app_state().client_keys.public_jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _oauth_error_message(error: str, description: str | None) -> str:
    known = {
        "access_denied": "Access to the Shared Plan of Care was not granted.",
        "invalid_scope": "The EHR did not accept the access the app asked for.",
        "invalid_request": "The EHR could not accept the launch request.",
        "unauthorized_client": "The EHR does not allow this app to be launched here.",
        "server_error": "The EHR had a problem signing you in.",
        "temporarily_unavailable": "The EHR's sign-in service is busy. Try again in a moment.",
    }
    message = known.get(error, "The EHR did not complete the sign-in.")
    if description:
        message += f" The EHR said: “{description[:300]}”"
    return message
