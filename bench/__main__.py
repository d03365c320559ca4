"""`python -m bench`: run the summary benchmarks and print the tables (a few minutes; `--quick` for less).

Layer: benchmarks (command line).
"""

from __future__ import annotations

import argparse
import time

from bench.app_cpu import CpuSizes
from bench.serve_load import LEVELS, ServeSizes
from bench.summary_load import LATENCY_MS, RUNS, LargePatientSizes
from bench.tables import SECTIONS, report

QUICK_RUNS = 2
QUICK_LARGE = LargePatientSizes(medication_orders=200, encounters=200, conditions=30, other=80)
QUICK_CPU = CpuSizes(launches=5, warm_up=1, profiled=1)
QUICK_LEVELS = (1, 10)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Summary speed, CPU and memory figures.")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS, help="injected per FHIR request")
    parser.add_argument("--runs", type=int, default=None, help=f"fresh launches per launch-to-summary figure ({RUNS})")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only this benchmark (repeatable): summary (1, 2), large (3), cpu (4), serve (5), "
                             "filing (6)")
    parser.add_argument("--quick", action="store_true",
                        help=f"fewer runs, a large patient a tenth the size, {QUICK_CPU.launches} CPU launches, "
                             f"launches at once {', '.join(map(str, QUICK_LEVELS))}")
    parser.add_argument("--cpu-launches", type=int, default=None, help=f"measured launches in 4 ({CpuSizes().launches})")
    parser.add_argument("--levels", type=lambda text: tuple(int(n) for n in text.split(",")), default=None,
                        help=f"launches at once in 5, comma-separated ({','.join(map(str, LEVELS))})")
    parser.add_argument("--workers", type=int, default=None, help="spoc serve --workers in 5 (its default)")
    parser.add_argument("--threads", type=int, default=None, help="spoc serve --threads in 5 (its default)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cpu = QUICK_CPU if args.quick else CpuSizes()
    if args.cpu_launches is not None:
        cpu = CpuSizes(launches=args.cpu_launches, warm_up=cpu.warm_up, profiled=cpu.profiled)
    levels = args.levels or (QUICK_LEVELS if args.quick else LEVELS)
    serve = ServeSizes(levels=levels, min_samples=2 if args.quick else ServeSizes().min_samples,
                       workers=args.workers, threads=args.threads)
    started = time.perf_counter()
    print(report(
        latency_ms=args.latency_ms,
        runs=args.runs or (QUICK_RUNS if args.quick else RUNS),
        sizes=QUICK_LARGE if args.quick else LargePatientSizes(),
        cpu=cpu,
        serve=serve,
        only=tuple(args.only or SECTIONS),
    ))
    print(f"\n(benchmarks took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
