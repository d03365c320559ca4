"""Benchmark: the whole summary of a patient with a very large record, time and peak memory.

Layer: benchmarks (not shipped). The large patient of sandbox.data.large (>= 5,000 resources) is
loaded into the sandbox EHR next to the bundled characters; the app is launched on it and the
summary stream read to the end: sections fetched, mapped (`summarize_section`, what `summarize`
does per section) and rendered. The sandbox runs in a child process, so the memory figures are the
app's alone.

Two launches per latency: one untimed by tracemalloc (wall time, requests, RSS), one under tracemalloc
(its peak of Python allocations; tracing slows the run, so its time is not reported).
"""

from __future__ import annotations

import resource
import sys
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.summary_load import (
    CHILD_ID,
    LARGE_PATIENT_ID,
    LATENCY_MS,
    SITE_CONCURRENCY,
    BenchSandbox,
    LargePatientSizes,
    LaunchRun,
    SandboxSpec,
    critical_path,
    fresh_app,
    launch_to_summary,
    sandbox_running,
)

MB = 1024 * 1024
STATM = Path("/proc/self/statm")


@dataclass(frozen=True, slots=True)
class LargeFigures:
    latency_ms: int
    wall_s: float
    requests: int
    resources_in_record: int
    resources_fetched: int
    fetched: Mapping[str, int]  # per section
    failed: tuple[str, ...]
    ehr_chain_s: float  # the sandbox's own time on the launch requests and the slowest search's pages
    tracemalloc_peak_mb: float  # Python allocations only, peak during the traced launch
    rss_growth_mb: float  # peak resident set (ru_maxrss) minus the resident set before the launch


def current_rss_bytes() -> int | None:
    """The resident set now (Linux); None elsewhere."""
    try:
        pages = int(STATM.read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


def peak_rss_bytes() -> int:
    """ru_maxrss of this process: kilobytes on Linux, bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def with_rss_growth(launch: Callable[[], LaunchRun]) -> tuple[LaunchRun, float]:
    """Run `launch`; return it with the growth of the peak resident set above the set at the start."""
    before = current_rss_bytes()
    if before is None:
        before = peak_rss_bytes()
    run = launch()
    return run, max(0, peak_rss_bytes() - before) / MB


def with_tracemalloc_peak(launch: Callable[[], LaunchRun]) -> tuple[LaunchRun, float]:
    tracemalloc.start()
    try:
        run = launch()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return run, peak / MB


def measure_large_patient(sandbox: BenchSandbox, *, concurrency: int = SITE_CONCURRENCY) -> LargeFigures:
    def launch() -> LaunchRun:
        with fresh_app(sandbox, concurrency=concurrency) as app:
            return launch_to_summary(app, sandbox, LARGE_PATIENT_ID)

    run, rss_growth_mb = with_rss_growth(launch)
    _, tracemalloc_peak_mb = with_tracemalloc_peak(launch)
    return LargeFigures(
        latency_ms=sandbox.spec.latency_ms,
        wall_s=run.wall_s,
        requests=len(run.log),
        resources_in_record=sum(sandbox.large_record.values()),
        resources_fetched=run.resources_fetched,
        fetched=run.fetched,
        failed=run.failed,
        ehr_chain_s=critical_path(run.log, LARGE_PATIENT_ID, sandbox.spec.today).ehr_chain_s,
        tracemalloc_peak_mb=tracemalloc_peak_mb,
        rss_growth_mb=rss_growth_mb,
    )


def large_patient_figures(
    *,
    latencies_ms: tuple[int, ...] = (0, LATENCY_MS),
    sizes: LargePatientSizes = LargePatientSizes(),
    today: date | None = None,
) -> tuple[tuple[LargeFigures, ...], Mapping[str, int]]:
    """Figures per latency, and the large patient's record by resource type."""
    figures = []
    record: Mapping[str, int] = {}
    for latency_ms in latencies_ms:
        spec = SandboxSpec(latency_ms=latency_ms, today=today or date.today(), large_patient=sizes)
        with sandbox_running(spec) as sandbox:
            record = sandbox.large_record
            with fresh_app(sandbox, concurrency=SITE_CONCURRENCY) as app:  # warm-up: imports, templates
                launch_to_summary(app, sandbox, CHILD_ID)  # a small record: leaves the RSS high-water mark low
            figures.append(measure_large_patient(sandbox))
    return tuple(figures), record
