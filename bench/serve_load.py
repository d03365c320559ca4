"""Benchmark: many clinicians launching at once on `spoc serve` with PostgreSQL (issue 17).

Layer: benchmarks (not shipped). Three kinds of process: `spoc serve` (gunicorn, its defaults unless
told otherwise) on a fresh PostgreSQL database, the benchmark EHR (bench/ehr_server.py), and this
one, whose threads are the clinicians' browsers. Each browser does the whole flow over HTTP with
requests: `/launch` -> the EHR's authorize -> `/callback` -> the summary shell -> the sections
stream read to its last line. All the launches of a burst start together (a barrier).

CPU time comes from /proc (bench.processes): the app's is gunicorn's master plus its workers.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench.ehr_server import ServerSpec
from bench.processes import ROOT, EhrProcess, bench_ehr_running, children_of, cpu_used_s, stop, tree_cpu_s, wait_for
from bench.summary_load import CHILD_ID, CLIENT_ID, LATENCY_MS
from smart_app.plan.record import SECTION_KEYS
from smart_app.security import BROWSER_COOKIE
from smart_app.store import upgrade

LEVELS = (1, 10, 30, 50)  # launches at once
MIN_SAMPLES = 10  # a level repeats its burst until it has this many launches (10 bursts of 1...)
TARGET_LEVEL = 30
TARGET_P95_S = 1.5
POSTGRES_ADMIN_URL = os.environ.get("SPOC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START_TIMEOUT_S = 60
LAUNCH_TIMEOUT_S = 120  # per HTTP request of a launch
FAILED_SECTION = 'class="section-failed"'


@dataclass(frozen=True, slots=True)
class ServeSizes:
    levels: tuple[int, ...] = LEVELS
    min_samples: int = MIN_SAMPLES
    workers: int | None = None  # None: what `spoc serve` does by default (SPOC_WORKERS, else 2)
    threads: int | None = None  # None: SPOC_THREADS, else 8


# -- one browser ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LaunchOutcome:
    wall_s: float
    error: str | None  # what went wrong, in a few words; None when the whole summary came


class LaunchFailed(Exception):
    pass


def _expect(response: requests.Response, statuses: tuple[int, ...], step: str) -> requests.Response:
    if response.status_code not in statuses:
        raise LaunchFailed(f"{step}: HTTP {response.status_code}")
    return response


def failure_name(error: BaseException) -> str:
    """The exception's class, with the innermost cause requests and urllib3 wrapped in it, if another."""
    inner: BaseException = error
    while True:
        wrapped = getattr(inner, "reason", None)
        if not isinstance(wrapped, BaseException):
            wrapped = next((arg for arg in inner.args if isinstance(arg, BaseException)), None)
        if wrapped is None:
            break
        inner = wrapped
    outer, cause = type(error).__name__, type(inner).__name__
    return outer if inner is error else f"{outer} ({cause})"


def browser_launch(app_url: str, issued: Mapping[str, str]) -> LaunchOutcome:
    """One clinician opening the app from the chart, timed from `/launch` to the stream's last line."""
    started = time.perf_counter()
    try:
        with requests.Session() as browser:
            _read_summary(browser, app_url, issued)
    except LaunchFailed as failed:
        return LaunchOutcome(time.perf_counter() - started, str(failed))
    except KeyError as failed:  # an answer without the Location header the step needs
        return LaunchOutcome(time.perf_counter() - started, f"no {failed} header")
    return LaunchOutcome(time.perf_counter() - started, None)


