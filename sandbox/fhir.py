"""The sandbox's FHIR R4 endpoint: read, vread, search, create, update, delete, transaction, batch.

Layer: sandbox (Flask blueprint). Every interaction checks the bearer token: only its own
patient's compartment, only the resource types (and read/write) its scopes grant. Errors are
always OperationOutcome JSON with a plain `diagnostics`.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, current_app, g, request

from sandbox.scopes import Grant
from sandbox.search import (
    SHARED_TYPES,
    Query,
    SearchError,
    included,
    matches,
    parse_query,
    patient_ids,
)
from sandbox.state import Cursor, MatchedResults, SandboxState, fhir_base, sandbox_state
from sandbox.store import Gone, instant, new_id
from sandbox.tokens import Authorization

bp = Blueprint("sandbox_fhir", __name__, url_prefix="/fhir")

FHIR_JSON = "application/fhir+json; charset=utf-8"
TYPE_NAME = re.compile(r"^[A-Z][A-Za-z]+$")
SUPPORTED_TYPES = (
    "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Medication",
    "MedicationRequest", "Condition", "Observation", "AllergyIntolerance", "Immunization", "Procedure",
    "Encounter", "Device", "DeviceRequest", "CarePlan", "CareTeam", "Goal", "Task", "ServiceRequest",
    "DocumentReference", "DiagnosticReport", "Provenance", "Coverage", "RelatedPerson", "Consent",
    "Communication", "Appointment", "EpisodeOfCare", "Flag", "QuestionnaireResponse", "NutritionOrder",
)
SEARCH_PARAMS = (
    ("patient", "reference"), ("subject", "reference"), ("_id", "token"), ("identifier", "token"),
    ("category", "token"), ("clinical-status", "token"), ("verification-status", "token"),
    ("status", "token"), ("intent", "token"), ("lifecycle-status", "token"), ("code", "token"),
    ("type", "token"), ("date", "date"), ("_lastUpdated", "date"),
)
ACTION = {"r": "read", "s": "search", "c": "create", "u": "update", "d": "delete"}
REASON = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
          404: "Not Found", 405: "Method Not Allowed", 410: "Gone", 412: "Precondition Failed",
          413: "Payload Too Large", 422: "Unprocessable Entity"}


class FhirError(Exception):
    """Ends an interaction with an OperationOutcome."""

    def __init__(self, status: int, diagnostics: str, code: str = "processing", headers: dict | None = None):
        super().__init__(diagnostics)
        self.status, self.diagnostics, self.code = status, diagnostics, code
        self.headers = headers or {}


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict | None
    headers: dict = field(default_factory=dict)


def operation_outcome(diagnostics: str, severity: str = "error", code: str = "processing") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def fhir_response(status: int, body: dict | None, headers: dict | None = None):
    payload = "" if body is None else json.dumps(body)
    response = current_app.response_class(payload, status=status, headers=headers or {})
    response.headers["Content-Type"] = FHIR_JSON
    return response


def error_response(error: FhirError):
    outcome = operation_outcome(error.diagnostics, code=error.code)
    return fhir_response(error.status, outcome, error.headers)


@bp.errorhandler(FhirError)
def _fhir_error(error: FhirError):
    return error_response(error)


# --- the caller --------------------------------------------------------------------------------

@bp.before_request
def _require_bearer():
    if request.endpoint == "sandbox_fhir.metadata":
        return
    g.caller = bearer_caller()
    return


def bearer_caller() -> Authorization:
    """Who this request's Bearer token stands for; 401 without a valid, unexpired one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    authorization = sandbox_state().tokens.access(token) if scheme.lower() == "bearer" and token else None
    if authorization is None:
        raise FhirError(401, "a valid, unexpired Bearer access token is required", "login",
                        {"WWW-Authenticate": 'Bearer realm="sandbox", error="invalid_token"'})
    return authorization


def granted(caller: Authorization, resource_type: str, letter: str) -> bool:
    """Patient-level scopes need a patient in context; user- and system-level ones do not."""
    grant: Grant = caller.grant
    return any(
        s.allows(resource_type, letter) and (s.level != "patient" or caller.context.patient)
        for s in grant.resource_scopes
    )


