"""The benchmarks run end to end with tiny sizes and no latency, and compute their bound as documented.

No timing is asserted here: the figures are for reading, not pass/fail.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bench import report, sig
from bench.summary_load import LargePatientSizes, critical_path, made_current
from sandbox.data.large import build_large_patient

TODAY = date(2026, 3, 1)


def a_request(path: str, query: str = "", ms: float = 50.0) -> dict:
    return {"method": "GET", "path": path, "query": query, "status": 200, "ms": ms}


def test_the_bound_is_the_launch_requests_plus_the_longest_section_chain_times_the_median_request():
    log = [
        a_request("/fhir/.well-known/smart-configuration"),
        a_request("/fhir/metadata"),
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

    assert path.launch_requests == 2
    assert path.section_round_trips == {"conditions": 1, "encounters": 4, "medications": 2, "care_team": 3}
    assert path.slowest_section == "encounters"
    assert path.round_trips == 6
    assert path.bound_s == pytest.approx(6 * 0.050)
    assert path.ehr_chain_s == pytest.approx(0.100 + 0.170)


def test_figures_are_printed_to_three_significant_digits():
    assert [sig(1223.4), sig(0.051234), sig(2.2, 2), sig(350.2)] == ["1220", "0.0512", "2.2", "350"]


def test_the_all_current_large_record_has_every_order_active_and_every_encounter_in_the_last_24_months():
    record = made_current(build_large_patient(TODAY, medication_orders=30, encounters=30, conditions=3, other=3),
                          TODAY)

    orders = [r for r in record if r["resourceType"] == "MedicationRequest"]
    starts = [date.fromisoformat(r["period"]["start"][:10]) for r in record if r["resourceType"] == "Encounter"]
    assert len(orders) == 30 and {o["status"] for o in orders} == {"active"}
    assert len(starts) == 30 and all(TODAY - timedelta(days=730) < s <= TODAY for s in starts)


@pytest.mark.slow
def test_the_benchmark_report_has_every_row_with_tiny_sizes_and_no_latency():
    text = report(latency_ms=0, runs=1, sizes=LargePatientSizes(medication_orders=20, encounters=20,
                                                                   conditions=6, other=6))

    lines = text.splitlines()
    load_rows = [line for line in lines if line.startswith(("parallel ", "one at a time "))]
    assert {row.split()[0] for row in load_rows} == {"parallel", "one"}
    assert all(row.split()[-1] == "12" for row in load_rows), "every launch showed all twelve sections"
    assert any(line.startswith("2. Speed-up, one at a time / parallel") for line in lines)
    for label in ("wall time to whole summary, s", "FHIR requests", "resources fetched (all sections)",
                  "sections failed", "peak Python allocations (tracemalloc), MB",
                  "peak RSS growth (ru_maxrss - RSS before), MB"):
        assert any(line.startswith(label) for line in lines), label
    failed = next(line for line in lines if line.startswith("sections failed")).split()[2:]
    assert failed == ["0", "0"], "as built and all current, at zero latency"
    fetched = next(line for line in lines if line.startswith("resources fetched")).split()[-2:]
    assert all(int(count) > 0 for count in fetched)
