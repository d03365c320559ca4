"""The sandbox EHR's Flask application: wiring, the /fhir gateway (latency, faults, request log).

Layer: sandbox. `create_sandbox(config)` is the only entry point; nothing is read at import time.
"""

from __future__ import annotations

import time
from datetime import date

from flask import Flask, Response, g, redirect, request
from werkzeug.exceptions import HTTPException

from sandbox import auth, chart, controls, fhir, portal, upstream
from sandbox.config import SandboxConfig
from sandbox.data import characters
from sandbox.fhir import FhirError, error_response
from sandbox.state import EXTENSION, FaultBook, SandboxState, sandbox_state
from sandbox.store import ResourceStore


def create_sandbox(config: SandboxConfig | None = None) -> Flask:
    config = config or SandboxConfig()
    app = Flask(__name__, static_url_path="/ehr/static")
    app.json.sort_keys = False
    resources = config.resources if config.resources is not None else bundled_resources(config.day())
    app.extensions[EXTENSION] = SandboxState(config, ResourceStore(resources, now=config.now),
                                             faults=FaultBook(config.faults))
    # With an upstream FHIR server the sandbox is only its SMART front door: its own store then only
    # names the patients and users of the chart pages.
    fhir_blueprint = upstream.bp if config.upstream_fhir else fhir.bp
    for blueprint in (auth.bp, fhir_blueprint, chart.bp, portal.bp, controls.bp):
        app.register_blueprint(blueprint)
    _install_gateway(app)
    app.add_url_rule("/", "home", lambda: redirect("/ehr/"))
    return app


def bundled_resources(today: date) -> list[dict]:
    """The synthetic characters, with every date computed from `today`."""
    return characters.build_resources(today)


def _is_fhir_request() -> bool:
    return request.path == "/fhir" or request.path.startswith("/fhir/")


def _install_gateway(app: Flask) -> None:
    @app.before_request
    def _latency_and_faults():
        if not _is_fhir_request():
            return None
        g.sandbox_started = time.perf_counter()
        state = sandbox_state()
        if state.config.latency_ms > 0:
            time.sleep(state.config.latency_ms / 1000)
        target = f"{request.path}?{request.query_string.decode('latin-1')}"
        fault = state.faults.take(request.method, target)
        if fault is None:
            return None
        if fault.delay_ms > 0:
            time.sleep(fault.delay_ms / 1000)
        if fault.body is not None:
            return Response(fault.body, status=fault.status, mimetype="application/fhir+json")
        if fault.status < 400:
            return None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return error_response(FhirError(fault.status, f"injected fault: HTTP {fault.status}", "transient", headers))

    @app.after_request
    def _log_fhir_request(response):
        if _is_fhir_request() and "sandbox_started" in g:
            sandbox_state().log.add({
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode("latin-1"),
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.sandbox_started) * 1000, 1),
                "started_ms": round(g.sandbox_started * 1000, 1),  # on the sandbox's own clock: for order only
            })
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if _is_fhir_request():
            return error_response(FhirError(error.code or 500, error.description or error.name, "processing"))
        return error
