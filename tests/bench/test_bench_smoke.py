"""The benchmarks run end to end with tiny sizes and no latency, and compute their bound as documented.

No timing is asserted here: the figures are for reading, not pass/fail.
"""

from __future__ import annotations

import math
import statistics
from datetime import date
from http.client import RemoteDisconnected

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from bench.app_cpu import CpuSizes, app_cpu_figures
from bench.serve_load import ServeSizes, failure_name, percentile, serve_load_figures
from bench.summary_load import BenchSandbox, LargePatientSizes, SandboxSpec, critical_path, lone_request_s
from bench.tables import cpu_section, report, serve_section, sig

TODAY = date(2026, 3, 1)


def a_request(path: str, query: str = "", ms: float = 50.0, started_ms: float | None = None) -> dict:
    request = {"method": "GET", "path": path, "query": query, "status": 200, "ms": ms}
    return request if started_ms is None else {**request, "started_ms": started_ms}


def test_the_bound_is_the_launch_requests_plus_the_longest_section_chain_times_a_lone_request():
    log = [
        a_request("/fhir/.well-known/smart-configuration"),
        a_request("/fhir/metadata"),
        a_request("/fhir/Device", "patient=p"),
        a_request("/fhir/DeviceRequest", "patient=p"),
        a_request("/fhir/Condition", "patient=p&category=a"),
        a_request("/fhir/Condition", "patient=p&category=b"),
        a_request("/fhir/Encounter", "patient=p&date=ge2024-03-01"),
        a_request("/fhir/Encounter", "patient=p&date=ge2024-03-01&_cursor=c1"),
        a_request("/fhir/Encounter", "patient=p&date=ge2024-03-01&_cursor=c2", ms=70.0),
        a_request("/fhir/MedicationRequest", "patient=p&status=active"),
        a_request("/fhir/Medication/m1"),
        a_request("/fhir/CareTeam", "patient=p&status=active"),
        a_request("/fhir/PractitionerRole/r1"),
        a_request("/fhir/Practitioner/d1"),
    ]

    path = critical_path(log, "p", TODAY)

    assert path.launch_requests == 1
    assert path.section_round_trips == {"equipment": 2, "conditions": 1, "encounters": 4, "medications": 2,
                                        "care_team": 3}
    assert path.slowest_section == "encounters"
    assert path.round_trips == 5
    assert path.bound_s(0.0515) == pytest.approx(5 * 0.0515)
    assert path.ehr_chain_s == pytest.approx(0.050 + 0.170)


def test_the_capability_statement_adds_a_round_only_before_the_searches_it_chooses():
    log = [
        a_request("/fhir/.well-known/smart-configuration"),
        a_request("/fhir/metadata"),
        a_request("/fhir/MedicationRequest", "patient=p&status=active"),
        a_request("/fhir/MedicationStatement", "patient=p&status=active"),
        a_request("/fhir/Goal", "patient=p"),
    ]

    path = critical_path(log, "p", TODAY)

    assert path.section_round_trips == {"medications": 2, "goals": 1}
    assert path.round_trips == 3


def test_a_capability_statement_read_alongside_the_launch_requests_adds_no_round():
    def log(statement_started_ms: float) -> list[dict]:
        return [
            a_request("/fhir/.well-known/smart-configuration", started_ms=1000.0),
            a_request("/fhir/metadata", started_ms=statement_started_ms),
            a_request("/fhir/MedicationStatement", "patient=p&status=active", started_ms=1120.0),
        ]

    assert critical_path(log(1010.0), "p", TODAY).round_trips == 2  # sent while discovery was under way
    assert critical_path(log(1055.0), "p", TODAY).round_trips == 3  # after it: one round of its own


def test_a_round_trip_is_priced_at_the_ehrs_time_on_a_request_sent_alone(sandbox_config, sandbox):
    sandbox_config.latency_ms = 30
    handle = BenchSandbox(sandbox.url, SandboxSpec(latency_ms=30, today=TODAY), {})
    for _ in range(3):  # earlier requests in the log are not lone reads of metadata
        requests.get(f"{sandbox.iss}/Patient/someone", timeout=5)

    request_s = lone_request_s(handle, reads=10)

    log = handle.request_log()
    assert [entry["path"] for entry in log] == ["/fhir/metadata"] * 10
    assert request_s == pytest.approx(statistics.median(entry["ms"] for entry in log) / 1000)
    assert request_s >= 0.030


def test_p50_and_p95_are_nearest_ranks():
    values = [float(n) for n in range(1, 21)]

    assert (percentile(values, 0.50), percentile(values, 0.95)) == (10.0, 19.0)
    assert percentile([3.0], 0.95) == 3.0
    assert math.isnan(percentile([], 0.5))


def test_a_failed_launch_names_the_innermost_cause_of_a_connection_error():
    dropped = requests.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("closed")))
    refused = requests.ConnectionError(MaxRetryError(None, "/launch", NewConnectionError(None, "refused")))

    assert failure_name(dropped) == "ConnectionError (RemoteDisconnected)"
    assert failure_name(refused) == "ConnectionError (NewConnectionError)"
    assert failure_name(requests.ReadTimeout("slow")) == "ReadTimeout"


