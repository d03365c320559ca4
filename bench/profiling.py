"""cProfile over every thread of a launch, timed by each thread's own CPU clock.

Layer: benchmarks (not shipped). cProfile sees only the thread that enabled it, and the summary runs
its sections and searches on the app's process-wide thread pools; so while profiling, those pools are
fresh ones (`fresh_launch_pools`), each of their threads starts with its own profiler
(`threading.setprofile`) and the tables merge them. (Without the fresh pools, the threads made by
earlier launches would run unprofiled: the HTTP requests and JSON parsing of a launch would be missing.) The timer is `time.thread_time`,
CPU time of the thread alone: time spent waiting for the EHR or for a lock counts for nothing, so
cumulative time is CPU time under a function, not wall time.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP = 15


class ThreadProfiles:
    """Profiles this thread while enabled, and every thread started while enabled, to its end."""

    def __init__(self) -> None:
        self._main = cProfile.Profile(time.thread_time)
        self._threads: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _start_in_new_thread(self, *_event) -> None:
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self._threads.append(profile)
        profile.enable()  # replaces this hook in the new thread

    def enable(self) -> None:
        threading.setprofile(self._start_in_new_thread)
        self._main.enable()

    def disable(self) -> None:
        self._main.disable()
        threading.setprofile(None)

    def stats(self) -> pstats.Stats:
        """The merged profile; call once every profiled thread has ended."""
        with self._lock:
            profiles = [self._main, *self._threads]
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        sys.setprofile(None)  # Stats() disables each profile on this thread: leave no profiler behind
        return stats


@contextmanager
def fresh_launch_pools() -> Iterator[None]:
    """The app's search and section pools replaced by new ones until the way out, whose threads are
    started (so profiled) inside the profiled launches; they are shut down, every thread ended, before
    the way out, so that ThreadProfiles.stats can be read."""
    from smart_app.fhir import queries

    saved = queries._search_pool, queries._section_pool
    fresh = (ThreadPoolExecutor(queries.SEARCH_THREADS, thread_name_prefix="profiled-search"),
             ThreadPoolExecutor(queries.SECTION_THREADS, thread_name_prefix="profiled-section"))
    queries._search_pool, queries._section_pool = fresh
    try:
        yield
    finally:
        queries._search_pool, queries._section_pool = saved
        for pool in fresh:
            pool.shutdown(wait=True)


@dataclass(frozen=True, slots=True)
class ProfileRow:
    calls: int
    own_s: float  # CPU time in the function itself
    cumulative_s: float  # CPU time in it and everything it called
    function: str  # "module path:line(name)"


def top_rows(stats: pstats.Stats, *, by: str, count: int = TOP) -> list[ProfileRow]:
    """The `count` functions with the most CPU time, `by` "cumulative" or "own"."""
    rows = [ProfileRow(calls, own, cumulative, where(file, line, name))
            for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items()]  # type: ignore[attr-defined]
    key = (lambda r: r.cumulative_s) if by == "cumulative" else (lambda r: r.own_s)
    return sorted(rows, key=key, reverse=True)[:count]


def total_own_s(stats: pstats.Stats) -> float:
    """All the CPU time the profiler saw: the sum of every function's own time."""
    return sum(own for _, _, own, _, _ in stats.stats.values())  # type: ignore[attr-defined]


def where(file: str, line: int, name: str) -> str:
    """A function's place, short: relative to the project or to site-packages or the stdlib."""
    if file == "~":  # a built-in: cProfile names it "<built-in method ...>"
        return name
    for marker in ("/site-packages/", "/lib/python3."):
        if marker in file:
            file = file.split(marker, 1)[1]
            if marker == "/lib/python3.":
                file = file.split("/", 1)[-1]
            break
    else:
        try:
            file = str(Path(file).resolve().relative_to(ROOT))
        except ValueError:
            pass
    return f"{file}:{line}({name})"
