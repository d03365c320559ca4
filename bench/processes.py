"""Processes the benchmarks start (the benchmark EHR, `spoc serve`) and the CPU time they use.

Layer: benchmarks (not shipped). CPU time comes from /proc/<pid>/stat (Linux): user + system time of
a process, in clock ticks (usually 10 ms), so it is only read around many launches.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import requests

from bench.ehr_server import READY, ServerSpec
from bench.summary_load import HTTP_TIMEOUT_S, BenchSandbox, SandboxSpec
from smart_app.clock import Clock

ROOT = Path(__file__).resolve().parent.parent
PROC = Path("/proc")
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# -- CPU time of other processes --------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (name) ": field 3 (state) onwards


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU time of one live process (not of its children); None when it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (gunicorn's workers, for its master)."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def tree_cpu_s(pid: int) -> dict[int, float]:
    """CPU time of a process and of each of its children, by pid."""
    times = {p: process_cpu_s(p) for p in (pid, *children_of(pid))}
    return {p: t for p, t in times.items() if t is not None}


def cpu_used_s(before: Mapping[int, float], after: Mapping[int, float]) -> float:
    """CPU time used between two `tree_cpu_s` readings; a process born in between counts whole.

    A process that ended in between is lost (gunicorn restarts no worker unless one crashes)."""
    return sum(t - before.get(p, 0.0) for p, t in after.items())


# -- the benchmark EHR, in its own process ----------------------------------------------------------


def ehr_command(spec: ServerSpec) -> list[str]:
    command = [sys.executable, "-m", "bench.ehr_server", "--host", spec.host, "--port", str(spec.port),
               "--latency-ms", str(spec.latency_ms), "--client-id", spec.client_id]
    command += [arg for uri in spec.redirect_uris for arg in ("--redirect-uri", uri)]
    command += [arg for patient in spec.patients for arg in ("--patient", patient)]
    if spec.today is not None:
        command += ["--today", spec.today.isoformat()]
    return command


@dataclass(frozen=True, slots=True)
class EhrProcess:
    """The running benchmark EHR: the sandbox-compatible handle the launch code drives, and its pid."""

    sandbox: BenchSandbox
    pid: int

    def cpu_s(self) -> float:
        return process_cpu_s(self.pid) or 0.0

    def stats(self) -> dict:
        """Answers recorded, requests not recorded (asked of the sandbox when they came), requests served."""
        response = requests.get(f"{self.sandbox.url}/_bench/stats", timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
        return response.json()


@contextmanager
def bench_ehr_running(spec: ServerSpec) -> Iterator[EhrProcess]:
    """`python -m bench.ehr_server` in a child process, stopped on the way out."""
    spec = replace(spec, today=spec.today or Clock().today())
    process = subprocess.Popen(ehr_command(spec), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = _ready_url(process)
        sandbox = BenchSandbox(url, SandboxSpec(latency_ms=spec.latency_ms, today=spec.today), {})
        yield EhrProcess(sandbox, process.pid)
    finally:
        stop(process)


def _ready_url(process: subprocess.Popen) -> str:
    """The URL from the child's first line, once it has recorded its answers."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(START_TIMEOUT_S):
            raise RuntimeError(f"the benchmark EHR did not start in {START_TIMEOUT_S} s")
    line = process.stdout.readline()
    if not line.startswith(READY):
        raise RuntimeError(f"the benchmark EHR did not start (exit code {process.poll()})")
    return line.removeprefix(READY).split()[0]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    if process.stdout is not None:
        process.stdout.close()


def wait_for(check, *, timeout_s: float, what: str, alive: Iterable[subprocess.Popen] = ()) -> None:
    """Poll `check()` until it is true; fail early when one of `alive` has exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in alive:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: the process exited with code {process.returncode}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready in {timeout_s:.0f} s")
