"""The benchmark profiler sees every thread a launch starts, and counts CPU time, not waiting.

Layer: benchmarks (pure, in-process).
"""

from __future__ import annotations

import threading
import time

from bench.profiling import ThreadProfiles, top_rows, total_own_s, where


def computing() -> int:
    return sum(i * i for i in range(30_000))


def waiting() -> None:
    time.sleep(0.3)


def test_a_thread_started_while_profiling_is_profiled_by_its_own_cpu_time():
    profile = ThreadProfiles()
    profile.enable()
    worker = threading.Thread(target=lambda: (computing(), waiting()))
    worker.start()
    worker.join()
    profile.disable()

    rows = {row.function.rsplit("(", 1)[-1].rstrip(")"): row for row in
            top_rows(profile.stats(), by="cumulative", count=10_000)}

    assert rows["computing"].calls == 1 and rows["computing"].cumulative_s > 0.001
    assert rows["waiting"].cumulative_s < 0.05, "the 0.3 s asleep is not CPU time"


def test_profiling_stops_with_disable_and_leaves_no_profiler_behind():
    profile = ThreadProfiles()
    profile.enable()
    computing()
    profile.disable()
    seen = total_own_s(profile.stats())
    later = threading.Thread(target=computing)
    later.start()
    later.join()

    assert seen > 0
    assert total_own_s(profile.stats()) == seen
    assert threading.getprofile() is None


def test_places_are_short():
    assert where("/x/.venv/lib/python3.11/site-packages/requests/sessions.py", 557, "request") == \
        "requests/sessions.py:557(request)"
    assert where("/usr/lib/python3.11/concurrent/futures/thread.py", 53, "run") == "concurrent/futures/thread.py:53(run)"
    assert where("~", 0, "<built-in method builtins.isinstance>") == "<built-in method builtins.isinstance>"
