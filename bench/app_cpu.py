"""Benchmark: the app's own CPU time per launch, and where it goes (issue 17, "Many clinicians at once").

Layer: benchmarks (not shipped). The app runs in this process, driven through its Flask test client as
in summary_load, against the benchmark EHR (bench/ehr_server.py) in another process: so this
process's CPU time (`time.process_time()`, every thread) is the app's, and the EHR's is not in it.
One app serves every launch, as one `spoc serve` worker serves many clinicians: discovery, the
CapabilityStatement and compiled templates carry over from the warm-up launches.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bench.ehr_server import ServerSpec
from bench.processes import bench_ehr_running
from bench.profiling import ProfileRow, ThreadProfiles, fresh_launch_pools, top_rows, total_own_s
from bench.summary_load import (
    APP_ORIGIN,
    CHILD_ID,
    CLIENT_ID,
    LATENCY_MS,
    SITE_CONCURRENCY,
    LaunchRun,
    fresh_app,
    launch_to_summary,
)
from smart_app.cli import settle_heap
from smart_app.plan.record import SECTION_KEYS

TARGET_CPU_S = 0.050


@dataclass(frozen=True, slots=True)
class CpuSizes:
    launches: int = 20  # measured, after the warm-up
    warm_up: int = 3
    profiled: int = 3  # further launches, under the profiler


@dataclass(frozen=True, slots=True)
class CpuFigures:
    latency_ms: int
    launches: int
    cpu_s: float  # median app CPU time per launch
    fastest_cpu_s: float
    slowest_cpu_s: float
    wall_s: float  # median
    requests: int  # median FHIR requests per launch
    sections_shown: int  # fewest sections any launch showed
    sections_failed: int  # over all launches
    ehr_cpu_s: float  # the benchmark EHR's CPU time per measured launch
    ehr_misses: int  # requests the EHR had not recorded (answered by its sandbox, at a cost)
    profiled: int
    profiled_cpu_s: float  # the CPU time the profiler saw, per profiled launch (profiling slows the code)
    by_cumulative: tuple[ProfileRow, ...]
    by_own: tuple[ProfileRow, ...]


def app_cpu_figures(
    *, latency_ms: int = LATENCY_MS, sizes: CpuSizes = CpuSizes(), today: date | None = None
) -> CpuFigures:
    spec = ServerSpec(latency_ms=latency_ms, client_id=CLIENT_ID, redirect_uris=(f"{APP_ORIGIN}/callback",),
                      today=today)
    with bench_ehr_running(spec) as ehr, fresh_app(ehr.sandbox, concurrency=SITE_CONCURRENCY) as app:
        settle_heap()  # as `spoc serve` does once its app is made, before its workers start
        for _ in range(sizes.warm_up):
            launch_to_summary(app, ehr.sandbox, CHILD_ID)
        ehr_cpu_before = ehr.cpu_s()
        runs = [launch_to_summary(app, ehr.sandbox, CHILD_ID) for _ in range(sizes.launches)]
        ehr_cpu_s = (ehr.cpu_s() - ehr_cpu_before) / len(runs)
        profile = ThreadProfiles()
        with fresh_launch_pools():
            for _ in range(sizes.profiled):
                launch_to_summary(app, ehr.sandbox, CHILD_ID, profile=profile)
        stats = profile.stats()
        misses = ehr.stats()["misses"]
    return CpuFigures(
        latency_ms=latency_ms,
        launches=len(runs),
        cpu_s=statistics.median(r.cpu_s for r in runs),
        fastest_cpu_s=min(r.cpu_s for r in runs),
        slowest_cpu_s=max(r.cpu_s for r in runs),
        wall_s=statistics.median(r.wall_s for r in runs),
        requests=round(statistics.median(len(r.log) for r in runs)),
        sections_shown=min(_shown(r) for r in runs),
        sections_failed=sum(len(r.failed) for r in runs),
        ehr_cpu_s=ehr_cpu_s,
        ehr_misses=misses,
        profiled=sizes.profiled,
        profiled_cpu_s=total_own_s(stats) / sizes.profiled,
        by_cumulative=tuple(top_rows(stats, by="cumulative")),
        by_own=tuple(top_rows(stats, by="own")),
    )


def _shown(run: LaunchRun) -> int:
    return sum(1 for key in run.section_lines if key in SECTION_KEYS)


def per_launch(rows: Sequence[ProfileRow], launches: int) -> list[ProfileRow]:
    """The rows with calls and times divided by the number of profiled launches."""
    return [ProfileRow(round(r.calls / launches), r.own_s / launches, r.cumulative_s / launches, r.function)
            for r in rows]
