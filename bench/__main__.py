"""`python -m bench`: run the summary benchmarks and print the table (about a minute).

Layer: benchmarks (command line).
"""

from __future__ import annotations

import argparse
import time

from bench.tables import report
from bench.summary_load import LATENCY_MS, RUNS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Summary speed and memory figures.")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS, help="injected per FHIR request")
    parser.add_argument("--runs", type=int, default=RUNS, help="fresh launches per launch-to-summary figure")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    print(report(latency_ms=args.latency_ms, runs=args.runs))
    print(f"\n(benchmarks took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
