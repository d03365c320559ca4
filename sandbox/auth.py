"""The sandbox's SMART App Launch 2.2 authorization server: discovery, authorize, token, JWKS.

Layer: sandbox (Flask blueprint). Stricter than most real EHRs on purpose: exact redirect URIs,
`aud` equal to the FHIR base, PKCE S256 only, single-use codes, rotating refresh tokens, and
private_key_jwt assertions checked for alg, kid, iss/sub, aud, exp (<= 300 s) and jti reuse.
A standalone patient launch by a patient-portal user (sandbox.portal) gets that account's patient and
user, and only patient-level read scopes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from urllib.parse import unquote, urlencode

import requests
from flask import Blueprint, jsonify, redirect, render_template, request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from sandbox import portal, roster
from sandbox.config import PortalAccount, SandboxClient
from sandbox.scopes import Grant, narrowed, parse_resource_scope, understood
from sandbox.state import fhir_base, host_url, sandbox_state
from sandbox.tokens import Authorization, LaunchContext

bp = Blueprint("sandbox_auth", __name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ("RS384", "ES384")
MAX_ASSERTION_LIFETIME_S = 300
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
CAPABILITIES = (
    "launch-ehr", "launch-standalone", "authorize-post", "client-public", "client-confidential-symmetric",
    "client-confidential-asymmetric", "context-ehr-patient", "context-ehr-encounter",
    "context-standalone-patient", "context-banner", "permission-patient", "permission-user",
    "permission-v1", "sso-openid-connect", "permission-offline", "permission-online",
)


class OAuthError(Exception):
    """An OAuth error: answered as JSON at the token endpoint, as a redirect at authorize."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


# --- discovery ---------------------------------------------------------------------------------

@bp.get("/fhir/.well-known/smart-configuration")
def smart_configuration():
    config = sandbox_state().config
    capabilities = [*CAPABILITIES, *(["permission-v2"] if config.permission_v2 else [])]
    scopes = ["openid", "fhirUser", "launch", "launch/patient", "launch/encounter", "offline_access",
              "online_access", "patient/*.read", "patient/*.write", "user/*.read", "user/*.write"]
    if config.permission_v2:
        scopes += ["patient/*.rs", "patient/*.cruds", "user/*.rs", "user/*.cruds"]
    return jsonify({
        "issuer": fhir_base(),
        "jwks_uri": f"{host_url()}/auth/jwks",
        "authorization_endpoint": f"{host_url()}/auth/authorize",
        "token_endpoint": f"{host_url()}/auth/token",
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": capabilities,
    })


@bp.get("/auth/jwks")
def jwks():
    response = jsonify(KeySet([sandbox_state().signing_key()]).as_dict(private=False))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- authorize ---------------------------------------------------------------------------------

@bp.route("/auth/authorize", methods=["GET", "POST"])
def authorize():
    state = sandbox_state()
    params = request.values
    client = state.config.client(params.get("client_id"))
    if client is None:
        return _error_page("This app is not registered with the sandbox EHR (unknown client_id).")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return _error_page("The redirect_uri is not one registered for this app.")

    def refuse(error: str, description: str):
        return _redirect_back(redirect_uri, error=error, error_description=description,
                              state=params.get("state"))

    if params.get("response_type") != "code":
        return refuse("unsupported_response_type", "response_type must be code")
    if params.get("aud") != fhir_base():
        return refuse("invalid_request", "aud must be the FHIR base URL of this server")
    if not params.get("state"):
        return refuse("invalid_request", "state is required")
    if params.get("code_challenge_method") != "S256" or not S256_CHALLENGE.fullmatch(params.get("code_challenge", "")):
        return refuse("invalid_request", "PKCE with code_challenge_method=S256 is required")
    grant = understood(params.get("scope", ""), permission_v2=state.config.permission_v2)
    if not grant.scopes:
        return refuse("invalid_scope", "no scope this server understands was requested")

    try:
        grant, context = _grant_and_context(grant, params)
    except OAuthError as refused:
        return refuse(refused.error, refused.description)
    if context is None:
        return _patient_picker(params)
    authorization = Authorization(client.client_id, grant, context, params.get("nonce"))
    code = state.tokens.issue_code(authorization, redirect_uri, params["code_challenge"])
    return _redirect_back(redirect_uri, code=code, state=params.get("state"))


def _grant_and_context(grant: Grant, params) -> tuple[Grant, LaunchContext | None]:
    """A portal user gets their own patient and a narrowed grant; anyone else today's launch context."""
    account = _portal_user(grant, params)
    if account is None:
        return grant, _launch_context(grant, params)
    context = LaunchContext(patient=account.patient_id, user=account.user_id, need_patient_banner=True,
                            user_type=account.user_type)
    return portal_grant(grant), context


