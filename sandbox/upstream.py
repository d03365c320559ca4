"""The sandbox as the SMART front door of another FHIR server, the way SMART's own launcher proxies one.

Layer: sandbox (Flask blueprint under /fhir, registered instead of sandbox.fhir's when
`SandboxConfig.upstream_fhir` is set). Imports: stdlib, Flask and sandbox only.

What stays on the sandbox's side: the Bearer token; the scopes of every request and of every entry of a
Bundle; the patient's compartment (a search names the patient in context, a write stays in it, an
answer outside it is withheld); and the sandbox's own write policy (`write_types`,
`transaction_supported`, `max_transaction_entries`). Everything else is the upstream server's: its
search, paging, validation, transaction rules and status codes. A request goes on with its method,
path and query string exactly as received, its body and its conditional headers; the answer comes back
with the upstream's status, body and headers, its base URL rewritten to the sandbox's /fhir base.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl

from flask import Blueprint, current_app, g, request

from sandbox.fhir import (
    FHIR_JSON,
    TYPE_NAME,
    FhirError,
    bearer_caller,
    check_patient,
    error_response,
    granted,
    require_bundle_allowed,
    require_compartment_search,
    require_scope,
    require_writable,
    smart_security,
    visible,
)
from sandbox.state import fhir_base, host_url, sandbox_state
from sandbox.tokens import Authorization

bp = Blueprint("sandbox_upstream", __name__, url_prefix="/fhir")
bp.register_error_handler(FhirError, error_response)

SENT_HEADERS = ("Content-Type", "Accept", "If-Match", "If-None-Exist", "If-None-Match", "If-Modified-Since",
                "Prefer")
RETURNED_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Location", "Content-Location")
WRITE_LETTER = {"POST": "c", "PUT": "u", "PATCH": "u", "DELETE": "d"}
WRITE_INTERACTIONS = frozenset({"create", "update", "patch", "delete"})
TIMEOUT_S = 30

Resolve = Callable[[str], "dict | None"]


@dataclass(frozen=True)
class Answer:
    status: int
    body: object  # the parsed JSON, or None when the upstream sent none
    raw: bytes
    headers: dict[str, str]


# --- routes ------------------------------------------------------------------------------------

@bp.before_request
def _require_bearer():
    if request.endpoint != "sandbox_upstream.metadata":
        g.caller = bearer_caller()


@bp.get("/metadata")
def metadata():
    """The upstream's CapabilityStatement with the sandbox's SMART endpoints and write policy."""
    answer = send(upstream_base(), "GET", "metadata")
    statement = answer.body
    if answer.status == 200 and isinstance(statement, dict) and statement.get("resourceType") == "CapabilityStatement":
        statement = front_door_statement(statement)
    return reply(answer, statement)


@bp.route("", methods=["GET", "POST"])
@bp.route("/", methods=["GET", "POST"])
@bp.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def forward(path: str = ""):
    caller: Authorization = g.caller
    body = request.get_data()
    parts = [p for p in path.split("/") if p]
    params = list(request.args.items(multi=True))
    if request.method == "POST" and parts[1:] == ["_search"]:
        params += parse_qsl(body.decode("utf-8", "replace"))
    check_request(caller, request.method, parts, params, _json_or_none(body), upstream_read)
    headers = {name: request.headers[name] for name in SENT_HEADERS if name in request.headers}
    answer = send(upstream_base(), request.method, path, request.query_string.decode("latin-1"), body, headers)
    return reply(answer, screen(caller, answer.body))


# --- authorization -----------------------------------------------------------------------------

def check_request(caller: Authorization, method: str, parts: list[str], params: list[tuple[str, str]],
                  resource: object, resolve: Resolve) -> None:
    """The sandbox's checks for one interaction (or one Bundle entry), before it goes upstream."""
    if not parts:
        if method == "POST" and isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
            return _check_bundle(caller, resource)
        raise FhirError(403, "system-level interactions are not offered to apps", "forbidden")
    resource_type = parts[0]
    if not TYPE_NAME.match(resource_type):
        raise FhirError(404, f"{resource_type} is not a resource type", "not-supported")
    searching = (method == "GET" and len(parts) == 1) or (method == "POST" and parts[1:] == ["_search"])
    if searching:
        require_scope(caller, resource_type, "s")
        return _check_compartment_search(caller, resource_type, params)
    if method == "GET":
        return require_scope(caller, resource_type, "r")
    if method not in WRITE_LETTER:
        raise FhirError(405, f"{method} is not forwarded", "not-supported")
    require_writable(sandbox_state(), resource_type)
    require_scope(caller, resource_type, WRITE_LETTER[method])
    if len(parts) == 1 and method != "POST":
        _check_compartment_search(caller, resource_type, params)  # conditional update or delete
    if len(parts) == 2:
        current = resolve(f"{resource_type}/{parts[1]}")
        if current is not None and not visible(caller, current, resolve):
            raise FhirError(403, f"{resource_type}/{parts[1]} is outside the patient in context", "forbidden")
    if isinstance(resource, dict) and resource.get("resourceType") and method in ("POST", "PUT"):
        check_patient(caller, resource, resolve)


