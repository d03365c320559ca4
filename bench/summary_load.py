"""Benchmark: launch-to-summary against the sandbox EHR, parallel and one request at a time.

Layer: benchmarks (not shipped). Drives a real EHR launch through the app's Flask test client against
the sandbox EHR, which runs in a child process on a loopback port (as a real EHR is another machine:
its CPU and memory are not the app's). Every run is a fresh app with a fresh SQLite store, so nothing
(SMART configuration, CapabilityStatement, gateway cache) carries over from one run to the next.

The critical-path lower bound is computed from the sandbox's request log; bench/README.md says how.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from cryptography.fernet import Fernet
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from bench.profiling import ThreadProfiles
from sandbox import SandboxClient, SandboxConfig, create_sandbox
from sandbox.data.characters import CHILD_ID, build_resources
from sandbox.data.large import build_large_patient
from sandbox.server import serve_in_thread
from smart_app import create_app
from smart_app.config import Settings
from smart_app.fhir.queries import CAPABILITY_CHOSEN, QueryProfile, planned_searches
from smart_app.plan.record import SECTION_KEYS
from smart_app.store import upgrade
from smart_app.tenants import Quirks, Tenant, TenantRegistry

APP_ORIGIN = "http://app.test"  # the Flask test client's notional host
CLIENT_ID = "spoc-bench"
LATENCY_MS = 50
RUNS = 5
SITE_CONCURRENCY = Quirks().concurrency  # what a site gets unless its tenant file says otherwise
OTHER_CONCURRENCY = (8, 20)  # reported next to it
TARGET_RATIO = 1.2
LARGE_PATIENT_ID = "large-1"
SANDBOX_START_TIMEOUT_S = 120
HTTP_TIMEOUT_S = 30
LONE_READS = 10  # sequential requests that price one round trip of the bound


# -- the sandbox EHR, in a child process ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LargePatientSizes:
    """Arguments of sandbox.data.large.build_large_patient."""

    medication_orders: int = 2000  # the page cap (20 pages of 100): all fetched
    encounters: int = 2000
    conditions: int = 300
    other: int = 5700  # observations, procedures (all fetched) and referrals: 10,002 resources in all


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """What the child process serves: the bundled characters, optionally with the large patient."""

    latency_ms: int
    today: date
    large_patient: LargePatientSizes | None = None

    def config(self) -> SandboxConfig:
        return SandboxConfig(
            app_launch_url=f"{APP_ORIGIN}/launch",
            clients=[SandboxClient(CLIENT_ID, (f"{APP_ORIGIN}/callback",))],
            today=self.today,
            latency_ms=self.latency_ms,
            resources=self.resources(),
        )

    def resources(self) -> list[dict]:
        return build_resources(self.today) + self.large_record()

    def large_record(self) -> list[dict]:
        if self.large_patient is None:
            return []
        sizes = self.large_patient
        return build_large_patient(
            self.today,
            patient_id=LARGE_PATIENT_ID,
            medication_orders=sizes.medication_orders,
            encounters=sizes.encounters,
            conditions=sizes.conditions,
            other=sizes.other,
        )


def _serve_sandbox(spec: SandboxSpec, channel) -> None:
    """Child process: serve the sandbox, send its URL, serve until the parent says stop (or goes away)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log on the table's terminal
    config = spec.config()
    large = Counter(r["resourceType"] for r in spec.large_record())
    server = serve_in_thread(create_sandbox(config), host="localhost")
    channel.send((server.url, dict(large)))
    try:
        channel.recv()
    except EOFError:
        pass
    server.shutdown()


@dataclass(frozen=True, slots=True)
class BenchSandbox:
    url: str
    spec: SandboxSpec
    large_record: Mapping[str, int]  # the large patient's resources by type, as loaded (empty if none)

    @property
    def iss(self) -> str:
        return f"{self.url}/fhir"

    def control(self, path: str, payload: object = None) -> object:
        response = requests.post(f"{self.url}/_sandbox/{path}", json=payload or {}, timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
        return response.json()

    def request_log(self) -> tuple[dict, ...]:
        response = requests.get(f"{self.url}/_sandbox/requests", timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
        return tuple(response.json())


@contextmanager
def sandbox_running(spec: SandboxSpec) -> Iterator[BenchSandbox]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_sandbox, args=(spec, theirs), name="bench-sandbox", daemon=True)
    process.start()
    try:
        if not ours.poll(SANDBOX_START_TIMEOUT_S):
            raise RuntimeError("the sandbox EHR did not start")
        url, large_record = ours.recv()
        yield BenchSandbox(url, spec, large_record)
    finally:
        try:
            ours.send("stop")
        except OSError:
            pass
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)


