"""The FHIR gateway: every HTTP request the app sends to an EHR's FHIR server goes through here.

Layer: FHIR out. Imports requests, smart_app.errors and the standard library; knows nothing of Flask.

One gateway lives for one launch (one summary load). It
- sends the bearer token only to URLs under its base (R35), checked before anything is sent;
- follows `link[next]` verbatim up to a page cap and says when it stopped early (R36);
- retries 429 and 503 honouring Retry-After, with capped exponential backoff and jitter (R44);
- bounds in-flight requests with a semaphore shared by every thread using it (R44), and sends
  through its EHR's lane (`fhir.lanes`): one pooled session and a fair per-process cap for every launch;
- never sends the same GET twice: a thread-safe cache with in-flight coalescing (R45);
- turns OperationOutcome entries of a searchset into notes, or a failure when fatal (R43);
- reads every EHR body through one parser with size and depth limits (`fhir.bodies`), so a
  body nested 200,000 deep fails its request like any unreadable answer;
- maps HTTP failures onto smart_app.errors in one function, `raise_for_fhir_status`
  (`raise_for_write_status` for writes);
- writes (transaction, create, update) retry only on 429/503 and only when repeating them cannot
  make a duplicate (conditional creates, updates); a write with no answer is `FhirWriteUnknown`, and
  any write forgets the cached GETs, since what they saw may have changed.
Nothing here logs a token, a query value or a response body.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import requests

from smart_app.clock import Clock
from smart_app.errors import FhirAccessError, ForeignUrl, ScopeDenied, TokenExpired
from smart_app.fhir.bodies import UNREADABLE, parse_ehr_json, read_within_limit
from smart_app.fhir.lanes import EhrLane, lane_for

FhirJson = Mapping[str, Any]

FHIR_JSON = "application/fhir+json"
INCOMPLETE_NOTE = "The EHR says this list may be incomplete."
RETRYABLE_STATUSES = frozenset({429, 503})
BACKOFF_BASE_S = 0.5
DIAGNOSTICS_MAX_CHARS = 200

# "Type/id" or "Type/id/_history/vid"; ids per FHIR: [A-Za-z0-9\-\.]{1,64}.
RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$")
DEFAULT_PORTS = {"http": 80, "https": 443}


class FhirHttpError(FhirAccessError):
    """The EHR answered with an HTTP error other than 401/403; `status` says which."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class FhirWriteRefused(FhirHttpError):
    """The EHR answered a write with an error. `said` is its OperationOutcome text ('' if none)."""

    def __init__(self, message: str, *, status: int, said: str = "", codes: tuple[str, ...] = ()) -> None:
        super().__init__(message, status=status)
        self.said = said
        self.codes = codes  # the OperationOutcome's issue codes ("too-costly", "invalid"...)


class FhirWriteUnknown(FhirAccessError):
    """No answer came back to a write: the EHR may or may not have applied it."""


@dataclass(frozen=True, slots=True)
class WriteResponse:
    """The EHR's answer to a create or an update."""

    status: int  # 200 or 201
    resource: dict[str, Any] | None  # the body, when the EHR sent one (not with Prefer: return=minimal)
    location: str  # "Type/id/_history/vid" relative to the base, or "" when absent
    etag: str  # 'W/"3"', or ""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP request as sent, for audit and benchmarks: no token, no query values, no body."""

    method: str
    path: str  # the URL path only, e.g. "/fhir/Condition"
    param_names: tuple[str, ...]  # e.g. ("patient", "category", "_count")
    status: int | None  # None when no response came back (timeout, connection error)
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Every page of one search, split by `search.mode`."""

    resources: tuple[FhirJson, ...]  # search.mode = match
    included: tuple[FhirJson, ...]  # search.mode = include
    notes: tuple[str, ...]  # plain-language notes from warning/information OperationOutcomes
    complete: bool  # False when paging stopped at the cap with more pages left
    pages: int
    self_link: str | None  # the first page's `self` link: what the server says it searched for


class FhirReader(Protocol):
    """What the query plan needs from a gateway; tests provide a fake with the same shape."""

    base_url: str
    concurrency: int

    def search(self, resource_type: str, params: Sequence[tuple[str, str]], *, max_pages: int) -> SearchResult: ...

    def read(self, reference: str) -> dict[str, Any]: ...


class _Pending:
    """A GET that one thread is sending and others may wait for (in-flight coalescing), then the
    answer remembered for the rest of the launch. Kept as the EHR's bytes, parsed anew for each later
    reader: parsed, a launch's answers were ~1,500 objects that the garbage collector scanned in every
    full collection for as long as the gateway lived (bench/README.md, section 5)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._content: bytes | None = None
        self._error: BaseException | None = None

    @property
    def settled(self) -> bool:
        return self._done.is_set()

    @property
    def size(self) -> int:
        return len(self._content or b"")

    def resolve(self, content: bytes) -> None:
        self._content = content
        self._done.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def wait(self) -> dict[str, Any]:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._content is not None
        return parse_ehr_json(self._content)  # read once already: a JSON object


