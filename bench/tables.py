"""The benchmarks' printed tables: `report()` runs the benchmarks and returns the text.

Layer: benchmarks (not shipped, not pass/fail). bench/README.md says what each figure means and how
the critical-path bound is computed.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy.engine import make_url

from bench.app_cpu import TARGET_CPU_S, CpuFigures, CpuSizes, app_cpu_figures, per_launch
from bench.large_patient import LargeFigures, large_patient_figures
from bench.profiling import ProfileRow
from bench.serve_load import (
    POSTGRES_ADMIN_URL,
    TARGET_LEVEL,
    TARGET_P95_S,
    ServeFigures,
    ServeSizes,
    postgres_reachable,
    serve_load_figures,
)
from bench.summary_load import (
    CHILD_ID,
    LATENCY_MS,
    LONE_READS,
    RUNS,
    SITE_CONCURRENCY,
    TARGET_RATIO,
    LargePatientSizes,
    LoadFigures,
    summary_load_figures,
)

TARGET_SPEED_UP = 4.0
TARGET_LARGE_S = 1.5  # at 0 ms per request
TARGET_LARGE_MB = 150.0


def sig(value: float, digits: int = 3) -> str:
    """`value` to `digits` significant digits, without exponent: 1223 -> '1220', 0.05123 -> '0.0512'."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{round(value, decimals):.{max(0, decimals)}f}"


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def environment() -> str:
    return (f"Python {platform.python_version()} ({platform.python_implementation()}), "
            f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}")


# -- 1 and 2: launch-to-summary, parallel and one at a time -------------------------------------------


def load_table(figures: Sequence[LoadFigures]) -> str:
    header = ["mode", "concurrency", "wall ms", "FHIR requests", "round trips", "request ms", "bound ms",
              "wall/bound", "sections"]
    rows = [
        [f.label, str(f.concurrency), sig(f.wall_s * 1000), str(f.requests),
         f"{f.path.launch_requests} + {f.path.round_trips - f.path.launch_requests}",
         sig(f.request_s * 1000), sig(f.bound_s * 1000), sig(f.ratio, 2), str(f.sections_shown)]
        for f in figures
    ]
    return render_table(header, rows)


def longest_chain(figures: LoadFigures) -> str:
    trips = figures.path.section_round_trips
    longest = max(trips.values(), default=0)
    if longest <= 1:
        return "every section needed a single request"
    return ", ".join(f"{key} {count}" for key, count in trips.items() if count == longest)


def speed_up(figures: Sequence[LoadFigures]) -> float:
    parallel = next(f for f in figures if f.label == "parallel" and f.concurrency == SITE_CONCURRENCY)
    baseline = next(f for f in figures if f.label == "one at a time")
    return baseline.wall_s / parallel.wall_s


def load_section(figures: Sequence[LoadFigures], *, latency_ms: int, runs: int) -> str:
    parallel = next(f for f in figures if f.label == "parallel" and f.concurrency == SITE_CONCURRENCY)
    return "\n".join([
        f"1. Launch-to-summary: patient {CHILD_ID}, {latency_ms} ms injected per FHIR request, "
        f"median of {runs} fresh launches",
        load_table(figures),
        "round trips = launch requests (discovery) + longest section chain "
        f"(CapabilityStatement before the searches it chooses + pages + read rounds): {longest_chain(parallel)}",
        f"bound = round trips x request ms, the EHR's median time on a request sent alone "
        f"({LONE_READS} sequential `metadata` reads before the launches).  Target wall/bound <= {TARGET_RATIO}: "
        f"{'met' if parallel.ratio <= TARGET_RATIO else 'NOT met'} at concurrency {SITE_CONCURRENCY} "
        f"({sig(parallel.ratio, 2)})",
        "",
        f"2. Speed-up, one at a time / parallel at concurrency {SITE_CONCURRENCY}: {sig(speed_up(figures), 2)}x  "
        f"(target >= {sig(TARGET_SPEED_UP, 2)}x: {'met' if speed_up(figures) >= TARGET_SPEED_UP else 'NOT met'})",
    ])


# -- 3: the large patient ---------------------------------------------------------------------------