# -- the app ----------------------------------------------------------------------------------------


def bench_tenant(sandbox: BenchSandbox, *, concurrency: int) -> Tenant:
    """The tenant of tests/support.py `a_tenant`, with the site's request concurrency."""
    return Tenant(
        name="Sandbox EHR",
        iss=sandbox.iss,
        client_id=CLIENT_ID,
        redirect_uri=f"{APP_ORIGIN}/callback",
        frame_ancestors=(sandbox.url,),
        write_mode="careplan",
        quirks=Quirks(concurrency=concurrency),
    )


class _CompiledTemplates(BytecodeCache):
    """Jinja bytecode shared by the benchmark's fresh apps.

    A real app process compiles its templates once and serves many launches; a fresh app per run
    would otherwise pay that compilation in every measured launch.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


@contextmanager
def fresh_app(sandbox: BenchSandbox, *, concurrency: int) -> Iterator[Flask]:
    """A new app process-state with an empty SQLite store: no cached discovery, capabilities or GETs."""
    with tempfile.TemporaryDirectory(prefix="spoc-bench-") as scratch:
        database_url = f"sqlite:///{Path(scratch) / 'spoc.db'}"
        upgrade(database_url)
        settings = Settings(
            tenants_file=Path(scratch) / "unused.toml",
            token_keys=(Fernet.generate_key().decode(),),
            database_url=database_url,
            fhir_timeout_s=HTTP_TIMEOUT_S,
        )
        app = create_app(settings, TenantRegistry([bench_tenant(sandbox, concurrency=concurrency)]))
        app.config["TESTING"] = True
        app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        try:
            yield app
        finally:
            app.extensions["spoc"].engine.dispose()


# -- one launch -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LaunchRun:
    """One launch, from the EHR's /launch request to the last line of the summary stream."""

    wall_s: float
    cpu_s: float  # this process's CPU time over the same span, less the authorize request sent as the browser
    launch_id: str
    section_lines: tuple[str, ...]  # keys of the NDJSON lines, "banner" and "done" included
    log: tuple[dict, ...]  # the sandbox's /fhir request log for this launch
    fetched: Mapping[str, int]  # resources fetched per section, from the app's audit trail
    failed: tuple[str, ...]  # sections the app showed as failed

    @property
    def resources_fetched(self) -> int:
        return sum(self.fetched.values())


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class AppSpan:
    """From now to `end()`: wall time, and this process's CPU time (every thread) less the browser's.

    With a ThreadProfiles, the same span is profiled (the browser's requests left out too).
    """

    def __init__(self, profile: ThreadProfiles | None = None) -> None:
        self._profile = profile
        self._browser_cpu_s = 0.0
        self._wall_started = time.perf_counter()
        self._cpu_started = time.process_time()
        if profile:
            profile.enable()

    @contextmanager
    def as_browser(self) -> Iterator[None]:
        """A request the browser sends, not the app: neither counted nor profiled."""
        if self._profile:
            self._profile.disable()
        started = time.process_time()
        try:
            yield
        finally:
            self._browser_cpu_s += time.process_time() - started
            if self._profile:
                self._profile.enable()

    def end(self) -> tuple[float, float]:
        wall_s = time.perf_counter() - self._wall_started
        cpu_s = time.process_time() - self._cpu_started - self._browser_cpu_s
        if self._profile:
            self._profile.disable()
        return wall_s, cpu_s


def launch_to_summary(app: Flask, sandbox: BenchSandbox, patient_id: str, *, one_at_a_time: bool = False,
                      profile: ThreadProfiles | None = None) -> LaunchRun:
    """Launch as the EHR frame would and read the whole summary stream; time it end to end.

    `one_at_a_time` reads the sections one key after another (`/sections?only=key`) instead of one
    stream of all of them: with a tenant concurrency of 1 that is the sequential baseline. `profile`
    profiles the launch, from `/launch` to the end of the stream.
    """
    client = app.test_client()
    sandbox.control("requests/clear")
    issued = sandbox.control("launches", {"patient": patient_id})
    span = AppSpan(profile)
    begun = client.get("/launch?" + urlencode({"iss": issued["iss"], "launch": issued["launch"]}))
    _expect(begun.status_code == 302, "the app did not redirect to the EHR's authorize endpoint")
    with span.as_browser():
        authorized = requests.get(begun.headers["Location"], allow_redirects=False, timeout=HTTP_TIMEOUT_S)
    _expect(authorized.status_code in (302, 303), "the sandbox did not authorize the launch")
    landed = client.get(_path_of(authorized.headers["Location"]))
    _expect(landed.status_code == 303, "the callback did not land on the summary")
    summary_path = _path_of(landed.headers["Location"])
    _expect(client.get(summary_path).status_code == 200, "the summary shell did not render")
    launch_id = summary_path.strip("/").split("/")[1]
    keys = [(key,) for key in SECTION_KEYS] if one_at_a_time else [()]
    lines: list[str] = []
    for only in keys:
        query = "?" + urlencode([("only", k) for k in only]) if only else ""
        stream = client.get(f"/p/{launch_id}/sections{query}")
        _expect(stream.status_code == 200, "the sections stream failed")
        lines.extend(_line_keys(stream.get_data(as_text=True)))
    wall_s, cpu_s = span.end()
    searches = [e for e in app.extensions["spoc"].audit.for_patient(sandbox.iss, patient_id)
                if e["action"] == "fhir-search"]
    fetched = {e["detail"]["section"]: e["detail"]["count"] for e in searches}
    failed = tuple(e["detail"]["section"] for e in searches if e["outcome"] == "failure")
    return LaunchRun(wall_s, cpu_s, launch_id, tuple(lines), sandbox.request_log(), fetched, failed)


