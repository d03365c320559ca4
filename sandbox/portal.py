"""The sandbox EHR's patient portal: a parent or a patient signs in and launches the app standalone.

Layer: sandbox (Flask blueprint under /portal). No password: a sandbox account is picked by a button.
The session is a random cookie value held in memory (SandboxState.portal); authorize reads it to
know the portal user (sandbox.auth).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request

from sandbox.config import PortalAccount
from sandbox.state import fhir_base, sandbox_state

bp = Blueprint("sandbox_portal", __name__, url_prefix="/portal")

SESSION_COOKIE = "sandbox_portal"
PORTAL_NAME = "Northwind Health patient portal"
APP_NAME = "Shared Plan of Care"


def signed_in_account() -> PortalAccount | None:
    """The portal account this browser is signed in as (by its cookie), if it still exists."""
    state = sandbox_state()
    return state.config.portal_account(state.portal.account_id(request.cookies.get(SESSION_COOKIE)))


def family_launch_href() -> str:
    url = sandbox_state().config.family_launch_url()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode({'iss': fhir_base()})}"


@bp.get("/")
def sign_in_page():
    return _sign_in_page(None, 200)


@bp.post("/sign-in")
def sign_in():
    state = sandbox_state()
    account = state.config.portal_account(request.form.get("account"))
    if account is None:
        return _sign_in_page("There is no portal account with that name. Choose one below.", 400)
    state.portal.sign_out(request.cookies.get(SESSION_COOKIE))  # a new sign-in replaces the old session
    response = redirect("/portal/home", code=303)
    response.set_cookie(SESSION_COOKIE, state.portal.sign_in(account.account_id), path="/", httponly=True,
                        samesite="Lax", secure=request.is_secure)
    return _no_store(response)


@bp.get("/home")
def home():
    account = signed_in_account()
    if account is None:
        return _no_store(redirect("/portal/", code=303))
    page = render_template("portal_home.html", portal_name=PORTAL_NAME, app_name=APP_NAME, account=account,
                           app_href=family_launch_href())
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/sign-out")
def sign_out():
    sandbox_state().portal.sign_out(request.cookies.get(SESSION_COOKIE))
    response = redirect("/portal/", code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=request.is_secure)
    return _no_store(response)


def _sign_in_page(error: str | None, status: int):
    accounts = sandbox_state().config.portal_accounts
    page = render_template("portal_sign_in.html", portal_name=PORTAL_NAME, accounts=accounts, error=error)
    return page, status, {"Cache-Control": "no-store"}


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