def large_table(figures: Sequence[LargeFigures]) -> str:
    header = ["", *(f"{f.latency_ms} ms per request" for f in figures)]

    def row(label: str, cell) -> list[str]:
        return [label, *(cell(f) for f in figures)]

    return render_table(header, [
        row("wall time to whole summary, s", lambda f: sig(f.wall_s)),
        row("FHIR requests", lambda f: str(f.requests)),
        row("resources fetched (all sections)", lambda f: str(f.resources_fetched)),
        row("  medications section", lambda f: str(f.fetched.get("medications", 0))),
        row("  encounters section", lambda f: str(f.fetched.get("encounters", 0))),
        row("  conditions section", lambda f: str(f.fetched.get("conditions", 0))),
        row("sections failed", lambda f: str(len(f.failed))),
        row("EHR's own time on slowest search, s", lambda f: sig(f.ehr_chain_s)),
        row("the rest (wall - EHR's on slowest), s", lambda f: sig(f.wall_s - f.ehr_chain_s)),
        row("peak Python allocations (tracemalloc), MB", lambda f: sig(f.tracemalloc_peak_mb)),
        row("peak RSS growth (ru_maxrss - RSS before), MB", lambda f: sig(f.rss_growth_mb)),
    ])


def large_section(figures: Sequence[LargeFigures], record: Mapping[str, int]) -> str:
    by_type = ", ".join(f"{kind} {count}" for kind, count in sorted(record.items(), key=lambda kv: -kv[1]))
    worst_s = max(f.wall_s for f in figures if f.latency_ms == 0) if any(f.latency_ms == 0 for f in figures) \
        else max(f.wall_s for f in figures)
    worst_mb = max(max(f.tracemalloc_peak_mb, f.rss_growth_mb) for f in figures)
    return "\n".join([
        f"3. Large patient: {sum(record.values())} resources in the record ({by_type});",
        "   every medication order is active and every encounter in the 24-month window, so both are fetched",
        large_table(figures),
        f"Target < {sig(TARGET_LARGE_S, 2)} s at 0 ms and < {sig(TARGET_LARGE_MB, 2)} MB: "
        f"{'met' if worst_s < TARGET_LARGE_S and worst_mb < TARGET_LARGE_MB else 'NOT met'} "
        f"({sig(worst_s)} s, largest {sig(worst_mb)} MB)",
    ])


# -- 4: the app's CPU per launch, and its profile ----------------------------------------------------


def cpu_table(figures: CpuFigures) -> str:
    return render_table(["", "per launch"], [
        ["app CPU time, ms (median)", sig(figures.cpu_s * 1000)],
        ["  fastest, slowest launch, ms", f"{sig(figures.fastest_cpu_s * 1000)}, {sig(figures.slowest_cpu_s * 1000)}"],
        ["wall time, ms (median)", sig(figures.wall_s * 1000)],
        ["FHIR requests (median)", str(figures.requests)],
        ["sections shown (fewest)", str(figures.sections_shown)],
        ["sections failed (all launches)", str(figures.sections_failed)],
        ["benchmark EHR's CPU time, ms", sig(figures.ehr_cpu_s * 1000)],
        ["requests the EHR had not recorded", str(figures.ehr_misses)],
    ])


def profile_table(rows: Sequence[ProfileRow], launches: int) -> str:
    return render_table(["function", "calls", "own ms", "cumulative ms"], [
        [r.function, str(r.calls), sig(r.own_s * 1000), sig(r.cumulative_s * 1000)] for r in per_launch(rows, launches)
    ])


def cpu_section(figures: CpuFigures, sizes: CpuSizes) -> str:
    met = figures.cpu_s <= TARGET_CPU_S
    return "\n".join([
        f"4. App CPU per launch: patient {CHILD_ID}, /launch to the last line of the sections stream; the app in this "
        f"process, the benchmark EHR in another ({figures.latency_ms} ms per FHIR request, recorded sandbox answers);",
        f"   one app for every launch (as one `spoc serve` worker), {sizes.warm_up} warm-up launches, "
        f"median of {figures.launches}",
        cpu_table(figures),
        f"Target <= {sig(TARGET_CPU_S * 1000, 2)} ms of app CPU per launch: {'met' if met else 'NOT met'} "
        f"({sig(figures.cpu_s * 1000)} ms)",
        "",
        f"Profile of {figures.profiled} more launch(es), every thread, per launch (cProfile timed by each thread's "
        f"CPU clock). It saw {sig(figures.profiled_cpu_s * 1000)} ms of CPU per launch against "
        f"{sig(figures.cpu_s * 1000)} unprofiled:",
        "profiling slows Python code down several times, so read the shares, not the ms. Top 15 by cumulative time:",
        profile_table(figures.by_cumulative, figures.profiled),
        "",
        "Top 15 by own time:",
        profile_table(figures.by_own, figures.profiled),
    ])