def _line_keys(ndjson: str) -> list[str]:
    return [json.loads(line)["key"] for line in ndjson.splitlines() if line.strip()]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


# -- the critical-path lower bound ------------------------------------------------------------------


EVERY_SEARCH = QueryProfile(medication_statement=True)
LAUNCH_PATHS = ("/.well-known/smart-configuration",)  # sequential, before the sections can start
CAPABILITIES_PATH = "/metadata"  # needed before the searches it chooses, not before the others


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """The longest chain of requests that must follow one another."""

    launch_requests: int  # discovery: sequential, before the sections
    section_round_trips: Mapping[str, int]  # per section: its longest search chain + read rounds
    ehr_chain_s: float  # the EHR's own logged time on the launch requests and the slowest search's pages

    @property
    def slowest_section(self) -> str:
        return max(self.section_round_trips, key=lambda k: self.section_round_trips[k], default="")

    @property
    def round_trips(self) -> int:
        return self.launch_requests + max(self.section_round_trips.values(), default=0)

    def bound_s(self, request_s: float) -> float:
        """The chain at `request_s` per round trip: no app can show the whole summary sooner."""
        return self.round_trips * request_s


def searched_sections(patient_id: str, today: date) -> dict[str, str]:
    """Which section each searched resource type belongs to, from the app's own query plan."""
    owners: dict[str, str] = {}
    for key in SECTION_KEYS:
        for search in planned_searches(key, patient_id, EVERY_SEARCH, today=today):
            owners[search.resource_type] = key
    owners["Patient"] = "patient"
    return owners


def critical_path(log: Sequence[dict], patient_id: str, today: date) -> CriticalPath:
    """The bound from a launch's request log (see bench/README.md).

    A search is its path plus query without `_cursor`; its pages are sequential, so a section needs
    at least as many round trips as its longest search has pages, plus one for the CapabilityStatement
    read (when it was read) before a search chosen by it. Reads of `Type/id` come after the searches
    that found the references; they add one round to each section that could have asked for them (a
    second care-team round only when PractitionerRoles were read and then people or organisations,
    which their holders may be).
    """
    owners = searched_sections(patient_id, today)
    launch_requests = 0
    launch_s = 0.0
    pages: dict[tuple[str, str], int] = {}
    search_s: dict[tuple[str, str], float] = {}
    read_types: set[str] = set()
    capabilities_read = _capabilities_after_launch_requests(log)
    for entry in log:
        path = entry["path"].removeprefix("/fhir")
        if path in LAUNCH_PATHS:
            launch_requests += 1
            launch_s += entry["ms"] / 1000
            continue
        if path == CAPABILITIES_PATH:
            continue
        segments = [s for s in path.split("/") if s]
        if len(segments) == 1:
            query = sorted((k, v) for k, v in parse_qsl(entry["query"]) if k != "_cursor")
            search = (segments[0], urlencode(query))
            pages[search] = pages.get(search, 0) + 1
            search_s[search] = search_s.get(search, 0.0) + entry["ms"] / 1000
        elif len(segments) == 2 and segments[0] == "Patient":
            pages[("Patient", segments[1])] = pages.get(("Patient", segments[1]), 0) + 1
        elif len(segments) == 2:
            read_types.add(segments[0])
    trips: dict[str, int] = {}
    for (resource_type, _), count in pages.items():
        section = owners.get(resource_type, resource_type)
        chain = count + (1 if capabilities_read and resource_type in CAPABILITY_CHOSEN else 0)
        trips[section] = max(trips.get(section, 0), chain)
    for section, rounds in _read_rounds(read_types).items():
        if section in trips:
            trips[section] += rounds
    ehr_chain_s = launch_s + max(search_s.values(), default=0.0)
    return CriticalPath(launch_requests, trips, ehr_chain_s)


