"""Test controls for the sandbox: live config, token expiry and revocation, resources, request logs.

Layer: sandbox (Flask blueprint under /_sandbox). JSON in, JSON out. For tests, benchmarks and the
demo only; a real EHR has nothing like it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from sandbox import roster, upstream
from sandbox.config import ConfigError, merge_live
from sandbox.state import fhir_base, sandbox_state
from sandbox.tokens import LaunchContext

bp = Blueprint("sandbox_controls", __name__, url_prefix="/_sandbox")


def _problem(message: str, status: int = 400):
    return jsonify(error=message), status


@bp.post("/config")
def change_config():
    state = sandbox_state()
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        return _problem("send a JSON object of settings")
    try:
        merge_live(state.config, changes)
    except (ConfigError, TypeError) as wrong:
        return _problem(str(wrong))
    if "faults" in changes:
        state.faults.arm(state.config.faults)
    return jsonify(changed=sorted(changes))


@bp.post("/tokens/expire")
def expire_access_tokens():
    sandbox_state().tokens.expire_all_access()
    return jsonify(expired=True)


@bp.post("/tokens/revoke")
def revoke_refresh_tokens():
    sandbox_state().tokens.revoke_all_refresh()
    return jsonify(revoked=True)


@bp.post("/resources")
def put_resources():
    resources = request.get_json(silent=True)
    if not isinstance(resources, list) or not all(
            isinstance(r, dict) and r.get("resourceType") and r.get("id") for r in resources):
        return _problem("send a JSON list of resources, each with resourceType and id")
    state = sandbox_state()
    stored = [state.store.put(r) for r in resources]
    if state.config.upstream_fhir:  # the FHIR data is the upstream's; the store only feeds the chart pages
        return _put_upstream(state.config.upstream_fhir, resources)
    return jsonify([{"resourceType": r["resourceType"], "id": r["id"], "versionId": r["meta"]["versionId"]}
                    for r in stored])


def _put_upstream(base: str, resources: list[dict]):
    entries = upstream.put_resources(base, resources)
    refused = upstream.refusals(resources, entries)
    if refused:
        return _problem("the upstream FHIR server refused: " + " | ".join(refused))
    return jsonify([{"resourceType": r["resourceType"], "id": r["id"],
                     "versionId": upstream.version_of(entry)} for r, entry in zip(resources, entries, strict=True)])


@bp.get("/requests")
def request_log():
    return jsonify(sandbox_state().log.entries())


@bp.get("/token-requests")
def token_request_log():
    return jsonify(sandbox_state().token_log.entries())


@bp.post("/requests/clear")
def clear_request_log():
    sandbox_state().log.clear()
    sandbox_state().token_log.clear()
    return jsonify(cleared=True)


@bp.post("/launches")
def issue_launch():
    """A launch id without the chart page, for end-to-end tests: {patient, user, encounter}."""
    state = sandbox_state()
    body = request.get_json(silent=True) or {}
    user = body.get("user") or roster.users(state.store, state.config.users)[0].practitioner_id
    context = LaunchContext(body.get("patient"), user, body.get("encounter"),
                            bool(body.get("need_patient_banner", True)))
    launch_id = state.tokens.issue_launch(context)
    return jsonify(launch=launch_id, iss=fhir_base())
