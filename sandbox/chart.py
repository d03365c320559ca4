"""The sandbox EHR's chart pages: a patient list and a chart that launches our app in an iframe.

Layer: sandbox (Flask blueprint under /ehr). The iframe's host differs from the chart's
(localhost vs 127.0.0.1) so the app runs cross-site, as inside a real EHR.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from sandbox import roster
from sandbox.config import SandboxUser
from sandbox.state import fhir_base, sandbox_state
from sandbox.tokens import LaunchContext

bp = Blueprint("sandbox_chart", __name__, url_prefix="/ehr")


def _signed_in(users: list[SandboxUser]) -> SandboxUser:
    wanted = request.args.get("user")
    return next((u for u in users if u.practitioner_id == wanted), users[0])


def _today() -> date:
    return sandbox_state().config.day()


@bp.get("/")
def patient_list():
    state = sandbox_state()
    users = roster.users(state.store, state.config.users)
    return render_template("patients.html", patients=roster.patient_rows(state.store, _today()),
                           users=users, user=_signed_in(users))


@bp.get("/patient/<patient_id>")
def patient_chart(patient_id: str):
    state = sandbox_state()
    patient = state.store.resolve(f"Patient/{patient_id}")
    if patient is None:
        abort(404)
    users = roster.users(state.store, state.config.users)
    user = _signed_in(users)
    encounter = request.args.get("encounter") or None
    banner = request.args.get("banner", "1") != "0"
    launch_id = state.tokens.issue_launch(LaunchContext(patient_id, user.practitioner_id, encounter, banner))
    app_url = f"{state.config.app_launch_url}?{urlencode({'iss': fhir_base(), 'launch': launch_id})}"
    response = render_template("chart.html", patient=roster.patient_row(patient, _today()), user=user,
                               users=users, app_url=app_url, side_panel=request.args.get("frame") == "narrow")
    return response, 200, {"Cache-Control": "no-store"}