def test_figures_are_printed_to_three_significant_digits():
    assert [sig(1223.4), sig(0.051234), sig(2.2, 2), sig(350.2)] == ["1220", "0.0512", "2.2", "350"]


@pytest.mark.slow
def test_the_benchmark_report_has_every_row_with_tiny_sizes_and_no_latency():
    text = report(latency_ms=0, runs=1, sizes=LargePatientSizes(medication_orders=20, encounters=20,
                                                                   conditions=6, other=6), only=("summary", "large"))

    lines = text.splitlines()
    load_rows = [line for line in lines if line.startswith(("parallel ", "one at a time "))]
    assert {row.split()[0] for row in load_rows} == {"parallel", "one"}
    assert all(row.split()[-1] == "12" for row in load_rows), "every launch showed all twelve sections"
    assert any(line.startswith("2. Speed-up, one at a time / parallel") for line in lines)
    for label in ("wall time to whole summary, s", "FHIR requests", "resources fetched (all sections)",
                  "sections failed", "peak Python allocations (tracemalloc), MB",
                  "peak RSS growth (ru_maxrss - RSS before), MB"):
        assert any(line.startswith(label) for line in lines), label
    failed = next(line for line in lines if line.startswith("sections failed")).removeprefix("sections failed").split()
    assert failed and set(failed) == {"0"}, "no section failed at any latency"
    fetched = next(line for line in lines if line.startswith("resources fetched (all sections)")).removeprefix(
        "resources fetched (all sections)").split()
    assert fetched and all(int(count) > 0 for count in fetched)


def finite_and_positive(*values: float) -> bool:
    return all(math.isfinite(v) and v > 0 for v in values)


@pytest.mark.slow
def test_the_app_cpu_benchmark_measures_whole_launches_against_the_benchmark_ehr_and_profiles_one():
    sizes = CpuSizes(launches=2, warm_up=1, profiled=1)

    figures = app_cpu_figures(latency_ms=0, sizes=sizes)

    assert figures.launches == 2
    assert finite_and_positive(figures.cpu_s, figures.fastest_cpu_s, figures.slowest_cpu_s, figures.wall_s)
    assert figures.fastest_cpu_s <= figures.cpu_s <= figures.slowest_cpu_s
    assert (figures.sections_shown, figures.sections_failed, figures.ehr_misses) == (12, 0, 0)
    assert figures.requests > 0 and figures.ehr_cpu_s >= 0
    assert len(figures.by_cumulative) == len(figures.by_own) == 15
    assert all(finite_and_positive(row.calls, row.cumulative_s) for row in figures.by_cumulative)
    assert all(finite_and_positive(row.calls, row.own_s) for row in figures.by_own)
    assert any(row.function.startswith("smart_app/") for row in figures.by_cumulative), "the app's code is profiled"
    text = cpu_section(figures, sizes)
    for label in ("app CPU time, ms (median)", "wall time, ms (median)", "FHIR requests (median)",
                  "benchmark EHR's CPU time, ms", "requests the EHR had not recorded", "Top 15 by own time:"):
        assert any(line.startswith(label) for line in text.splitlines()), label


@pytest.mark.slow
@pytest.mark.postgres
def test_the_serve_benchmark_launches_clinicians_at_once_on_spoc_serve_with_postgresql(postgres_database):
    figures = serve_load_figures(latency_ms=0, sizes=ServeSizes(levels=(1, 2), min_samples=1),
                                 admin_url=postgres_database)

    assert [(level.at_once, level.launches) for level in figures.levels] == [(1, 1), (2, 2)]
    assert figures.workers >= 1 and figures.app_log_errors == 0
    for level in figures.levels:
        assert level.errors == {}, level.errors
        assert finite_and_positive(level.p50_s, level.p95_s, level.slowest_s, level.app_cpu_s, level.browsers_cpu_s)
        assert level.p50_s <= level.p95_s <= level.slowest_s
        assert level.ehr_cpu_s >= 0
        assert 1 / figures.workers <= level.busiest_worker_share <= 1
    rows = [line.split() for line in serve_section(figures).splitlines() if line.split()[0].isdigit()]
    assert [row[:2] for row in rows] == [["1", "1"], ["2", "2"]]


def test_the_plan_edits_benchmark_runs_and_lands_every_edit_without_a_conflict_page():
    from bench.plan_edits import EditSizes, edit_table, plan_edit_figures

    figures = plan_edit_figures(EditSizes(people=3, edits_each=2))
    assert (figures.edits, figures.landed, figures.conflict_pages) == (6, 6, 0)
    assert figures.rounds_per_edit >= 1.0
    assert "edits landed / sent" in edit_table(figures) and "6 / 6" in edit_table(figures)


def test_the_filing_benchmark_files_the_plan_with_every_strategy():
    from bench.filing import STRATEGIES, filing_figures, filing_table

    figures = filing_figures(latency_ms=0)
    assert [f.strategy for f in figures] == [s.name for s in STRATEGIES]
    assert all(f.outcome == "filed" for f in figures)
    writes = {f.strategy: f.writes for f in figures}
    assert writes == {"one transaction": 1, "transactions of at most 8, known": 4,
                      "transactions of at most 8, learned": 5, "one write at a time": 25}
    assert "wall time, s" in filing_table(figures, 0)
