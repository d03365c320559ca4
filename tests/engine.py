"""The independent FHIR engine for end-to-end tests: `node engine/server.mjs` (Medplum's FHIR router over its
in-memory repository), loaded with the sandbox characters.

The process is started once per test session; `EngineProcess.fresh()` brings its data back to the freshly
loaded characters (a snapshot the engine keeps), so each test starts from the same record.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import requests

from sandbox.upstream import load_characters
from tests.processes import stop
from tests.support import CLOCK, ROOT

ENGINE_DIR = ROOT / "engine"
START_TIMEOUT_S = 30
READY = re.compile(r"^engine listening on (http://127\.0\.0\.1:\d+/fhir)$")


class EngineError(RuntimeError):
    """The engine did not start, or refused the sandbox characters."""


@dataclass
class EngineProcess:
    base: str  # http://127.0.0.1:PORT/fhir
    process: subprocess.Popen = field(repr=False)
    started_s: float = 0.0  # from spawning node to the ready line
    loaded_s: float = 0.0  # loading the characters (one batch of PUTs)

    @property
    def origin(self) -> str:
        return self.base.removesuffix("/fhir")

    def control(self, action: str) -> None:
        requests.post(f"{self.origin}/_{action}", timeout=10).raise_for_status()

    def fresh(self) -> str:
        """Back to the characters as loaded; returns the FHIR base."""
        self.control("reset")
        return self.base


def missing() -> str | None:
    """Why the engine cannot run here, or None."""
    if shutil.which("node") is None:
        return "node (Node.js 20) for the FHIR engine"
    if not (ENGINE_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        return "engine/node_modules (npm ci --prefix engine)"
    return None


@contextmanager
def running_engine(today: date) -> Iterator[EngineProcess]:
    """The engine on a free loopback port, loaded with the characters as of `today` and snapshotted."""
    started = time.perf_counter()
    env = {**os.environ, "ENGINE_CLOCK_OFFSET_MS": str(int(CLOCK.offset.total_seconds() * 1000))}
    process = subprocess.Popen(["node", str(ENGINE_DIR / "server.mjs"), "0"], cwd=ROOT, text=True, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = _ready_line(process)
        engine = EngineProcess(base, process, started_s=time.perf_counter() - started)
        loading = time.perf_counter()
        load(engine.base, today)
        engine.loaded_s = time.perf_counter() - loading
        engine.control("snapshot")
        yield engine
    finally:
        stop(process)
        process.stdout.close()


def load(base: str, today: date) -> None:
    """PUT every character resource; a refusal is a finding about our data, so it fails loudly."""
    refused = load_characters(base, today)
    if refused:
        raise EngineError("the engine refused sandbox characters:\n" + "\n".join(refused))


def _ready_line(process: subprocess.Popen) -> str:
    """Wait for "engine listening on URL"; keep draining its output afterwards so it never blocks."""
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        try:
            for line in process.stdout:
                lines.put(line.rstrip("\n"))
        except ValueError:  # closed at teardown while reading
            pass
        lines.put(None)

    threading.Thread(target=drain, name="engine-output", daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            raise EngineError("the engine exited before it was ready:\n" + "\n".join(seen[-20:]))
        ready = READY.match(line)
        if ready:
            return ready.group(1)
        seen.append(line)
    raise EngineError(f"the engine was not ready in {START_TIMEOUT_S} s:\n" + "\n".join(seen[-20:]))
