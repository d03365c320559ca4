"""Real app processes for end-to-end tests: `spoc serve` (gunicorn) on free loopback ports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from smart_app.security import BROWSER_COOKIE
from tests.support import CLOCK, ROOT, TODAY

START_TIMEOUT_S = 20
CLIENT_ID = "spoc-multi"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppProcess:
    url: str
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_healthy(app: AppProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            pytest.fail(f"spoc serve exited early:\n{app.log_text()[-2000:]}")
        try:
            if requests.get(f"{app.url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"spoc serve did not answer /healthz in {START_TIMEOUT_S} s:\n{app.log_text()[-2000:]}")


@contextmanager
def spoc_serve(port: int, env: dict[str, str], log: Path) -> Iterator[AppProcess]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "smart_app.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        yield AppProcess(f"http://127.0.0.1:{port}", process, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Ask a child process to end; kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def tenants_toml(iss: str, redirect_uri: str, frame_ancestor: str) -> str:
    return (
        "[[tenant]]\n"
        'name = "Sandbox EHR"\n'
        f'iss = "{iss}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'redirect_uri = "{redirect_uri}"\n'
        f'frame_ancestors = ["{frame_ancestor}"]\n'
        'write_mode = "careplan"\n'
    )


def cookie_from(response: requests.Response) -> str:
    # Sent by hand: the cookie is Secure, and Python's cookie jar will not send it over http.
    match = re.search(rf"{BROWSER_COOKIE}=([^;]+)", response.headers.get("Set-Cookie", ""))
    assert match, "the launch set no browser cookie"
    return f"{BROWSER_COOKIE}={match.group(1)}"




@dataclass
class TwoInstances:
    """The sandbox EHR and two `spoc serve` processes sharing one database (the redirect URI names A)."""

    ehr_url: str
    a: AppProcess
    b: AppProcess


@contextmanager
def sandbox_and_two_instances(database_url: str, tmp_path: Path) -> Iterator[TwoInstances]:

    from cryptography.fernet import Fernet

    from sandbox import create_sandbox
    from sandbox.config import SandboxClient, SandboxConfig
    from sandbox.server import serve_in_thread

    port_a, port_b = free_port(), free_port()
    redirect_uri = f"http://127.0.0.1:{port_a}/callback"
    config = SandboxConfig(app_launch_url=f"http://127.0.0.1:{port_a}/launch",
                           clients=[SandboxClient(CLIENT_ID, (redirect_uri,))], today=TODAY,
                           clock_offset=CLOCK.offset)
    ehr = serve_in_thread(create_sandbox(config), host="localhost")
    tenants_file = tmp_path / "tenants.toml"
    tenants_file.write_text(tenants_toml(f"{ehr.url}/fhir", redirect_uri, ehr.url))
    env = {**os.environ, "SPOC_TENANTS_FILE": str(tenants_file), "SPOC_TOKEN_KEYS": Fernet.generate_key().decode(),
           "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", "SPOC_TEST_CLOCK_OFFSET_S": str(CLOCK.offset.total_seconds())}
    try:
        with spoc_serve(port_a, env, tmp_path / "a.log") as a, spoc_serve(port_b, env, tmp_path / "b.log") as b:
            wait_until_healthy(a)
            wait_until_healthy(b)
            yield TwoInstances(ehr.url, a, b)
    finally:
        ehr.shutdown()