def _read_summary(browser: requests.Session, app_url: str, issued: Mapping[str, str]) -> None:
    def get(url: str, statuses: tuple[int, ...], step: str, **kwargs) -> requests.Response:
        try:
            response = browser.get(url, allow_redirects=False, timeout=LAUNCH_TIMEOUT_S, **kwargs)
        except requests.RequestException as failed:
            raise LaunchFailed(f"{step}: {failure_name(failed)}") from None
        return _expect(response, statuses, step)

    begun = get(f"{app_url}/launch", (302,), "launch", params={"iss": issued["iss"], "launch": issued["launch"]})
    cookie = re.search(rf"{BROWSER_COOKIE}=([^;]+)", begun.headers.get("Set-Cookie", ""))
    if not cookie:
        raise LaunchFailed("launch: no browser cookie")
    # Sent by hand: the cookie is Secure, and requests' cookie jar will not send it over http.
    headers = {"Cookie": f"{BROWSER_COOKIE}={cookie.group(1)}"}
    callback = get(begun.headers["Location"], (302, 303), "authorize").headers["Location"]
    landed = get(callback, (303,), "callback", headers=headers)
    summary = urljoin(app_url, landed.headers["Location"])
    get(summary, (200,), "summary shell", headers=headers)
    stream = get(urljoin(summary, "sections"), (200,), "sections", headers=headers, stream=True)
    try:
        # Read whole, then split: the launch ends at its last line either way, and 512-byte reads line by
        # line cost the browsers' process (sharing the app's CPUs) ~2x the CPU.
        lines = [json.loads(line) for line in stream.content.splitlines() if line.strip()]
    except (requests.RequestException, ValueError) as failed:
        raise LaunchFailed(f"sections: {failure_name(failed)}") from None
    keys = [line["key"] for line in lines]
    if not keys or keys[-1] != "done":
        raise LaunchFailed("sections: the stream ended early")
    if "error" in keys:
        raise LaunchFailed("sections: the app reported an error")
    if any(FAILED_SECTION in line["html"] for line in lines):
        raise LaunchFailed("sections: a section failed")
    if len(set(keys) & set(SECTION_KEYS)) != len(SECTION_KEYS):
        raise LaunchFailed("sections: some sections missing")


def burst(app_url: str, ehr: EhrProcess, at_once: int) -> list[LaunchOutcome]:
    """`at_once` clinicians launching together: launch ids issued first, then one barrier for all."""
    issued = [ehr.sandbox.control("launches", {"patient": CHILD_ID}) for _ in range(at_once)]
    together = threading.Barrier(at_once)

    def clinician(launch: Mapping[str, str]) -> LaunchOutcome:
        together.wait()
        return browser_launch(app_url, launch)

    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="clinician") as browsers:
        return list(browsers.map(clinician, issued))


# -- figures ----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class LevelFigures:
    at_once: int
    launches: int
    p50_s: float  # of the launches that completed
    p95_s: float
    slowest_s: float
    errors: Mapping[str, int]  # what went wrong -> how many launches
    app_cpu_s: float  # gunicorn master + workers, per launch
    ehr_cpu_s: float  # the benchmark EHR, per launch
    browsers_cpu_s: float  # this process (the browsers' threads), per launch
    busiest_worker_share: float  # of the workers' CPU time: 1 / workers when evenly shared

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True, slots=True)
class ServeFigures:
    latency_ms: int
    workers: int  # gunicorn workers seen running
    threads: int | None  # None: spoc serve's default
    levels: tuple[LevelFigures, ...]
    app_log_errors: int  # lines of the app's log that say ERROR or Traceback


def measure_level(app_url: str, app_pid: int, ehr: EhrProcess, at_once: int, min_samples: int) -> LevelFigures:
    ehr.sandbox.control("requests/clear")
    outcomes: list[LaunchOutcome] = []
    app_before, ehr_before, browsers_before = tree_cpu_s(app_pid), ehr.cpu_s(), time.process_time()
    for _ in range(max(1, math.ceil(min_samples / at_once))):
        outcomes.extend(burst(app_url, ehr, at_once))
    launches = len(outcomes)
    app_after = tree_cpu_s(app_pid)
    by_worker = [cpu_used_s({pid: app_before.get(pid, 0.0)}, {pid: t}) for pid, t in app_after.items() if pid != app_pid]
    completed = [o.wall_s for o in outcomes if o.error is None]
    return LevelFigures(
        at_once=at_once,
        launches=launches,
        p50_s=percentile(completed, 0.50),
        p95_s=percentile(completed, 0.95),
        slowest_s=max(completed, default=float("nan")),
        errors=dict(Counter(o.error for o in outcomes if o.error is not None)),
        app_cpu_s=cpu_used_s(app_before, app_after) / launches,
        ehr_cpu_s=(ehr.cpu_s() - ehr_before) / launches,
        browsers_cpu_s=(time.process_time() - browsers_before) / launches,
        busiest_worker_share=max(by_worker, default=0.0) / (sum(by_worker) or 1.0),
    )


