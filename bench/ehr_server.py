"""A benchmark EHR that costs almost nothing per request: `python -m bench.ehr_server --port N --latency-ms 50`.

Layer: benchmarks (not shipped). Run as its own process, so that its CPU is not the app's.

At start it asks the sandbox EHR (`sandbox.create_sandbox`, in this process, through Flask's test
client, under this server's own URL) every request a summary launch makes: discovery, the
CapabilityStatement, the JWKS, each search of the app's query plan (`planned_searches`, every page,
following the sandbox's own `next` links) and a read of the patient and of every resource those
answers refer to. It keeps the answers as response bytes keyed by the request (path plus query,
parameters sorted). The sandbox's page cursors are random ids; they are replaced by `p2`, `p3`...
in the `next` and `self` links, so a page's key is the same for every launch. The bytes are the
sandbox's answers otherwise unchanged.

Then it serves them with asyncio (standard library): a request costs a parse, a dict lookup and a
write, the injected latency (`--latency-ms`, every /fhir request) is a sleep that uses no CPU, and one
thread holds thousands of open connections, where a threading server would hold one thread each.
A request that was not recorded is asked of the sandbox then (in a worker thread), kept, and
counted as a miss (`GET /_bench/stats`).

The authorization server auto-approves: EHR launch with a `launch` id from `POST /_sandbox/launches`,
exact client id and redirect URI, `aud`, `state`, PKCE S256 (the verifier is checked at the token
endpoint), single-use codes. Its id_token is signed once per user at start. The controls the
benchmarks use are the sandbox's: `POST /_sandbox/launches`, `GET /_sandbox/requests` (the /fhir
request log, same fields), `POST /_sandbox/requests/clear`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from http import HTTPStatus
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt

from sandbox import SandboxClient, SandboxConfig, create_sandbox
from sandbox.auth import S256_CHALLENGE, s256
from sandbox.data.characters import CHILD_ID
from sandbox.fhir import operation_outcome
from sandbox.roster import users
from sandbox.scopes import understood
from sandbox.search import reference_id, references_in
from sandbox.state import EXTENSION, SandboxState
from sandbox.tokens import Authorization, LaunchContext
from smart_app.clock import Clock
from smart_app.fhir.queries import QueryProfile, planned_searches
from smart_app.launch.scopes import requested_scopes
from smart_app.plan.record import SECTION_KEYS

DEFAULT_LATENCY_MS = 50
DEFAULT_CLIENT_ID = "spoc-bench"
READY = "bench EHR ready at"  # the first line on stdout, then the URL: the parent waits for it
BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
TOKEN_LIFETIME_S = 3600
ID_TOKEN_LIFETIME_S = 24 * 3600  # signed once at start: valid for a whole benchmark
MAX_RECORDED_PAGES = 1000
READ_ROUNDS = 2  # the patient and what the searches' answers refer to, then what those reads refer to
# The app's default plan, with MedicationStatement asked (the sandbox's CapabilityStatement lists it).
RECORDED_PROFILE = QueryProfile(medication_statement=True)
GATEWAY_SAFE = ":/|,"  # how smart_app.fhir.gateway quotes a search's parameters
FHIR_JSON = "application/fhir+json; charset=utf-8"
PAGE_CURSOR = "_cursor"


# -- keys and answers -------------------------------------------------------------------------------


def request_key(path: str, query: str) -> str:
    """A request as a key: its path and its query parameters in sorted order."""
    params = sorted(parse_qsl(query, keep_blank_values=True))
    return path + ("?" + urlencode(params) if params else "")


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole HTTP response but for the end of its header block (the server adds `Connection`)."""

    status: int
    head: bytes
    body: bytes

    @classmethod
    def of(cls, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> Answer:
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Length: {len(body)}",
                 *(f"{name}: {value}" for name, value in headers)]
        return cls(status, ("\r\n".join(lines) + "\r\n").encode("latin-1"), body)

    @classmethod
    def json(cls, status: int, value: object, content_type: str = "application/json",
             headers: Iterable[tuple[str, str]] = ()) -> Answer:
        return cls.of(status, json.dumps(value).encode(), [("Content-Type", content_type), *headers])

    @classmethod
    def redirect(cls, location: str) -> Answer:
        return cls.of(302, b"", [("Location", location), ("Cache-Control", "no-store")])

    def wire(self, *, close: bool) -> bytes:
        return self.head + (b"Connection: close\r\n" if close else b"") + b"\r\n" + self.body


KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control")


def outcome(status: int, diagnostics: str, code: str = "processing") -> Answer:
    return Answer.json(status, operation_outcome(diagnostics, code=code), FHIR_JSON)


# -- recording the sandbox's answers ----------------------------------------------------------------


class Recorder:
    """The sandbox EHR in this process, asked through Flask's test client under `base_url`."""

    def __init__(self, base_url: str, config: SandboxConfig) -> None:
        self.base_url = base_url
        self.app = create_sandbox(config)
        self.client = self.app.test_client()
        self.state: SandboxState = self.app.extensions[EXTENSION]
        self.lock = threading.Lock()  # the test client is not shared between threads

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url}/fhir"

    def default_user(self) -> str:
        """Who the sandbox says launched the app when a launch names nobody."""
        return users(self.state.store, self.state.config.users)[0].practitioner_id

    def token_for(self, client_id: str, patient: str, scope: str) -> str:
        """A sandbox access token for the patient's launch, issued directly (no authorize round)."""
        grant = understood(scope, permission_v2=self.state.config.permission_v2)
        context = LaunchContext(patient=patient, user=self.default_user())
        return self.state.tokens.issue_access(Authorization(client_id, grant, context), ID_TOKEN_LIFETIME_S)

    def ask(self, target: str, token: str | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with self.lock:
            response = self.client.get(target, base_url=self.base_url, headers=headers)
        kept = [(name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers]
        return response.status_code, kept, response.get_data()

    def signed_id_token(self, client_id: str, user: str, now: float) -> str:
        claims = {"iss": self.fhir_base, "sub": user, "aud": client_id, "iat": int(now),
                  "exp": int(now) + ID_TOKEN_LIFETIME_S, "fhirUser": f"{self.fhir_base}/Practitioner/{user}"}
        key = self.state.signing_key()
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def planned_targets(patient_id: str, today: date) -> list[str]:
    """The searches a launch asks, as the gateway writes them (first pages), in the plan's order."""
    targets: list[str] = []
    for key in SECTION_KEYS:
        for search in planned_searches(key, patient_id, RECORDED_PROFILE, today=today):
            target = f"/fhir/{search.resource_type}?{urlencode(list(search.params), safe=GATEWAY_SAFE)}"
            if target not in targets:
                targets.append(target)
    return targets


def _target_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _with_page_cursor(url: str, page: int) -> str:
    """`url` with its `_cursor` value replaced by the page's stable name (`p2`, `p3`...)."""
    parts = urlsplit(url)
    params = [(k, f"p{page}" if k == PAGE_CURSOR else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return parts._replace(query=urlencode(params)).geturl()


class AnswerBook:
    """Recorded answers per patient (None: answers that need no token), and how many were missed."""

    def __init__(self, recorder: Recorder, client_id: str, scope: str) -> None:
        self.recorder = recorder
        self.client_id = client_id
        self.scope = scope
        self._answers: dict[tuple[str | None, str], Answer] = {}
        self._tokens: dict[str, str] = {}  # patient -> the sandbox token the recorder asks with
        self.misses = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, patient: str | None, key: str) -> Answer | None:
        return self._answers.get((patient, key))

    def keep(self, patient: str | None, target: str, answer: Answer) -> None:
        path, _, query = target.partition("?")
        with self._lock:
            self._answers[(patient, request_key(path, query))] = answer

    def _token(self, patient: str) -> str:
        if patient not in self._tokens:
            self._tokens[patient] = self.recorder.token_for(self.client_id, patient, self.scope)
        return self._tokens[patient]

    def record_open(self, target: str) -> None:
        """A request that needs no token (discovery, CapabilityStatement, JWKS)."""
        status, headers, body = self.recorder.ask(target)
        self.keep(None, target, Answer.of(status, body, headers))

    def record_patient(self, patient: str, today: date) -> None:
        """Every request of a launch on `patient`: the plan's searches, every page, then the reads."""
        found = [r for target in planned_targets(patient, today) for r in self.record_search(patient, target)]
        wanted = {f"Patient/{patient}", *_referenced(found)}
        done: set[str] = set()
        for _ in range(READ_ROUNDS):
            wanted -= done
            read = [resource for ref in sorted(wanted) if (resource := self.record_read(patient, ref))]
            done |= wanted
            wanted = set(_referenced(read))

    def record_search(self, patient: str, target: str) -> list[dict]:
        """All pages of a search, their cursors renamed; returns the resources on them."""
        token = self._token(patient)
        resources: list[dict] = []
        asked: list[str] = []
        while target and len(asked) < MAX_RECORDED_PAGES:
            asked.append(target)
            status, headers, body = self.recorder.ask(target, token)
            page_number = len(asked)
            renamed = _with_page_cursor(target, page_number) if page_number > 1 else target
            if status != 200:
                self.keep(patient, renamed, Answer.of(status, body, headers))
                break
            bundle = json.loads(body)
            target = ""
            for link in bundle.get("link", ()):
                if link.get("relation") == "next":
                    target = _target_of(link["url"])
                if PAGE_CURSOR in link.get("url", ""):
                    link["url"] = _with_page_cursor(
                        link["url"], page_number + 1 if link.get("relation") == "next" else page_number)
            self.keep(patient, renamed, Answer.of(status, json.dumps(bundle).encode(), headers))
            resources.extend(entry["resource"] for entry in bundle.get("entry", ()) if "resource" in entry)
        return resources

    def record_read(self, patient: str, reference: str) -> dict | None:
        status, headers, body = self.recorder.ask(f"/fhir/{reference}", self._token(patient))
        self.keep(patient, f"/fhir/{reference}", Answer.of(status, body, headers))
        return json.loads(body) if status == 200 else None

    def record_missed(self, patient: str, path: str, query: str) -> Answer:
        """A request nobody recorded: ask the sandbox now (a search: all its pages) and keep it."""
        target = path + (f"?{query}" if query else "")
        with self._lock:
            self.misses += 1
        segments = [s for s in path.removeprefix("/fhir/").split("/") if s]
        if len(segments) == 1 and PAGE_CURSOR not in dict(parse_qsl(query)):
            self.record_search(patient, target)
        else:
            status, headers, body = self.recorder.ask(target, self._token(patient))
            self.keep(patient, target, Answer.of(status, body, headers))
        return self.get(patient, request_key(path, query)) or outcome(404, "not recorded", "not-found")


def _referenced(resources: Iterable[dict]) -> Iterator[str]:
    for resource in resources:
        for reference in references_in(resource):
            if "://" not in reference and (found := reference_id(reference)):
                yield f"{found[0]}/{found[1]}"


# -- the authorization server's memory --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LaunchGrant:
    """What a code, then an access or refresh token, stands for."""

    client_id: str
    patient: str
    user: str
    scope: str


@dataclass(frozen=True, slots=True)
class PendingCode:
    grant: LaunchGrant
    redirect_uri: str
    code_challenge: str


@dataclass
class AuthMemory:
    clients: Mapping[str, frozenset[str]]  # client id -> its registered redirect URIs
    launches: dict[str, tuple[str, str]] = field(default_factory=dict)  # launch id -> (patient, user)
    codes: dict[str, PendingCode] = field(default_factory=dict)
    access: dict[str, LaunchGrant] = field(default_factory=dict)
    refresh: dict[str, LaunchGrant] = field(default_factory=dict)
    id_tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (client, user) -> signed id_token


# -- serving ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def params(self) -> dict[str, str]:
        pairs = parse_qsl(self.query, keep_blank_values=True)
        if self.method == "POST" and "form-urlencoded" in self.headers.get("content-type", ""):
            pairs += parse_qsl(self.body.decode("latin-1"), keep_blank_values=True)
        return dict(pairs)


class BenchEhr:
    """The asyncio request handler over an AnswerBook and the authorization server's memory."""

    def __init__(self, book: AnswerBook, auth: AuthMemory, *, latency_ms: int, default_user: str) -> None:
        self.book = book
        self.auth = auth
        self.latency_s = latency_ms / 1000
        self.default_user = default_user
        self.log: list[dict] = []
        self.served = 0

    @property
    def base_url(self) -> str:
        return self.book.recorder.base_url

    @property
    def fhir_base(self) -> str:
        return self.book.recorder.fhir_base

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request = await read_request(reader)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, ConnectionError):
                    return
                if request is None:
                    return
                answer = await self.answer(request)
                close = request.headers.get("connection", "").lower() == "close"
                writer.write(answer.wire(close=close))
                await writer.drain()
                self.served += 1
                if close:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    async def answer(self, request: Request) -> Answer:
        if request.path == "/fhir" or request.path.startswith("/fhir/"):
            started = time.perf_counter()
            if self.latency_s > 0:
                await asyncio.sleep(self.latency_s)
            answer = await self.fhir(request)
            self.log.append({"method": request.method, "path": request.path, "query": request.query,
                             "status": answer.status, "ms": round((time.perf_counter() - started) * 1000, 1)})
            return answer
        route = {
            ("GET", "/auth/authorize"): self.authorize,
            ("POST", "/auth/authorize"): self.authorize,
            ("POST", "/auth/token"): self.token,
            ("GET", "/auth/jwks"): lambda r: self.book.get(None, "/auth/jwks"),
            ("POST", "/_sandbox/launches"): self.issue_launch,
            ("GET", "/_sandbox/requests"): lambda r: Answer.json(200, self.log),
            ("POST", "/_sandbox/requests/clear"): self.clear_log,
            ("GET", "/_bench/stats"): lambda r: Answer.json(200, {
                "recorded": len(self.book), "misses": self.book.misses, "served": self.served}),
        }.get((request.method, request.path))
        found = route(request) if route else None
        return found or Answer.of(404, b"not found", [("Content-Type", "text/plain")])

    # -- FHIR --

    async def fhir(self, request: Request) -> Answer:
        key = request_key(request.path, request.query)
        open_answer = self.book.get(None, key)
        if open_answer is not None:
            return open_answer
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = self.auth.access.get(token) if scheme.lower() == "bearer" else None
        if grant is None:
            return outcome(401, "a valid, unexpired Bearer access token is required", "login")
        if request.method != "GET":
            return outcome(405, "the benchmark EHR only reads", "not-supported")
        found = self.book.get(grant.patient, key)
        if found is not None:
            return found
        kind = request.path.removeprefix("/fhir/").split("/", 1)[0]  # the type only: no ids in a log line
        print(f"bench EHR: a {kind} request was not recorded; asking the sandbox", file=sys.stderr, flush=True)
        return await asyncio.to_thread(self.book.record_missed, grant.patient, request.path, request.query)

    # -- authorization --

    def authorize(self, request: Request) -> Answer:
        params = request.params
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self.auth.clients.get(client_id, ()):
            return Answer.of(400, b"unknown client_id or redirect_uri", [("Content-Type", "text/plain")])

        def back(**fields: str | None) -> Answer:
            fields["iss"] = self.fhir_base
            separator = "&" if "?" in redirect_uri else "?"
            return Answer.redirect(redirect_uri + separator + urlencode({k: v for k, v in fields.items() if v}))

        state = params.get("state")
        launch = self.auth.launches.get(params.get("launch", ""))
        refusal = (
            ("unsupported_response_type", "response_type must be code") if params.get("response_type") != "code" else
            ("invalid_request", "aud must be the FHIR base URL") if params.get("aud") != self.fhir_base else
            ("invalid_request", "state is required") if not state else
            ("invalid_request", "PKCE with S256 is required")
            if params.get("code_challenge_method") != "S256"
            or not S256_CHALLENGE.fullmatch(params.get("code_challenge", "")) else
            ("invalid_scope", "the launch scope is required") if "launch" not in params.get("scope", "").split() else
            ("invalid_request", "unknown launch") if launch is None else None
        )
        if refusal:
            return back(error=refusal[0], error_description=refusal[1], state=state)
        patient, user = launch
        scope = str(understood(params["scope"], permission_v2=True))
        code = secrets.token_urlsafe(32)
        self.auth.codes[code] = PendingCode(LaunchGrant(client_id, patient, user, scope), redirect_uri,
                                            params["code_challenge"])
        return back(code=code, state=state)

    def token(self, request: Request) -> Answer:
        params = request.params
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            pending = self.auth.codes.pop(params.get("code", ""), None)
            verifier = params.get("code_verifier", "")
            if (pending is None or pending.grant.client_id != params.get("client_id")
                    or pending.redirect_uri != params.get("redirect_uri")
                    or not 43 <= len(verifier) <= 128 or s256(verifier) != pending.code_challenge):
                return token_error("invalid_grant", "the code, redirect_uri or code_verifier does not match")
            grant = pending.grant
        elif grant_type == "refresh_token":
            grant = self.auth.refresh.pop(params.get("refresh_token", ""), None)
            if grant is None or grant.client_id != params.get("client_id"):
                return token_error("invalid_grant", "the refresh token is unknown or already used")
        else:
            return token_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        access = secrets.token_urlsafe(32)
        self.auth.access[access] = grant
        body: dict[str, object] = {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
                                   "scope": grant.scope, "patient": grant.patient, "need_patient_banner": True}
        scopes = grant.scope.split()
        if "offline_access" in scopes or "online_access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self.auth.refresh[refresh] = grant
            body["refresh_token"] = refresh
        id_token = self.auth.id_tokens.get((grant.client_id, grant.user))
        if id_token and "openid" in scopes and "fhirUser" in scopes:
            body["id_token"] = id_token
        return Answer.json(200, body, headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    # -- controls --

    def issue_launch(self, request: Request) -> Answer:
        try:
            asked = json.loads(request.body or b"{}")
        except ValueError:
            asked = None
        if not isinstance(asked, dict) or not asked.get("patient"):
            return Answer.json(400, {"error": "send {\"patient\": id}"})
        launch = secrets.token_urlsafe(16)
        self.auth.launches[launch] = (asked["patient"], asked.get("user") or self.default_user)
        return Answer.json(200, {"launch": launch, "iss": self.fhir_base})

    def clear_log(self, request: Request) -> Answer:
        self.log.clear()
        return Answer.json(200, {"cleared": True})


def token_error(error: str, description: str) -> Answer:
    return Answer.json(400, {"error": error, "error_description": description},
                       headers=[("Cache-Control", "no-store")])


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """One HTTP/1.1 request with a Content-Length body (or none); None at the end of the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as ended:
        if not ended.partial.strip():
            return None
        raise
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    length = int(headers.get("content-length") or 0)
    body = await reader.readexactly(length) if length else b""
    path, _, query = target.partition("?")
    return Request(method.upper(), path, query, headers, body)


# -- start ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerSpec:
    latency_ms: int = DEFAULT_LATENCY_MS
    client_id: str = DEFAULT_CLIENT_ID
    redirect_uris: tuple[str, ...] = ()
    patients: tuple[str, ...] = (CHILD_ID,)
    today: date | None = None
    host: str = "127.0.0.1"
    port: int = 0


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


def prepare(spec: ServerSpec, base_url: str, now: float) -> BenchEhr:
    """Record the sandbox's answers for `spec.patients` under `base_url`; the handler that serves them."""
    today = spec.today or Clock().today()
    config = SandboxConfig(clients=[SandboxClient(spec.client_id, spec.redirect_uris)], today=today)
    recorder = Recorder(base_url, config)
    scope = requested_scopes(kind="ehr", write_mode="careplan", v2=True)
    book = AnswerBook(recorder, spec.client_id, scope)
    for target in ("/fhir/.well-known/smart-configuration", "/fhir/metadata", "/auth/jwks"):
        book.record_open(target)
    for patient in spec.patients:
        book.record_patient(patient, today)
    user = recorder.default_user()
    auth = AuthMemory({spec.client_id: frozenset(spec.redirect_uris)})
    auth.id_tokens[(spec.client_id, user)] = recorder.signed_id_token(spec.client_id, user, now)
    return BenchEhr(book, auth, latency_ms=spec.latency_ms, default_user=user)


async def serve(spec: ServerSpec) -> None:
    sock = listening_socket(spec.host, spec.port)
    base_url = f"http://{spec.host}:{sock.getsockname()[1]}"
    ehr = prepare(spec, base_url, time.time())
    server = await asyncio.start_server(ehr.connection, sock=sock)
    print(f"{READY} {base_url} ({len(ehr.book)} answers recorded, {spec.latency_ms} ms per FHIR request)",
          flush=True)
    async with server:
        await server.serve_forever()


def parse_args(argv: list[str] | None = None) -> ServerSpec:
    parser = argparse.ArgumentParser(prog="python -m bench.ehr_server",
                                     description="A benchmark EHR serving recorded sandbox answers from memory.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on the first line)")
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS, help="slept per /fhir request")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--redirect-uri", action="append", required=True, help="registered redirect URI (repeatable)")
    parser.add_argument("--patient", action="append", help=f"patient to record (repeatable; default {CHILD_ID})")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="the sandbox's today (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    return ServerSpec(latency_ms=args.latency_ms, client_id=args.client_id, redirect_uris=tuple(args.redirect_uri),
                      patients=tuple(args.patient or (CHILD_ID,)), today=args.today, host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> None:
    try:
        asyncio.run(serve(parse_args(argv)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