def require_scope(caller: Authorization, resource_type: str, letter: str) -> None:
    if not granted(caller, resource_type, letter):
        raise FhirError(403, f"the access token's scopes do not allow {ACTION[letter]} of {resource_type}",
                        "forbidden")


def visible(caller: Authorization, resource: dict, resolve: Callable) -> bool:
    patient = caller.context.patient
    if resource["resourceType"] in SHARED_TYPES or patient is None:
        return True
    return patient in patient_ids(resource, resolve)


def require_supported(state: SandboxState, resource_type: str) -> None:
    if not TYPE_NAME.match(resource_type) or resource_type not in supported_types(state):
        raise FhirError(404, f"resource type {resource_type} is not supported by this server", "not-supported")


def supported_types(state: SandboxState) -> list[str]:
    offered = set(SUPPORTED_TYPES) | state.store.types() | set(state.config.write_types)
    return sorted(offered - set(state.config.unsupported_types))


# --- routes ------------------------------------------------------------------------------------

@bp.get("/metadata")
def metadata():
    return fhir_response(200, capability_statement(sandbox_state()))


@bp.get("/<resource_type>")
def search_type(resource_type: str):
    reply = search(g.caller, resource_type, query_params())
    return fhir_response(reply.status, reply.body, reply.headers)


@bp.post("/<resource_type>/_search")
def search_post(resource_type: str):
    params = query_params() + list(request.form.items(multi=True))
    reply = search(g.caller, resource_type, params)
    return fhir_response(reply.status, reply.body, reply.headers)


@bp.get("/<resource_type>/<resource_id>")
def read_route(resource_type: str, resource_id: str):
    reply = read(g.caller, resource_type, resource_id)
    return fhir_response(reply.status, reply.body, reply.headers)


@bp.get("/<resource_type>/<resource_id>/_history/<version_id>")
def vread_route(resource_type: str, resource_id: str, version_id: str):
    reply = vread(g.caller, resource_type, resource_id, version_id)
    return fhir_response(reply.status, reply.body, reply.headers)


@bp.post("/<resource_type>")
def create_route(resource_type: str):
    entry = WriteEntry("POST", resource_type, None, _json_body(), request.headers.get("If-None-Exist"), None)
    reply = run_writes(g.caller, [entry], atomic=True)[0]
    return _write_response(reply)


@bp.put("/<resource_type>/<resource_id>")
def update_route(resource_type: str, resource_id: str):
    entry = WriteEntry("PUT", resource_type, resource_id, _json_body(), None, request.headers.get("If-Match"))
    reply = run_writes(g.caller, [entry], atomic=True)[0]
    return _write_response(reply)


@bp.delete("/<resource_type>/<resource_id>")
def delete_route(resource_type: str, resource_id: str):
    entry = WriteEntry("DELETE", resource_type, resource_id, None, None, request.headers.get("If-Match"))
    reply = run_writes(g.caller, [entry], atomic=True)[0]
    return fhir_response(reply.status, reply.body, reply.headers)


@bp.post("/")
@bp.post("")
def bundle_route():
    reply = process_bundle(g.caller, _json_body())
    return fhir_response(reply.status, reply.body, reply.headers)


def _json_body() -> dict:
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise FhirError(400, "the request body is not valid JSON", "structure") from None
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        raise FhirError(400, "the request body must be a FHIR resource with a resourceType", "structure")
    return body


def _write_response(reply: Reply):
    minimal = "return=minimal" in request.headers.get("Prefer", "")
    return fhir_response(reply.status, None if minimal else reply.body, reply.headers)


# --- read --------------------------------------------------------------------------------------

def version_headers(resource: dict) -> dict:
    meta = resource.get("meta", {})
    return {"ETag": f'W/"{meta.get("versionId", "1")}"', "Last-Modified": meta.get("lastUpdated", "")}