# -- 5: many clinicians at once on `spoc serve` -------------------------------------------------------


def serve_table(figures: ServeFigures) -> str:
    header = ["launches at once", "launches", "p50 s", "p95 s", "slowest s", "errors", "app CPU ms/launch",
              "EHR CPU ms/launch", "browsers CPU ms/launch", "busiest worker's CPU share"]
    return render_table(header, [
        [str(f.at_once), str(f.launches), sig(f.p50_s), sig(f.p95_s), sig(f.slowest_s), str(f.error_count),
         sig(f.app_cpu_s * 1000), sig(f.ehr_cpu_s * 1000), sig(f.browsers_cpu_s * 1000),
         f"{f.busiest_worker_share:.0%}"]
        for f in figures.levels
    ])


def serve_section(figures: ServeFigures) -> str:
    threads = f"{figures.threads} threads each" if figures.threads else "its default threads"
    lines = [
        f"5. Many clinicians at once: `spoc serve` ({figures.workers} workers, {threads}) on a fresh PostgreSQL "
        f"database; the benchmark EHR at {figures.latency_ms} ms per FHIR request;",
        "   each launch over HTTP: /launch -> authorize -> callback -> summary shell -> sections stream to its last line",
        serve_table(figures),
    ]
    target = next((f for f in figures.levels if f.at_once == TARGET_LEVEL), None)
    if target is not None:
        met = target.p95_s <= TARGET_P95_S and target.error_count == 0
        lines.append(f"Target at {TARGET_LEVEL} at once: p95 <= {sig(TARGET_P95_S, 2)} s and no error: "
                     f"{'met' if met else 'NOT met'} (p95 {sig(target.p95_s)} s, {target.error_count} errors)")
    for level in figures.levels:
        for error, count in sorted(level.errors.items()):
            lines.append(f"   at {level.at_once} at once, {count} x {error}")
    lines.append(f"app log lines with ERROR or a traceback: {figures.app_log_errors}")
    return "\n".join(lines)


def serve_skipped(admin_url: str) -> str:
    where = make_url(admin_url)
    return (f"5. Many clinicians at once: skipped, PostgreSQL is not reachable at {where.host}:{where.port or 5432} "
            "(SPOC_TEST_POSTGRES_URL names another)")


# -- all of them ------------------------------------------------------------------------------------


SECTIONS = ("summary", "large", "cpu", "serve", "filing")


def report(
    *,
    latency_ms: int = LATENCY_MS,
    runs: int = RUNS,
    sizes: LargePatientSizes = LargePatientSizes(),
    cpu: CpuSizes = CpuSizes(),
    serve: ServeSizes = ServeSizes(),
    only: Sequence[str] = SECTIONS,
    admin_url: str = POSTGRES_ADMIN_URL,
    today: date | None = None,
) -> str:
    """Run the benchmarks named in `only` (all by default) and return the printed report."""
    unknown = set(only) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown benchmark sections: {sorted(unknown)}")
    parts = [f"Shared Plan of Care summary benchmarks -- {environment()}"]
    if "summary" in only:
        load = summary_load_figures(latency_ms=latency_ms, runs=runs, today=today)
        parts.append(load_section(load, latency_ms=latency_ms, runs=runs))
    if "large" in only:
        latencies = tuple(sorted({0, latency_ms}))
        large, record = large_patient_figures(latencies_ms=latencies, sizes=sizes, today=today)
        parts.append(large_section(large, record))
    if "cpu" in only:
        parts.append(cpu_section(app_cpu_figures(latency_ms=latency_ms, sizes=cpu, today=today), cpu))
    if "serve" in only:
        if postgres_reachable(admin_url):
            parts.append(serve_section(serve_load_figures(latency_ms=latency_ms, sizes=serve, admin_url=admin_url,
                                                          today=today)))
        else:
            parts.append(serve_skipped(admin_url))
    if "filing" in only:
        from bench.filing import filing_figures, filing_table  # it builds on this module's tables

        parts.append(filing_table(filing_figures(latency_ms), latency_ms))
    return "\n\n".join(parts)