class FhirGateway:
    """FHIR REST reads for one launch against one EHR base URL. Safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str] | None,  # None: reads without a token (the CapabilityStatement)
        *,
        timeout_s: float = 10.0,
        concurrency: int = 8,
        max_attempts: int = 4,
        max_backoff_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        lane: EhrLane | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if concurrency < 1 or max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self._base = _origin_and_path(self.base_url)
        if self._base is None:
            raise ValueError("the FHIR base URL must be an absolute http(s) URL")
        self._token = token
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._clock = clock or Clock().now
        self._rng = rng or random.Random()
        self._lane = lane or lane_for(self.base_url)
        self._on_request = on_request
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._cache: dict[str, _Pending] = {}
        self._remembered_bytes = 0
        self._sent = 0

    @property
    def request_count(self) -> int:
        """How many HTTP requests were actually sent (retries included, cache hits not)."""
        with self._lock:
            return self._sent

    def owns(self, url: str) -> bool:
        """True when `url` is under this gateway's base: the only URLs the token may go to (R35)."""
        return _is_under(_origin_and_path(url), self._base)

    def search(self, resource_type: str, params: Sequence[tuple[str, str]], *, max_pages: int) -> SearchResult:
        if not RELATIVE_REFERENCE.match(f"{resource_type}/x"):
            raise ValueError(f"not a resource type: {resource_type!r}")
        url = f"{self.base_url}/{resource_type}"
        if params:
            url += "?" + encode_query(params)
        resources: list[FhirJson] = []
        included: list[FhirJson] = []
        notes: list[str] = []
        self_link: str | None = None
        pages = 0
        next_url: str | None = url
        while next_url is not None and pages < max(1, max_pages):
            bundle = self._get_json(next_url)
            _require_searchset(bundle)
            pages += 1
            if pages == 1:
                self_link = _link(bundle, "self")
            _split_entries(bundle, resource_type, resources, included, notes)
            next_url = self._next_url(bundle)
        return SearchResult(
            resources=tuple(resources),
            included=tuple(included),
            notes=tuple(dict.fromkeys(notes)),
            complete=next_url is None,
            pages=pages,
            self_link=self_link,
        )

    def read(self, reference: str) -> dict[str, Any]:
        """Read `Type/id`, `metadata`, or an absolute URL under the base."""
        if "://" in reference:
            if not self.owns(reference):
                raise ForeignUrl("The record points at another server; the app did not follow it.")
            reference = reference[len(self.base_url) + 1 :] if reference.startswith(self.base_url + "/") else ""
        if reference != "metadata" and not RELATIVE_REFERENCE.match(reference):
            raise FhirAccessError("The app asked the EHR for something that is not a FHIR reference.")
        body = self._get_json(f"{self.base_url}/{reference}")
        if not isinstance(body.get("resourceType"), str):
            raise FhirAccessError("The EHR sent something that is not a FHIR resource.")
        return body

    # -- writes -------------------------------------------------------------------------------

    def transaction(self, bundle: FhirJson) -> dict[str, Any]:
        """POST a transaction (or batch) Bundle to the base; returns the response Bundle.

        Retried on 429/503 only when every create in it is conditional (If-None-Exist)."""
        requests_in = [e.get("request") or {} for e in _dicts(bundle.get("entry"))]
        repeatable = all(r.get("method") != "POST" or r.get("ifNoneExist") for r in requests_in)
        response = self._write("POST", self.base_url, bundle, {}, repeatable=repeatable)
        body = _json_object(response)
        if body.get("resourceType") != "Bundle":
            raise FhirAccessError("The EHR sent a transaction answer the app could not read.")
        return body

    def create(self, resource: FhirJson, *, if_none_exist: str | None = None) -> WriteResponse:
        """POST a new resource; with `if_none_exist` ("identifier=sys|val") the EHR returns the match
        instead of creating a second one, which makes the create safe to repeat."""
        headers = {"If-None-Exist": if_none_exist} if if_none_exist else {}
        url = f"{self.base_url}/{_resource_type(resource)}"
        return self._write_response(self._write("POST", url, resource, headers, repeatable=bool(if_none_exist)))

    def update(self, resource: FhirJson, *, if_match: str | None = None) -> WriteResponse:
        """PUT a resource at Type/id; with `if_match` ('W/"3"') a stale version gets HTTP 412."""
        resource_id = resource.get("id")
        reference = f"{_resource_type(resource)}/{resource_id}"
        if not isinstance(resource_id, str) or not RELATIVE_REFERENCE.match(reference):
            raise FhirAccessError("The app tried to update a record without a valid id.")
        headers = {"If-Match": if_match} if if_match else {}
        return self._write_response(self._write("PUT", f"{self.base_url}/{reference}", resource, headers,
                                                repeatable=True))

    @property
    def remembered_bytes(self) -> int:
        """The size of the answers this gateway remembers (the EHR's bytes)."""
        return self._remembered_bytes

    def forget_read(self, reference: str) -> None:
        """Drop one remembered GET of `Type/id` or `metadata` (not one in flight)."""
        url = f"{self.base_url}/{reference}"
        with self._lock:
            if url in self._cache and self._cache[url].settled:
                self._remembered_bytes -= self._cache.pop(url).size

    def forget_reads(self) -> None:
        """Drop remembered GETs (not ones in flight): the next read asks the EHR again."""
        with self._lock:
            self._cache = {url: pending for url, pending in self._cache.items() if not pending.settled}
            self._remembered_bytes = 0

    def relative(self, url: str) -> str:
        """A Location or fullUrl under the base as 'Type/id[/_history/v]'; '' for anything else."""
        if url.startswith(self.base_url + "/"):
            url = url[len(self.base_url) + 1 :]
        return url if RELATIVE_REFERENCE.match(url) else ""

    def _write(self, method: str, url: str, body: FhirJson, headers: Mapping[str, str], *,
               repeatable: bool) -> requests.Response:
        if not self.owns(url):
            raise ForeignUrl("The app refused to send the plan to another server.")
        try:
            for attempt in range(1, self._max_attempts + 1):
                response = self._send_write(method, url, body, headers)
                if response.status_code in RETRYABLE_STATUSES and repeatable and attempt < self._max_attempts:
                    delay = self._retry_delay(response, attempt)
                    if delay is not None:
                        self._sleep(delay)
                        continue
                raise_for_write_status(response)
                return response
            raise AssertionError("unreachable: the last attempt always returns or raises")
        finally:
            self.forget_reads()

    def _send_write(self, method: str, url: str, body: FhirJson, extra: Mapping[str, str]) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token()}", "Accept": FHIR_JSON,
                   "Content-Type": f"{FHIR_JSON}; charset=utf-8", "Prefer": "return=representation", **extra}
        status: int | None = None
        started = time.monotonic()
        try:
            with self._slots, self._lane.slots.held(self):
                with self._lock:
                    self._sent += 1
                response = read_within_limit(self._lane.send(
                    method, url, data=json.dumps(body).encode("utf-8"), headers=headers, timeout=self._timeout_s))
            status = response.status_code
            return response
        except requests.Timeout:
            raise FhirWriteUnknown("The EHR did not answer in time, so the app cannot tell whether it saved "
                                   "the plan. Trying again is safe: nothing will be filed twice.") from None
        except requests.RequestException:
            raise FhirWriteUnknown("The EHR could not be reached while filing the plan. "
                                   "Trying again is safe: nothing will be filed twice.") from None
        finally:
            self._record(url, status, time.monotonic() - started, method)

    def _write_response(self, response: requests.Response) -> WriteResponse:
        body: dict[str, Any] | None = None
        if response.content:
            body = _json_object(response)
        return WriteResponse(status=response.status_code, resource=body,
                             location=self.relative(response.headers.get("Location", "")),
                             etag=response.headers.get("ETag", ""))

    # -- one GET, once ------------------------------------------------------------------------

    def _get_json(self, url: str) -> dict[str, Any]:
        if not self.owns(url):
            raise ForeignUrl("The EHR pointed the app at another server; the app did not follow it.")
        with self._lock:
            pending = self._cache.get(url)
            owner = pending is None
            if pending is None:
                pending = self._cache[url] = _Pending()
        if not owner:
            return pending.wait()
        try:
            response = self._get_with_retries(url)
            body = _json_object(response)
        except BaseException as error:
            with self._lock:
                del self._cache[url]  # failures are not remembered: a retry of the section may send it again
            pending.fail(error)
            raise
        with self._lock:
            pending.resolve(response.content)
            self._remembered_bytes += pending.size
        return body

    def _get_with_retries(self, url: str) -> requests.Response:
        for attempt in range(1, self._max_attempts + 1):
            response = self._send(url)
            if response.status_code in RETRYABLE_STATUSES and attempt < self._max_attempts:
                delay = self._retry_delay(response, attempt)
                if delay is not None:
                    self._sleep(delay)
                    continue
            raise_for_fhir_status(response)
            return response
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _send(self, url: str) -> requests.Response:
        headers = {"Accept": FHIR_JSON}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token()}"
        status: int | None = None
        started = time.monotonic()
        try:
            with self._slots, self._lane.slots.held(self):
                with self._lock:
                    self._sent += 1
                response = read_within_limit(self._lane.send("GET", url, headers=headers, timeout=self._timeout_s))
            status = response.status_code
            return response
        except requests.Timeout:
            raise FhirAccessError("The EHR took too long to answer.") from None
        except requests.RequestException:
            raise FhirAccessError("The EHR could not be reached.") from None
        finally:
            self._record(url, status, time.monotonic() - started)

    def _record(self, url: str, status: int | None, elapsed_s: float, method: str = "GET") -> None:
        if self._on_request is None:
            return
        parts = urlsplit(url)
        names = tuple(name for name, _ in parse_qsl(parts.query, keep_blank_values=True))
        self._on_request(RequestRecord(method, parts.path, names, status, elapsed_s))

    def _retry_delay(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (the EHR asked for too long)."""
        asked = _retry_after_s(response.headers.get("Retry-After"), self._clock())
        if asked is None:
            ceiling = min(self._max_backoff_s, BACKOFF_BASE_S * 2 ** (attempt - 1))
            return ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        if asked > self._max_backoff_s:
            return None
        return asked + self._rng.uniform(0, asked / 10)  # spread the threads that were told the same time

    def _next_url(self, bundle: FhirJson) -> str | None:
        link = _link(bundle, "next")
        if link is None:
            return None
        return encoded_link(urljoin(self.base_url + "/", link))


# -- error mapping ------------------------------------------------------------------------------


def raise_for_fhir_status(response: requests.Response) -> None:
    """Turn an HTTP error into the app's error tree. Messages are safe to show to clinicians."""
    status = response.status_code
    if 200 <= status < 300:
        return
    said = _diagnostics(response)
    what = _resource_type_in(response.url or "")
    if status == 401:
        raise TokenExpired("The EHR no longer accepts this session's access. Relaunch the app from the chart.")
    if status == 403:
        raise ScopeDenied(f"The EHR did not allow the app to read {what}.{said}")
    if status in (404, 410):
        raise FhirHttpError(f"The EHR has no {what} at that address.{said}", status=status)
    if status == 429:
        raise FhirHttpError("The EHR is busy. Try again in a minute.", status=status)
    if 300 <= status < 400:
        raise FhirHttpError("The EHR tried to send the app elsewhere; the app did not follow.", status=status)
    if status < 500:
        raise FhirHttpError(f"The EHR refused the app's request for {what}.{said}", status=status)
    raise FhirHttpError(f"The EHR had a problem answering for {what} (error {status}).{said}", status=status)


def raise_for_write_status(response: requests.Response) -> None:
    """The write-side twin of raise_for_fhir_status: every refusal is a FhirWriteRefused carrying the
    EHR's own words, so the filing page can show them next to a retry button."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 401:
        raise TokenExpired("The EHR no longer accepts this session's access. Relaunch the app from the chart.")
    said = _diagnostics(response).removeprefix(" The EHR said: ")
    what = _resource_type_in(response.url or "")
    what = "the plan" if what == "this information" else f"the {what}"
    if status == 403:
        message = f"The EHR did not allow the app to save {what}."
    elif status in (404, 405, 501):
        message = f"The EHR does not accept {what} from the app."
    elif status in (409, 412):
        message = f"Someone changed {what} in the EHR since the app last filed it."
    elif status == 413:
        message = "The EHR said the plan is too large to send in one request."
    elif status == 429:
        message = "The EHR is busy. Try again in a minute."
    elif 300 <= status < 400:
        message = "The EHR tried to send the app elsewhere; the app did not follow."
    elif status < 500:
        message = f"The EHR refused {what} the app sent."
    else:
        message = f"The EHR had a problem saving {what} (error {status})."
    raise FhirWriteRefused(f"{message} The EHR said: {said}" if said else message, status=status, said=said,
                           codes=_issue_codes(response))


def _resource_type(resource: FhirJson) -> str:
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not RELATIVE_REFERENCE.match(f"{resource_type}/x"):
        raise FhirAccessError("The app tried to save something that is not a FHIR resource.")
    return resource_type


def _diagnostics(response: requests.Response) -> str:
    """' The EHR said: …' from an OperationOutcome body, or '' (never the body itself)."""
    try:
        body = parse_ehr_json(response.content)
    except FhirAccessError:
        return ""
    text = outcome_text(body) if isinstance(body, Mapping) else ""
    return f" The EHR said: {text}" if text else ""


def _issue_codes(response: requests.Response) -> tuple[str, ...]:
    try:
        body = parse_ehr_json(response.content)
    except FhirAccessError:
        return ()
    if not isinstance(body, Mapping) or body.get("resourceType") != "OperationOutcome":
        return ()
    return tuple(i["code"] for i in _dicts(body.get("issue")) if isinstance(i.get("code"), str))


def outcome_text(outcome: FhirJson) -> str:
    """The first issue's diagnostics or details.text of an OperationOutcome, shortened; '' if none."""
    if outcome.get("resourceType") != "OperationOutcome":
        return ""
    for issue in _dicts(outcome.get("issue")):
        details = issue.get("details")
        text = issue.get("diagnostics") or (details.get("text") if isinstance(details, Mapping) else None)
        if isinstance(text, str) and text.strip():
            return text.strip()[:DIAGNOSTICS_MAX_CHARS]
    return ""


def _resource_type_in(url: str) -> str:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for segment in reversed(segments):
        if RELATIVE_REFERENCE.match(f"{segment}/x"):
            return segment
    return "this information"


# -- bundles ------------------------------------------------------------------------------------


def _json_object(response: requests.Response) -> dict[str, Any]:
    body = parse_ehr_json(response.content)
    if not isinstance(body, dict):
        raise FhirAccessError(UNREADABLE)
    return body


def _require_searchset(bundle: FhirJson) -> None:
    if bundle.get("resourceType") != "Bundle" or not isinstance(bundle.get("entry", []), list):
        raise FhirAccessError("The EHR sent a search answer the app could not read.")


def _split_entries(
    bundle: FhirJson, resource_type: str, resources: list[FhirJson], included: list[FhirJson], notes: list[str]
) -> None:
    """Sort a page's entries into matches, includes and notes; fatal/error outcomes fail the search."""
    for entry in _dicts(bundle.get("entry")):
        resource = entry.get("resource")
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            continue
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, Mapping) else None
        if resource["resourceType"] == "OperationOutcome" or mode == "outcome":
            notes.extend(_outcome_notes(resource))
        elif mode == "match" or (mode is None and resource["resourceType"] == resource_type):
            resources.append(resource)
        else:
            included.append(resource)