def read(caller: Authorization, resource_type: str, resource_id: str) -> Reply:
    state = sandbox_state()
    require_supported(state, resource_type)
    require_scope(caller, resource_type, "r")
    found = state.store.get(resource_type, resource_id)
    if isinstance(found, Gone):
        raise FhirError(410, f"{resource_type}/{resource_id} was deleted", "deleted")
    if found is None:
        raise FhirError(404, f"{resource_type}/{resource_id} is not known", "not-found")
    if not visible(caller, found, state.store.resolve):
        raise FhirError(403, f"{resource_type}/{resource_id} is outside the patient in context", "forbidden")
    return Reply(200, found, version_headers(found))


def vread(caller: Authorization, resource_type: str, resource_id: str, version_id: str) -> Reply:
    state = sandbox_state()
    read(caller, resource_type, resource_id)  # the same checks on the current version
    found = state.store.version(resource_type, resource_id, version_id)
    if found is None:
        raise FhirError(404, f"{resource_type}/{resource_id} has no version {version_id}", "not-found")
    return Reply(200, found, version_headers(found))


# --- search ------------------------------------------------------------------------------------

def query_params() -> list[tuple[str, str]]:
    """The query as the server sees it; behind a collapsing proxy, `//` in the raw query is `/` by then
    (what SMART's launcher did to `system|code` values sent with bare `:` and `/`)."""
    if not sandbox_state().config.collapsing_proxy:
        return list(request.args.items(multi=True))
    raw = request.query_string.decode("latin-1")
    while "//" in raw:
        raw = raw.replace("//", "/")
    return parse_qsl(raw, keep_blank_values=True)


HONOURED_WHEN_FILTERS_IGNORED = frozenset({"patient", "_id", "identifier", "_count", "_cursor", "_include",
                                           "_include:iterate", "_revinclude"})


def search(caller: Authorization, resource_type: str, params: list[tuple[str, str]]) -> Reply:
    state = sandbox_state()
    if state.config.filters_ignored:  # a lenient server: unknown filters are dropped, the rest answered
        params = [(name, value) for name, value in params if name in HONOURED_WHEN_FILTERS_IGNORED]
    require_supported(state, resource_type)
    require_scope(caller, resource_type, "s")
    query, offset, page_size = _query_and_page(state, resource_type, params)
    _require_compartment_search(caller, query)
    store = state.store
    with store.lock:
        found = _kept_results(state, caller, params) or MatchedResults(caller.context.patient, tuple(
            r for r in store.scan(resource_type) if matches(r, query, store.peek) and visible(caller, r, store.peek)))
        page = found.resources[offset:offset + page_size]
        extra = [r for r in included(list(page), query, store.peek, store.scan)
                 if visible(caller, r, store.peek) and granted(caller, r["resourceType"], "r")]
    # Not copied: stored versions are never changed in place (see ResourceStore.scan) and the
    # searchset is only serialised.
    return Reply(200, _searchset(state, query, list(page), extra, found, offset, page_size))


def _kept_results(state: SandboxState, caller: Authorization, params: list[tuple[str, str]]) -> MatchedResults | None:
    """The matched list a page cursor was made from, if still kept and made for this caller's patient.

    Further pages are slices of the first page's matches instead of a new scan of the whole type.
    """
    cursor_id = dict(params).get("_cursor")
    kept = state.results.get(cursor_id) if cursor_id else None
    return kept if kept is not None and kept.patient == caller.context.patient else None


def _query_and_page(state: SandboxState, resource_type: str, params: list) -> tuple[Query, int, int]:
    config = state.config
    cursor_id = dict(params).get("_cursor")
    if cursor_id:
        cursor = state.cursor(cursor_id)
        if cursor is None or cursor.query.resource_type != resource_type:
            raise FhirError(400, "unknown page cursor", "invalid")
        return cursor.query, cursor.offset, cursor.page_size
    try:
        query = parse_query(resource_type, params, include_supported=config.include_supported,
                            reject_comma_category=config.reject_comma_category)
    except SearchError as refused:
        raise FhirError(400, str(refused), "invalid") from None
    page_size = config.default_page_size if query.count is None else query.count
    return query, 0, min(page_size, config.max_page_size)