def _portal_user(grant: Grant, params) -> PortalAccount | None:
    """The portal account of a standalone patient launch: named by the picker's button, else the cookie's."""
    if params.get("launch") or not grant.has("launch/patient"):
        return None
    named = params.get("sandbox_portal_account")
    if named is None:
        return portal.signed_in_account()
    account = sandbox_state().config.portal_account(named)
    if account is None:
        raise OAuthError("invalid_request", "unknown sandbox_portal_account")
    return account


def portal_grant(grant: Grant) -> Grant:
    """What a patient or a parent may be granted: patient-level reads only (no user/, system/ or writes)."""
    kept = tuple(s for s in grant.scopes if _portal_may_have(s))
    if not any(parse_resource_scope(s) for s in kept):
        raise OAuthError("invalid_scope", "a portal user may only be granted patient-level read scopes")
    return Grant(kept)


def _portal_may_have(scope: str) -> bool:
    resource_scope = parse_resource_scope(scope)
    if resource_scope is None:
        return True  # a context scope: launch/patient, openid, fhirUser, offline_access...
    return resource_scope.level == "patient" and not set(resource_scope.letters) & set("cud")


def _launch_context(grant: Grant, params) -> LaunchContext | None:
    """The context for this authorization; None when the user still has to pick a patient."""
    state = sandbox_state()
    launch_id = params.get("launch")
    if launch_id:
        if not grant.has("launch"):
            raise OAuthError("invalid_scope", "the launch scope is required with a launch parameter")
        context = state.tokens.launch(launch_id)
        if context is None:
            raise OAuthError("invalid_request", "unknown or expired launch")
        return context
    default_user = roster.users(state.store, state.config.users)[0].practitioner_id
    if not grant.has("launch/patient"):
        return LaunchContext(user=default_user, need_patient_banner=False)
    chosen = params.get("sandbox_patient")
    if chosen and state.store.resolve(f"Patient/{chosen}"):
        return LaunchContext(patient=chosen, user=default_user, need_patient_banner=True)
    return None


def _patient_picker(params):
    state = sandbox_state()
    rows = roster.patient_rows(state.store, state.config.day())
    hidden = [(k, v) for k, v in params.items(multi=True) if k not in ("sandbox_patient", "sandbox_portal_account")]
    return render_template("picker.html", patients=rows, hidden=hidden, accounts=state.config.portal_accounts)


def _error_page(message: str):
    return render_template("auth_error.html", message=message), 400