def _capabilities_after_launch_requests(log: Sequence[dict]) -> bool:
    """Was the CapabilityStatement read, after the launch requests had been answered? Read while they
    were under way, it adds no round of its own: it is part of the launch round."""
    def path_of(entry: dict) -> str:
        return entry["path"].removeprefix("/fhir")

    reads = [entry for entry in log if path_of(entry) == CAPABILITIES_PATH]
    launch_ends = [entry.get("started_ms", 0.0) + entry["ms"] for entry in log if path_of(entry) in LAUNCH_PATHS]
    return any("started_ms" not in read or not launch_ends or read["started_ms"] >= max(launch_ends)
               for read in reads)


def _read_rounds(read_types: set[str]) -> dict[str, int]:
    people = read_types & {"Practitioner", "PractitionerRole", "Organization", "RelatedPerson"}
    rounds: dict[str, int] = {}
    if "Medication" in read_types:
        rounds["medications"] = 1
    if people:
        holders_after_roles = "PractitionerRole" in people and people & {"Practitioner", "Organization"}
        rounds["care_team"] = 2 if holders_after_roles else 1
        rounds["encounters"] = rounds["services"] = 1
    return rounds


def lone_request_s(sandbox: BenchSandbox, reads: int = LONE_READS) -> float:
    """The EHR's median own time on a request sent alone: `reads` sequential reads of `metadata`.

    What one round trip of the bound costs. Not the launch's own requests: while the app has twenty
    in flight the EHR is loaded and each takes longer, which would inflate the bound.
    """
    sandbox.control("requests/clear")
    for _ in range(reads):
        requests.get(f"{sandbox.iss}{CAPABILITIES_PATH}", timeout=HTTP_TIMEOUT_S).raise_for_status()
    times = [entry["ms"] / 1000 for entry in sandbox.request_log() if entry["path"] == f"/fhir{CAPABILITIES_PATH}"]
    _expect(len(times) == reads, "the EHR did not log every lone request")
    return statistics.median(times)


# -- figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadFigures:
    """Launch-to-summary over several fresh launches: medians."""

    label: str
    concurrency: int
    runs: int
    wall_s: float
    requests: int
    path: CriticalPath
    request_s: float  # the EHR's median time on a request sent alone (lone_request_s)
    sections_shown: int

    @property
    def bound_s(self) -> float:
        return self.path.bound_s(self.request_s)

    @property
    def ratio(self) -> float:
        return self.wall_s / self.bound_s if self.bound_s else float("nan")


def measure_summary_load(
    sandbox: BenchSandbox,
    *,
    label: str,
    patient_id: str = CHILD_ID,
    concurrency: int = SITE_CONCURRENCY,
    one_at_a_time: bool = False,
    runs: int = RUNS,
) -> LoadFigures:
    """Median launch-to-summary over `runs` fresh launches (one unmeasured warm-up launch first)."""
    request_s = lone_request_s(sandbox)
    measured: list[LaunchRun] = []
    for attempt in range(runs + 1):
        with fresh_app(sandbox, concurrency=concurrency) as app:
            run = launch_to_summary(app, sandbox, patient_id, one_at_a_time=one_at_a_time)
        if attempt > 0:  # the first launch of a process pays for imports and template compilation
            measured.append(run)
    middle = sorted(measured, key=lambda r: r.wall_s)[len(measured) // 2]
    return LoadFigures(
        label=label,
        concurrency=concurrency,
        runs=len(measured),
        wall_s=statistics.median(r.wall_s for r in measured),
        requests=round(statistics.median(len(r.log) for r in measured)),
        path=critical_path(middle.log, patient_id, sandbox.spec.today),
        request_s=request_s,
        sections_shown=sum(1 for key in middle.section_lines if key in SECTION_KEYS),
    )


def summary_load_figures(
    *, latency_ms: int = LATENCY_MS, runs: int = RUNS, today: date | None = None
) -> tuple[LoadFigures, ...]:
    """The parallel launch at the site's default concurrency, then at the others, then the baseline."""
    spec = SandboxSpec(latency_ms=latency_ms, today=today or date.today())
    with sandbox_running(spec) as sandbox:
        figures = [measure_summary_load(sandbox, label="parallel", concurrency=c, runs=runs)
                   for c in (SITE_CONCURRENCY, *OTHER_CONCURRENCY)]
        figures.append(measure_summary_load(sandbox, label="one at a time", concurrency=1, one_at_a_time=True,
                                            runs=runs))
    return tuple(figures)