def _check_compartment_search(caller: Authorization, resource_type: str, params: list[tuple[str, str]]) -> None:
    named = [v for name, value in params if name.partition(":")[0] in ("patient", "subject")
             for v in value.split(",") if v]
    require_compartment_search(caller, resource_type, named)


def _check_bundle(caller: Authorization, bundle: dict) -> None:
    """Every entry is checked as its own interaction; references to other entries resolve inside."""
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    if bundle.get("type") in ("transaction", "batch"):
        require_bundle_allowed(sandbox_state(), bundle["type"], len(entries))
    in_bundle = {e["fullUrl"]: e["resource"] for e in entries
                 if isinstance(e.get("fullUrl"), str) and isinstance(e.get("resource"), dict)}

    def resolve(reference: str) -> dict | None:
        return in_bundle.get(reference) or upstream_read(reference)

    for position, entry in enumerate(entries, start=1):
        asked = entry.get("request") if isinstance(entry.get("request"), dict) else {}
        path, _, query = str(asked.get("url") or "").partition("?")
        try:
            check_request(caller, str(asked.get("method") or "").upper(), [p for p in path.split("/") if p],
                          parse_qsl(query), entry.get("resource"), resolve)
        except FhirError as refused:
            refused.diagnostics = f"entry {position}: {refused.diagnostics}"
            raise


def screen(caller: Authorization, body: object) -> object:
    """The answer as the caller may see it: nothing outside the patient in context or the scopes."""
    if not isinstance(body, dict) or body.get("resourceType") in ("OperationOutcome", "CapabilityStatement"):
        return body
    if body.get("resourceType") == "Bundle" and body.get("type") in ("searchset", "history"):
        return {**body, "entry": [e for e in body.get("entry") or [] if _may_see(caller, e.get("resource"))]}
    if body.get("resourceType") == "Bundle" and body.get("type") in ("batch-response", "transaction-response"):
        return {**body, "entry": [_screen_entry(caller, e) for e in body.get("entry") or []]}
    if not visible(caller, body, upstream_read):
        raise FhirError(403, f"{body.get('resourceType')}/{body.get('id')} is outside the patient in context",
                        "forbidden")
    return body


def _screen_entry(caller: Authorization, entry: dict) -> dict:
    held = entry.get("resource")
    if not isinstance(held, dict):
        return entry
    if held.get("resourceType") == "Bundle":
        return {**entry, "resource": screen(caller, held)}
    return entry if _may_see(caller, held) else {k: v for k, v in entry.items() if k != "resource"}


def _may_see(caller: Authorization, resource: object) -> bool:
    if not isinstance(resource, dict) or resource.get("resourceType") == "OperationOutcome":
        return True
    return granted(caller, str(resource.get("resourceType")), "r") and visible(caller, resource, upstream_read)


def front_door_statement(statement: dict) -> dict:
    """SMART endpoints are the sandbox's; writes and Bundles only as the sandbox's policy allows."""
    config = sandbox_state().config
    rests = []
    for rest in statement.get("rest") or []:
        rest = {**rest, "security": smart_security(host_url())}
        rest["resource"] = [{**r, "interaction": [i for i in r.get("interaction") or []
                                                  if i.get("code") not in WRITE_INTERACTIONS
                                                  or r.get("type") in config.write_types]}
                            for r in rest.get("resource") or []]
        if not config.transaction_supported:
            rest["interaction"] = [i for i in rest.get("interaction") or []
                                   if i.get("code") not in ("transaction", "batch")]
        rests.append(rest)
    return {**statement, "rest": rests}


# --- talking to the upstream -------------------------------------------------------------------