def _require_compartment_search(caller: Authorization, query: Query) -> None:
    require_compartment_search(caller, query.resource_type,
                               [v for name in ("patient", "subject") for v in query.values_of(name)])


def require_compartment_search(caller: Authorization, resource_type: str, named: list[str]) -> None:
    """A patient-context token must name its own patient (`named`: the patient and subject values)."""
    patient = caller.context.patient
    if patient is None or resource_type in SHARED_TYPES or resource_type == "Patient":
        return
    if not named:
        raise FhirError(403, f"{resource_type} searches must be scoped with patient={patient}", "forbidden")
    if any(v.rsplit("/", 1)[-1] != patient for v in named):
        raise FhirError(403, "the search names a patient outside the token's context", "forbidden")


def _searchset(state: SandboxState, query: Query, page: list[dict], extra: list[dict], found: MatchedResults,
               offset: int, page_size: int) -> dict:
    base = fhir_base()
    total = len(found.resources)
    links = [{"relation": "self", "url": _search_url(base, query, _cursor_for(state, query, offset, page_size, found)
                                                     if offset else None)}]
    if page_size and offset + page_size < total:
        links.append({"relation": "next", "url": _search_url(
            base, query, _cursor_for(state, query, offset + page_size, page_size, found))})
    entries = [_entry(base, r, "match") for r in page] + [_entry(base, r, "include") for r in extra]
    warning = state.config.outcome_warnings.get(query.resource_type)
    if warning:
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}",
                        "resource": operation_outcome(warning, "warning", "informational"),
                        "search": {"mode": "outcome"}})
    return {"resourceType": "Bundle", "id": new_id(), "meta": {"lastUpdated": instant(state.config.now())},
            "type": "searchset", "total": total, "link": links, "entry": entries}


def _cursor_for(state: SandboxState, query: Query, offset: int, page_size: int, found: MatchedResults) -> str:
    return state.remember_cursor(Cursor(query, offset, page_size), found)


def _search_url(base: str, query: Query, cursor_id: str | None) -> str:
    params = list(query.echoed) + ([("_cursor", cursor_id)] if cursor_id else [])
    return f"{base}/{query.resource_type}" + (f"?{urlencode(params)}" if params else "")


def _entry(base: str, resource: dict, mode: str) -> dict:
    return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource,
            "search": {"mode": mode}}


# --- writes ------------------------------------------------------------------------------------

@dataclass
class WriteEntry:
    method: str  # POST | PUT | DELETE
    resource_type: str
    resource_id: str | None
    resource: dict | None
    if_none_exist: str | None
    if_match: str | None
    full_url: str | None = None


@dataclass
class _Planned:
    entry: WriteEntry
    resource_id: str
    existing: dict | None = None  # conditional create found one: nothing to write


class _View:
    """The store as the writes of one bundle will leave it (for references between entries)."""

    def __init__(self, state: SandboxState, pending: dict[tuple[str, str], dict]):
        self.state, self.pending = state, pending

    def resolve(self, reference: str) -> dict | None:
        parts = reference.split("/")
        if len(parts) >= 2 and (parts[-2], parts[-1]) in self.pending:
            return self.pending[(parts[-2], parts[-1])]
        return self.state.store.resolve(reference)


def run_writes(caller: Authorization, entries: list[WriteEntry], *, atomic: bool) -> list[Reply]:
    """Check every write, then apply them all (atomic: any failure applies none and raises)."""
    state = sandbox_state()
    with state.store.lock:
        planned = [_at_entry(position, entries, _plan_id, caller, state, e)
                   for position, e in enumerate(entries, start=1)]
        _rewrite_urn_references(planned)
        pending = {(p.entry.resource_type, p.resource_id): p.entry.resource
                   for p in planned if p.entry.resource is not None and p.existing is None}
        view = _View(state, pending)
        for position, plan in enumerate(planned, start=1):
            _at_entry(position, entries, _check_write, caller, state, plan, view)
        return [_apply(state, plan) for plan in planned]


