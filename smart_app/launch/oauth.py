"""OAuth 2.0 mechanics through authlib: authorize URL (PKCE S256), code exchange, refresh, client
authentication (public, secret, private_key_jwt), id_token checks.

Layer: launch.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..errors import ConfigError, FhirAccessError, LaunchError, SessionExpired
from ..fhir.bodies import check_ehr_body
from ..tenants import Tenant

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW_S = 60
ASSERTION_LIFETIME_S = 300  # R25: exp at most five minutes ahead
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "ES256", "ES384"]


class ClientKeys:
    """Private signing keys for confidential-asymmetric tenants, loaded from files named by env vars."""

    def __init__(self, tenants) -> None:
        self._sets: dict[str, KeySet] = {}
        for tenant in tenants:
            if tenant.client_type == "confidential-asymmetric":
                self._sets[tenant.key] = _load_key_set(tenant)

    def signing_key(self, tenant: Tenant):
        keys = self._sets.get(tenant.key)
        kty = "EC" if tenant.signing_alg == "ES384" else "RSA"
        for key in keys.keys if keys else ():
            if key.key_type == kty and key.kid:
                return key
        raise ConfigError(f"No {tenant.signing_alg} key with a kid is configured for {tenant.name}.")

    def public_jwks(self) -> dict[str, Any]:
        """Public halves only, de-duplicated by kid; several keys allowed during rotation (R26)."""
        seen: dict[str, dict[str, Any]] = {}
        for keys in self._sets.values():
            for key in keys.keys:
                public = key.as_dict(private=False)
                public.setdefault("use", "sig")
                seen.setdefault(str(key.kid), public)
        return {"keys": list(seen.values())}


def _load_key_set(tenant: Tenant) -> KeySet:
    path = os.environ.get(tenant.private_key_env or "", "")
    if not path:
        raise ConfigError(f"Set {tenant.private_key_env} to the JWK set file for {tenant.name}.")
    try:
        return KeySet.import_key_set(json.loads(Path(path).read_text()))
    except (OSError, ValueError, JoseError) as err:
        raise ConfigError(f"The JWK set for {tenant.name} could not be loaded.") from err


def client_assertion(tenant: Tenant, token_endpoint: str, keys: ClientKeys, *, now: float) -> str:
    """A private_key_jwt assertion: kid, typ JWT, iss=sub=client_id, aud=token URL, fresh jti (R25)."""
    key = keys.signing_key(tenant)
    issued = int(now)
    claims = {
        "iss": tenant.client_id,
        "sub": tenant.client_id,
        "aud": token_endpoint,
        "jti": secrets.token_urlsafe(32),
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_S,
    }
    header = {"alg": tenant.signing_alg, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[tenant.signing_alg])


def _session(tenant: Tenant, *, scope: str | None = None, timeout_s: float) -> OAuth2Session:
    if tenant.client_type == "confidential-symmetric":
        session = OAuth2Session(
            tenant.client_id,
            tenant.client_secret(),
            token_endpoint_auth_method="client_secret_basic",
            redirect_uri=tenant.redirect_uri,
            scope=scope,
            code_challenge_method="S256",
        )
    else:
        session = OAuth2Session(
            tenant.client_id,
            token_endpoint_auth_method="none",
            redirect_uri=tenant.redirect_uri,
            scope=scope,
            code_challenge_method="S256",
        )
    session.default_timeout = timeout_s
    for hook in ("access_token_response", "refresh_token_response"):  # before authlib parses the answer
        session.register_compliance_hook(hook, _within_limits)
    return session


def _within_limits(response: requests.Response) -> requests.Response:
    check_ehr_body(response.content)  # FhirAccessError past the size or depth limit
    return response


def authorization_url(
    tenant: Tenant, authorize_endpoint: str, *, state: str, code_verifier: str, scope: str, launch: str | None,
    timeout_s: float,
) -> str:
    """The authorize URL: PKCE S256 always (R7), aud = iss byte for byte (R8), launch echoed (R9)."""
    extra = {"aud": tenant.iss}
    if launch is not None:
        extra["launch"] = launch
    url, _ = _session(tenant, scope=scope, timeout_s=timeout_s).create_authorization_url(
        authorize_endpoint, state=state, code_verifier=code_verifier, **extra
    )
    return url


def _token_call(tenant: Tenant, token_endpoint: str, keys: ClientKeys, call: Callable[[OAuth2Session, dict], Any],
                timeout_s: float, now: float) -> dict[str, Any]:
    session = _session(tenant, timeout_s=timeout_s)
    extra: dict[str, str] = {}
    if tenant.client_type == "confidential-asymmetric":
        extra = {"client_assertion_type": ASSERTION_TYPE,
                 "client_assertion": client_assertion(tenant, token_endpoint, keys, now=now)}
    try:
        token = call(session, extra)
    finally:
        session.close()
    return dict(token)


def exchange_code(tenant: Tenant, token_endpoint: str, *, code: str, code_verifier: str, keys: ClientKeys,
                  timeout_s: float, now: float) -> dict[str, Any]:
    """Trade the authorization code for tokens at the endpoint stored with the state (R14)."""
    try:
        return _token_call(
            tenant, token_endpoint, keys,
            lambda s, extra: s.fetch_token(token_endpoint, code=code, code_verifier=code_verifier,
                                           grant_type="authorization_code", **extra),
            timeout_s, now,
        )
    except AuthlibBaseError as err:
        raise LaunchError(f"The EHR refused to complete the sign-in ({err.error}).") from None
    except FhirAccessError:
        raise LaunchError("The EHR's token service sent an answer the app could not read.") from None
    except (requests.RequestException, ValueError):
        raise LaunchError("The EHR's token service could not be reached.") from None


def refresh_tokens(tenant: Tenant, token_endpoint: str, refresh_token: str, keys: ClientKeys,
                   timeout_s: float, *, now: float) -> dict[str, Any]:
    """A refreshed token response. invalid_grant ends the session: relaunch from the chart (R33)."""
    try:
        return _token_call(
            tenant, token_endpoint, keys,
            lambda s, extra: s.refresh_token(token_endpoint, refresh_token=refresh_token, **extra),
            timeout_s, now,
        )
    except AuthlibBaseError as err:
        if err.error == "invalid_grant":
            raise SessionExpired("The EHR ended access for this session.") from None
        raise SessionExpired(f"The EHR refused to renew access ({err.error}).") from None
    except FhirAccessError:
        raise SessionExpired("The EHR's token service sent an answer the app could not read.") from None
    except (requests.RequestException, ValueError):
        raise SessionExpired("The EHR's token service could not be reached to renew access.") from None


def validate_id_token(id_token: str, *, issuer: str | None, client_id: str, iss: str, now: float,
                      key_set: Callable[[bool], KeySet] | None) -> str | None:
    """Checks signature, iss, aud and exp (R22); returns fhirUser as an absolute URL, if any.

    `key_set(fresh)` gives the issuer's keys (see DiscoveryClient.key_set); a signature the cached keys
    do not verify is tried once more on keys fetched anew, as an EHR that rotated its keys needs."""
    if key_set is None or not issuer:
        raise LaunchError("The EHR sent an id_token but no way to verify it.")
    try:
        try:
            token = jwt.decode(id_token, key_set(False), algorithms=ID_TOKEN_ALGORITHMS)
        except (JoseError, ValueError):
            token = jwt.decode(id_token, key_set(True), algorithms=ID_TOKEN_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=CLOCK_SKEW_S,  # an EHR's clock a little ahead of ours must not fail every launch
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
        ).validate(token.claims)
    except (requests.RequestException, ValueError, JoseError, FhirAccessError):
        raise LaunchError("The EHR's identity token could not be verified.") from None
    fhir_user = token.claims.get("fhirUser")
    if not isinstance(fhir_user, str) or not fhir_user:
        return None
    if "://" not in fhir_user:  # R22: relative fhirUser is relative to the FHIR base
        fhir_user = iss.rstrip("/") + "/" + fhir_user.lstrip("/")
    return fhir_user