def upstream_base() -> str:
    return sandbox_state().config.upstream_fhir.rstrip("/")


def send(base: str, method: str, path: str, query: str = "", body: bytes = b"",
         headers: dict[str, str] | None = None) -> Answer:
    url = base + (f"/{path}" if path else "") + (f"?{query}" if query else "")
    outgoing = urllib.request.Request(url, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(outgoing, timeout=TIMEOUT_S) as response:  # noqa: S310 (configured base)
            return _answer(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as refused:
        return _answer(refused.code, refused.read(), refused.headers)
    except OSError:
        raise FhirError(502, "the upstream FHIR server could not be reached", "transient") from None


def _answer(status: int, raw: bytes, headers) -> Answer:
    kept = {name: headers[name] for name in RETURNED_HEADERS if headers.get(name)}
    return Answer(status, _json_or_none(raw), raw, kept)


def _json_or_none(raw: bytes) -> object:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def upstream_read(reference: str) -> dict | None:
    """The upstream's current copy of a relative "Type/id", for the compartment checks."""
    parts = reference.split("/")
    if len(parts) < 2 or not TYPE_NAME.match(parts[-2]):
        return None
    answer = send(upstream_base(), "GET", f"{parts[-2]}/{parts[-1]}")
    return answer.body if answer.status == 200 and isinstance(answer.body, dict) else None


def reply(answer: Answer, body: object):
    """The upstream's answer as the sandbox's: its base URL becomes ours, in the body and the headers."""
    theirs, ours = upstream_base(), fhir_base()
    headers = {name: rebased(value, theirs, ours) for name, value in answer.headers.items()}
    payload = json.dumps(rebased(body, theirs, ours)) if body is not None else answer.raw
    response = current_app.response_class(payload, status=answer.status, headers=headers)
    if body is not None:
        response.headers["Content-Type"] = FHIR_JSON
    return response


def rebased(value, theirs: str, ours: str):
    """Every URL under `theirs` (the upstream's base) moved under `ours`, anywhere in a JSON value."""
    if isinstance(value, str):
        if value == theirs or value.startswith((theirs + "/", theirs + "?")):
            return ours + value[len(theirs):]
        return value
    if isinstance(value, dict):
        return {k: rebased(v, theirs, ours) for k, v in value.items()}
    if isinstance(value, list):
        return [rebased(v, theirs, ours) for v in value]
    return value


# --- loading -----------------------------------------------------------------------------------

def put_resources(base: str, resources: list[dict]) -> list[dict]:
    """PUT each resource at its Type/id on the upstream, in one batch; returns each entry's response.

    A batch, not a transaction: each resource is accepted or refused on its own, so every refusal shows.
    """
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]}
    answer = send(base.rstrip("/"), "POST", "", body=json.dumps(bundle).encode(),
                  headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON})
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise FhirError(502, f"the upstream FHIR server refused the batch: HTTP {answer.status}", "transient")
    return [e if isinstance(e, dict) else {} for e in answer.body.get("entry") or []]


def load_characters(base: str, today: date) -> list[str]:
    """Put the sandbox characters on the upstream; returns its refusals (a finding about our data)."""
    from sandbox.data.characters import build_resources

    resources = build_resources(today)
    return refusals(resources, put_resources(base, resources))


def refusals(resources: list[dict], entries: list[dict]) -> list[str]:
    """'Type/id: HTTP n: what the upstream said' for each resource it did not take."""
    found = []
    for resource, entry in zip(resources, entries, strict=True):
        response = entry.get("response") or {}
        status = str(response.get("status") or "")
        if not status.startswith("2"):
            issues = (response.get("outcome") or {}).get("issue") or [{}]
            said = "; ".join(_issue_text(i) for i in issues)
            found.append(f"{resource['resourceType']}/{resource['id']}: HTTP {status}: {said}")
    return found



def _issue_text(issue: dict) -> str:
    where = ", ".join(issue.get("expression") or ())
    what = (issue.get("details") or {}).get("text") or issue.get("diagnostics") or ""
    return f"{where} {what}".strip()


def version_of(entry: dict) -> str:
    """The version a batch response entry reports: its resource's, else its etag's ('W/"v"')."""
    held = ((entry.get("resource") or {}).get("meta") or {}).get("versionId")
    return str(held or (entry.get("response") or {}).get("etag") or "").removeprefix("W/").strip('"')