def _at_entry(position: int, entries: list, step: Callable, *args):
    """Run one step for one entry; in a bundle, say which entry failed."""
    try:
        return step(*args)
    except FhirError as refused:
        if len(entries) > 1:
            refused.diagnostics = f"entry {position}: {refused.diagnostics}"
        raise


def _plan_id(caller: Authorization, state: SandboxState, entry: WriteEntry) -> _Planned:
    require_supported(state, entry.resource_type)
    require_writable(state, entry.resource_type)
    letter = {"POST": "c", "PUT": "u", "DELETE": "d"}[entry.method]
    require_scope(caller, entry.resource_type, letter)
    if entry.method != "POST":
        return _Planned(entry, entry.resource_id or "")
    if entry.if_none_exist and state.config.conditional_create:
        existing = _conditional_match(caller, state, entry)
        if existing is not None:
            return _Planned(entry, existing["id"], existing=existing)
    return _Planned(entry, new_id())


def require_writable(state: SandboxState, resource_type: str) -> None:
    if resource_type not in state.config.write_types:
        raise FhirError(405, f"{resource_type} is read-only on this server", "not-supported")


def _conditional_match(caller: Authorization, state: SandboxState, entry: WriteEntry) -> dict | None:
    params = parse_qsl(entry.if_none_exist.split("?", 1)[-1])
    try:
        query = parse_query(entry.resource_type, params)
    except SearchError as refused:
        raise FhirError(400, f"If-None-Exist: {refused}", "invalid") from None
    if not query.criteria:
        raise FhirError(400, "If-None-Exist names no search parameter this server knows", "invalid")
    store = state.store
    found = [r for r in store.scan(entry.resource_type)
             if matches(r, query, store.resolve) and visible(caller, r, store.resolve)]
    if len(found) > 1:
        raise FhirError(412, "If-None-Exist matches more than one resource", "duplicate")
    return copy.deepcopy(found[0]) if found else None


def _rewrite_urn_references(planned: list[_Planned]) -> None:
    """Replace every `urn:uuid:` fullUrl with the Type/id it was given, everywhere in the bundle."""
    mapping = {p.entry.full_url: f"{p.entry.resource_type}/{p.resource_id}"
               for p in planned if p.entry.full_url and p.entry.full_url.startswith("urn:")}
    if not mapping:
        return
    for plan in planned:
        if plan.entry.resource is not None:
            plan.entry.resource = _replace_references(plan.entry.resource, mapping)


def _replace_references(value, mapping: dict[str, str]):
    if isinstance(value, dict):
        return {k: (mapping.get(v, v) if k == "reference" and isinstance(v, str)
                    else _replace_references(v, mapping)) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_references(v, mapping) for v in value]
    return value


def _check_write(caller: Authorization, state: SandboxState, plan: _Planned, view: _View) -> None:
    entry = plan.entry
    if plan.existing is not None:
        return
    current = state.store.get(entry.resource_type, plan.resource_id) if entry.method != "POST" else None
    if isinstance(current, Gone):
        current = None
    if current is not None and not visible(caller, current, state.store.resolve):
        raise FhirError(403, f"{entry.resource_type}/{plan.resource_id} is outside the patient in context",
                        "forbidden")
    if entry.if_match is not None:
        wanted = _etag_version(entry.if_match)
        held = current["meta"]["versionId"] if current else None
        if wanted != held:
            raise FhirError(412, f"If-Match {entry.if_match} does not match the current version "
                                 f"({'none' if held is None else f'W/{chr(34)}{held}{chr(34)}'})", "conflict")
    if entry.method == "DELETE":
        if current is None:
            raise FhirError(404, f"{entry.resource_type}/{plan.resource_id} is not known", "not-found")
        return
    _check_shape(entry, plan.resource_id)
    check_patient(caller, entry.resource, view.resolve)