# -- the processes ----------------------------------------------------------------------------------


def postgres_reachable(admin_url: str = POSTGRES_ADMIN_URL) -> bool:
    parts = sa.engine.make_url(admin_url)
    try:
        with socket.create_connection((parts.host or "127.0.0.1", parts.port or 5432), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def fresh_postgres(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A new PostgreSQL database, migrated to head, dropped on the way out."""
    name = f"spoc_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tenants_toml(ehr_url: str, app_url: str) -> str:
    return (
        "[[tenant]]\n"
        'name = "Benchmark EHR"\n'
        f'iss = "{ehr_url}/fhir"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'redirect_uri = "{app_url}/callback"\n'
        f'frame_ancestors = ["{ehr_url}"]\n'
        'write_mode = "careplan"\n'
    )


def serve_command(port: int, sizes: ServeSizes) -> list[str]:
    command = ["-m", "smart_app.cli", "serve", "--bind", f"127.0.0.1:{port}"]
    if sizes.workers is not None:
        command += ["--workers", str(sizes.workers)]
    if sizes.threads is not None:
        command += ["--threads", str(sizes.threads)]
    return [sys.executable, *command]


@contextmanager
def spoc_serve_running(port: int, env: Mapping[str, str], log: Path, sizes: ServeSizes) -> Iterator[int]:
    """`spoc serve` until the way out; yields gunicorn's master pid once /healthz answers."""
    app_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(serve_command(port, sizes), cwd=ROOT, env=dict(env), stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _healthy(app_url), timeout_s=START_TIMEOUT_S, what="spoc serve", alive=[process])
        yield process.pid
    finally:
        stop(process)


def _healthy(app_url: str) -> bool:
    try:
        return requests.get(f"{app_url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def serve_load_figures(
    *,
    latency_ms: int = LATENCY_MS,
    sizes: ServeSizes = ServeSizes(),
    admin_url: str = POSTGRES_ADMIN_URL,
    today: date | None = None,
) -> ServeFigures:
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    spec = ServerSpec(latency_ms=latency_ms, client_id=CLIENT_ID, redirect_uris=(f"{app_url}/callback",), today=today)
    with (tempfile.TemporaryDirectory(prefix="spoc-bench-serve-") as scratch, fresh_postgres(admin_url) as database,
          bench_ehr_running(spec) as ehr):
        tenants = Path(scratch) / "tenants.toml"
        tenants.write_text(tenants_toml(ehr.sandbox.url, app_url))
        env = {**os.environ, "SPOC_TENANTS_FILE": str(tenants), "SPOC_TOKEN_KEYS": Fernet.generate_key().decode(),
               "DATABASE_URL": database, "PYTHONUNBUFFERED": "1"}
        log = Path(scratch) / "spoc-serve.log"
        with spoc_serve_running(port, env, log, sizes) as master:
            wait_for(lambda: bool(children_of(master)), timeout_s=START_TIMEOUT_S, what="gunicorn workers")
            workers = len(children_of(master))
            burst(app_url, ehr, 2 * workers)  # warm-up: each worker's imports, templates, discovery
            levels = tuple(measure_level(app_url, master, ehr, n, sizes.min_samples) for n in sizes.levels)
            workers = len(children_of(master))
        errors = sum(1 for line in log.read_text(errors="replace").splitlines()
                     if " ERROR " in line or line.startswith("Traceback"))
    return ServeFigures(latency_ms, workers, sizes.threads, levels, errors)