def _outcome_notes(outcome: FhirJson) -> list[str]:
    severities = {issue.get("severity") for issue in _dicts(outcome.get("issue"))}
    if severities & {"fatal", "error"}:
        said = outcome_text(outcome)
        raise FhirAccessError(f"The EHR reported a problem with this search.{f' The EHR said: {said}' if said else ''}")
    return [INCOMPLETE_NOTE] if severities & {"warning", "information"} else []


def _link(bundle: FhirJson, relation: str) -> str | None:
    for link in _dicts(bundle.get("link")):
        if link.get("relation") == relation and isinstance(link.get("url"), str) and link["url"]:
            return str(link["url"])
    return None


def _dicts(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


# -- URLs ---------------------------------------------------------------------------------------


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """Every query name and value percent-encoded, as a client library does: only RFC 3986 unreserved
    characters stay bare. A proxy that collapses `//` or decodes `|` then cannot change what is asked."""
    return urlencode(list(params), quote_via=quote, safe="")


def encoded_link(url: str) -> str:
    """A server's paging link with its query made as safe as `encode_query` makes ours: reserved
    characters inside names and values are percent-encoded; the link's own escapes, `+`, `=` and `&`
    stay as the server wrote them, so what it asks for is unchanged (R36)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    return parts._replace(query=quote(parts.query, safe="%+=&")).geturl()




Origin = tuple[str, str, int, str]  # scheme, host, port, path


def _origin_and_path(url: str) -> Origin | None:
    """(scheme, host, port, path) with default ports filled in; None for anything unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    segments = parts.path.split("/")
    if any(s in (".", "..") or s.lower() in ("%2e", "%2e%2e", ".%2e", "%2e.") for s in segments):
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme], parts.path.rstrip("/")


def _is_under(candidate: Origin | None, base: Origin | None) -> bool:
    if candidate is None or base is None or candidate[:3] != base[:3]:
        return False
    return candidate[3] == base[3] or candidate[3].startswith(base[3] + "/")


def _retry_after_s(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())