def _redirect_back(redirect_uri: str, **fields):
    fields["iss"] = fhir_base()
    query = urlencode({k: v for k, v in fields.items() if v is not None})
    separator = "&" if "?" in redirect_uri else "?"
    response = redirect(f"{redirect_uri}{separator}{query}", code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- token -------------------------------------------------------------------------------------

@bp.post("/auth/token")
def token():
    try:
        client = _authenticated_client()
        grant_type = request.form.get("grant_type")
        if grant_type == "authorization_code":
            authorization = _redeem_code(client)
        elif grant_type == "refresh_token":
            authorization = _redeem_refresh(client)
        else:
            raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
    except OAuthError as refused:
        response = _no_store(jsonify(error=refused.error, error_description=refused.description), refused.status)
    else:
        response = _no_store(jsonify(_token_response(authorization)), 200)
    # Tests show a refused callback made no token request at all (R12): the grant and status, no values.
    sandbox_state().token_log.add({"grant_type": request.form.get("grant_type"), "status": response.status_code})
    return response


def _no_store(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _redeem_code(client: SandboxClient) -> Authorization:
    pending = sandbox_state().tokens.take_code(request.form.get("code", ""))
    if pending is None:
        raise OAuthError("invalid_grant", "the code is unknown, expired or already used")
    if pending.authorization.client_id != client.client_id:
        raise OAuthError("invalid_grant", "the code was issued to another client")
    if request.form.get("redirect_uri") != pending.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
    verifier = request.form.get("code_verifier", "")
    if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(s256(verifier), pending.code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    return pending.authorization


def _redeem_refresh(client: SandboxClient) -> Authorization:
    authorization = sandbox_state().tokens.take_refresh(request.form.get("refresh_token", ""), client.client_id)
    if authorization is None:
        raise OAuthError("invalid_grant", "the refresh token is unknown, revoked or already used")
    grant = narrowed(authorization.grant, request.form.get("scope"))
    return Authorization(authorization.client_id, grant, authorization.context, authorization.nonce)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _token_response(authorization: Authorization) -> dict:
    state = sandbox_state()
    lifetime = state.config.access_token_lifetime_s
    grant, context = authorization.grant, authorization.context
    body = {
        "access_token": state.tokens.issue_access(authorization, lifetime),
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": str(grant),
    }
    if context.patient:
        body["patient"] = context.patient
        body["need_patient_banner"] = context.need_patient_banner
    if context.encounter:
        body["encounter"] = context.encounter
    if grant.has("offline_access") or grant.has("online_access"):
        body["refresh_token"] = state.tokens.issue_refresh(authorization)
    if grant.has("openid") and grant.has("fhirUser") and context.user:
        body["id_token"] = _id_token(authorization, lifetime)
    return body


def _id_token(authorization: Authorization, lifetime: int) -> str:
    now = int(sandbox_state().config.now().timestamp())
    claims = {
        "iss": fhir_base(),
        "sub": authorization.context.user,
        "aud": authorization.client_id,
        "iat": now,
        "exp": now + lifetime,
        "fhirUser": f"{fhir_base()}/{authorization.context.user_type}/{authorization.context.user}",
    }
    if authorization.nonce:
        claims["nonce"] = authorization.nonce
    key = sandbox_state().signing_key()
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


# --- client authentication ---------------------------------------------------------------------

def _authenticated_client() -> SandboxClient:
    if request.form.get("client_assertion_type") == ASSERTION_TYPE:
        return _asymmetric_client(request.form.get("client_assertion", ""))
    if request.authorization and request.authorization.type == "basic":
        return _symmetric_client()
    client = sandbox_state().config.client(request.form.get("client_id"))
    if client is None:
        raise OAuthError("invalid_client", "unknown client_id", 401)
    if client.auth != "public":
        raise OAuthError("invalid_client", f"this client must authenticate with {client.auth}", 401)
    return client


def _symmetric_client() -> SandboxClient:
    header = request.headers.get("Authorization", "")
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1]).decode("utf-8")
    except (IndexError, ValueError):
        raise OAuthError("invalid_client", "malformed Basic credentials", 401) from None
    client_id, _, secret = decoded.partition(":")
    client = sandbox_state().config.client(unquote(client_id))
    if client is None or client.auth != "client_secret_basic" or not client.secret:
        raise OAuthError("invalid_client", "client is not registered for client_secret_basic", 401)
    if not hmac.compare_digest(unquote(secret).encode(), client.secret.encode()):
        raise OAuthError("invalid_client", "wrong client secret", 401)
    return client


def _asymmetric_client(assertion: str) -> SandboxClient:
    try:
        header = jws.extract_compact(assertion.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeEncodeError):
        raise OAuthError("invalid_client", "client_assertion is not a compact JWT", 401) from None
    if header.get("alg") not in ASSERTION_ALGS:
        raise OAuthError("invalid_client", "client_assertion alg must be RS384 or ES384", 401)
    if not header.get("kid"):
        raise OAuthError("invalid_client", "client_assertion header must carry a kid", 401)
    unverified_iss = _unverified_claims(assertion).get("iss")
    client = sandbox_state().config.client(unverified_iss)
    if client is None or client.auth != "private_key_jwt":
        raise OAuthError("invalid_client", "client is not registered for private_key_jwt", 401)
    try:
        claims = jwt.decode(assertion, _client_keys(client), algorithms=list(ASSERTION_ALGS)).claims
    except (JoseError, ValueError) as failure:
        raise OAuthError("invalid_client", f"client_assertion signature not verified ({type(failure).__name__})",
                         401) from None
    _check_assertion_claims(client, claims)
    return client


def _unverified_claims(assertion: str) -> dict:
    try:
        payload = assertion.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise OAuthError("invalid_client", "client_assertion payload is not JSON", 401) from None


def _client_keys(client: SandboxClient) -> KeySet:
    if client.jwks:
        return KeySet.import_key_set(client.jwks)
    if client.jwks_url:
        fetched = requests.get(client.jwks_url, timeout=5)
        fetched.raise_for_status()
        return KeySet.import_key_set(fetched.json())
    raise OAuthError("invalid_client", "no public keys registered for this client", 401)


def _check_assertion_claims(client: SandboxClient, claims: dict) -> None:
    now = sandbox_state().config.now().timestamp()
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    problems = [
        (claims.get("iss") != client.client_id or claims.get("sub") != client.client_id,
         "iss and sub must both be the client_id"),
        (f"{host_url()}/auth/token" not in audiences, "aud must be the token endpoint URL"),
        (not isinstance(claims.get("exp"), (int, float)), "exp is required"),
        (isinstance(claims.get("exp"), (int, float)) and claims["exp"] <= now, "the assertion has expired"),
        (isinstance(claims.get("exp"), (int, float)) and claims["exp"] > now + MAX_ASSERTION_LIFETIME_S,
         "exp must be at most 300 seconds ahead"),
        (not claims.get("jti"), "jti is required"),
        (request.form.get("client_id") not in (None, "", client.client_id), "client_id differs from iss"),
    ]
    for failed, description in problems:
        if failed:
            raise OAuthError("invalid_client", description, 401)
    if not sandbox_state().tokens.use_jti(client.client_id, str(claims["jti"]), float(claims["exp"])):
        raise OAuthError("invalid_client", "jti was already used", 401)