def _etag_version(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def _check_shape(entry: WriteEntry, resource_id: str) -> None:
    resource = entry.resource
    if resource.get("resourceType") != entry.resource_type:
        raise FhirError(400, f"resourceType {resource.get('resourceType')!r} does not match the URL "
                             f"({entry.resource_type})", "invalid")
    if entry.method == "PUT" and resource.get("id") != resource_id:
        raise FhirError(400, f"the resource id {resource.get('id')!r} does not match the URL id {resource_id!r}",
                        "invalid")
    if entry.resource_type == "Provenance" and not resource.get("target"):
        raise FhirError(422, "Provenance.target is required", "required")


def check_patient(caller: Authorization, resource: dict, resolve: Callable) -> None:
    """A write with a patient in context must stay in that patient's compartment."""
    patient = caller.context.patient
    if patient is None or resource["resourceType"] in SHARED_TYPES:
        return
    owners = patient_ids(resource, resolve)
    if not owners:
        raise FhirError(422, f"{resource['resourceType']} must reference the patient in context "
                             "(subject, patient or for)", "required")
    if owners != {patient}:
        raise FhirError(403, "writes may only target the patient in context", "forbidden")


def _apply(state: SandboxState, plan: _Planned) -> Reply:
    entry = plan.entry
    if plan.existing is not None:
        return Reply(200, plan.existing, _location(plan.existing) | version_headers(plan.existing))
    if entry.method == "DELETE":
        state.store.delete(entry.resource_type, plan.resource_id)
        return Reply(204, None)
    existed = entry.method == "PUT" and isinstance(state.store.get(entry.resource_type, plan.resource_id), dict)
    resource = {k: v for k, v in entry.resource.items() if k != "meta"}
    resource["meta"] = {k: v for k, v in (entry.resource.get("meta") or {}).items()
                        if k not in ("versionId", "lastUpdated")}
    resource["id"] = plan.resource_id
    stored = state.store.put(resource)
    return Reply(200 if existed else 201, stored, _location(stored) | version_headers(stored))


def _location(resource: dict) -> dict:
    path = f"{resource['resourceType']}/{resource['id']}/_history/{resource['meta']['versionId']}"
    return {"Location": f"{fhir_base()}/{path}"}


# --- transaction and batch ---------------------------------------------------------------------

def process_bundle(caller: Authorization, bundle: dict) -> Reply:
    state = sandbox_state()
    kind = bundle.get("type")
    if bundle.get("resourceType") != "Bundle" or kind not in ("transaction", "batch"):
        raise FhirError(400, "POST to the base URL takes a Bundle of type transaction or batch", "invalid")
    entries = bundle.get("entry") or []
    require_bundle_allowed(state, kind, len(entries))
    if kind == "transaction":
        return Reply(200, _response_bundle("transaction-response", _transaction(caller, entries)))
    return Reply(200, _response_bundle("batch-response", [_batch_entry(caller, e) for e in entries]))


def require_bundle_allowed(state: SandboxState, kind: str, entries: int) -> None:
    """The sandbox's own Bundle policy: transactions switched off, or a cap on entries."""
    if not state.config.transaction_supported:
        raise FhirError(501, f"this server does not support {kind} Bundles", "not-supported")
    if state.config.transactions_refused and kind == "transaction":
        raise FhirError(400, "Transaction bundles are not supported by this server", "not-supported")
    limit = state.config.max_transaction_entries
    if limit is not None and entries > limit:
        raise FhirError(413, f"Bundle too large: {entries} entries, this server accepts at most {limit}",
                        "too-costly")


def _transaction(caller: Authorization, entries: list[dict]) -> list[dict]:
    parsed = [_write_entry(e, position) for position, e in enumerate(entries, start=1)]
    writes = [p for p in parsed if isinstance(p, WriteEntry)]
    write_replies = iter(run_writes(caller, writes, atomic=True) if writes else [])
    return [_response_entry(next(write_replies)) if isinstance(p, WriteEntry) else _response_entry(_read_entry(
        caller, p)) for p in parsed]


def _batch_entry(caller: Authorization, entry: dict) -> dict:
    try:
        parsed = _write_entry(entry, None)
        if isinstance(parsed, WriteEntry):
            return _response_entry(run_writes(caller, [parsed], atomic=True)[0])
        return _response_entry(_read_entry(caller, parsed))
    except FhirError as refused:
        return {"response": {"status": f"{refused.status} {REASON.get(refused.status, '')}".strip(),
                             "outcome": operation_outcome(refused.diagnostics, code=refused.code)}}


def _write_entry(entry: dict, position: int | None) -> WriteEntry | str:
    """A WriteEntry, or for GET the relative URL to read."""
    where = f"entry {position}: " if position else ""
    request_part = entry.get("request") or {}
    method, url = (request_part.get("method") or "").upper(), request_part.get("url") or ""
    if method == "GET":
        return url
    if method not in ("POST", "PUT", "DELETE"):
        raise FhirError(400, f"{where}request.method must be GET, POST, PUT or DELETE", "invalid")
    path = url.split("?", 1)[0].strip("/").split("/")
    if "?" in url or not path[0] or (method == "POST") != (len(path) == 1) or len(path) > 2:
        raise FhirError(400, f"{where}request.url {url!r} is not Type (POST) or Type/id (PUT, DELETE)", "invalid")
    resource = entry.get("resource")
    if method != "DELETE" and not isinstance(resource, dict):
        raise FhirError(400, f"{where}a {method} entry needs a resource", "invalid")
    return WriteEntry(method, path[0], path[1] if len(path) == 2 else None,
                      copy.deepcopy(resource) if resource else None,
                      request_part.get("ifNoneExist"), request_part.get("ifMatch"), entry.get("fullUrl"))


def _read_entry(caller: Authorization, url: str) -> Reply:
    path, _, query = url.partition("?")
    parts = path.strip("/").split("/")
    if len(parts) == 1 and parts[0]:
        return search(caller, parts[0], parse_qsl(query))
    if len(parts) == 2:
        return read(caller, parts[0], parts[1])
    raise FhirError(400, f"cannot GET {url!r} inside a Bundle", "invalid")


def _response_entry(reply: Reply) -> dict:
    response = {"status": f"{reply.status} {REASON.get(reply.status, '')}".strip()}
    if "Location" in reply.headers:
        response["location"] = reply.headers["Location"]
    if "ETag" in reply.headers:
        response["etag"] = reply.headers["ETag"]
        response["lastModified"] = reply.headers.get("Last-Modified", "")
    entry = {"response": response}
    if reply.body is not None:
        entry["resource"] = reply.body
        if reply.body.get("resourceType") != "Bundle" and reply.body.get("id"):
            entry["fullUrl"] = f"{fhir_base()}/{reply.body['resourceType']}/{reply.body['id']}"
    return entry


def _response_bundle(kind: str, entries: list[dict]) -> dict:
    return {"resourceType": "Bundle", "id": new_id(), "type": kind, "entry": entries}


# --- CapabilityStatement -----------------------------------------------------------------------

def capability_statement(state: SandboxState) -> dict:
    config = state.config
    base = fhir_base()
    host = base.removesuffix("/fhir")
    resources = []
    for resource_type in supported_types(state):
        interactions = ["read", "vread", "search-type"]
        if resource_type in config.write_types:
            interactions += ["create", "update", "delete"]
        described = {
            "type": resource_type,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned",
            "conditionalCreate": resource_type in config.write_types and config.conditional_create,
            "searchParam": [{"name": n, "type": t} for n, t in SEARCH_PARAMS],
        }
        if config.include_supported:
            described["searchInclude"] = ["*"]
            described["searchRevInclude"] = ["Provenance:target"]
        resources.append(described)
    rest = {
        "mode": "server",
        "security": smart_security(host),
        "resource": resources,
        "interaction": [{"code": c} for c in (("transaction", "batch") if config.transaction_supported else ())],
    }
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(state.config.now())[:10],
        "kind": "instance",
        "software": {"name": "SPOC sandbox EHR"},
        "implementation": {"description": "Local SMART on FHIR sandbox EHR", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [rest],
    }


def smart_security(host: str) -> dict:
    """CapabilityStatement.rest.security naming this sandbox's SMART endpoints."""
    return {
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                 "code": "SMART-on-FHIR"}]}],
        "extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [{"url": "authorize", "valueUri": f"{host}/auth/authorize"},
                          {"url": "token", "valueUri": f"{host}/auth/token"}],
        }],
    }
