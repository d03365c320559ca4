"""Real app processes for end-to-end tests: `spoc serve` (gunicorn) on free loopback ports."""

from __future__ import annotations

import json
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
def spoc_serve(port: int, env: dict[str, str], log: Path, workers: int = 1) -> Iterator[AppProcess]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "smart_app.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
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



# Words that never belong in a log line (R64), whatever the values of this run.
FORBIDDEN_IN_LOGS = ("access_token", "refresh_token", "Bearer ", "code=", "state=", "launch=", "Authorization")
NESTED_JSON = "[" * 200_000 + "]" * 200_000


def csrf_token_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form"
    return match.group(1)


def run_that_leaves_secrets_near_the_logs(app_url: str, ehr_url: str, cookie: str, launch_path: str,
                                          store_fault) -> list[str]:
    """After a launch, on a process that has not read this launch's summary yet: make the EHR fail (503,
    JSON nested 200,000 deep), make and open a family-copy link, and make the app fail with a 500 while
    `store_fault` (a context manager) breaks the store. Returns the secrets this adds to the launch's."""
    headers = {"Cookie": cookie}
    faults = [{"path_regex": r"^/fhir/AllergyIntolerance", "status": 503, "times": -1},
              {"path_regex": r"^/fhir/Condition", "status": 200, "body": NESTED_JSON, "times": -1}]
    requests.post(f"{ehr_url}/_sandbox/config", json={"faults": faults}, timeout=10).raise_for_status()
    sections = requests.get(f"{app_url}{launch_path}sections", headers=headers, timeout=60)
    assert sections.status_code == 200
    lines = {line["key"]: line["html"] for line in map(json.loads, sections.text.splitlines())}
    assert {key for key, html in lines.items() if 'data-state="failed"' in html} >= {"allergies", "conditions"}
    requests.post(f"{ehr_url}/_sandbox/config", json={"faults": []}, timeout=10).raise_for_status()

    page = requests.get(f"{app_url}{launch_path}family-copy?lang=en", headers=headers, timeout=30)
    assert page.status_code == 200, page.text[:300]
    csrf = csrf_token_in(page.text)
    made = requests.post(f"{app_url}{launch_path}family-copy/link", headers=headers, timeout=30,
                         data={"csrf_token": csrf, "lang": "en"})
    link = re.search(r'href="(/copy/([^"/]+))"', made.text)
    assert made.status_code == 200 and link, made.text[:300]
    assert requests.get(f"{app_url}{link.group(1)}", timeout=30).status_code == 200  # a new tab: no cookie
    assert requests.get(f"{app_url}{link.group(1)}/pdf", timeout=30).status_code == 200

    with store_fault():
        assert requests.get(f"{app_url}{launch_path}full", headers=headers, timeout=60).status_code == 500
        try:  # the stream fails before its first line: the server's own error line, with the request's URI
            requests.get(f"{app_url}{launch_path}sections?only=allergies", headers=headers, timeout=60)
        except requests.RequestException:
            pass
    link_id, _, signature = link.group(2).split(".")
    return [csrf, link.group(2), link_id, signature]


@contextmanager
def table_renamed(engine_url: str, table: str) -> Iterator[None]:
    """A store fault: `table` is missing (as with a migration not applied) until the block ends."""
    import sqlalchemy as sa

    engine = sa.create_engine(engine_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"ALTER TABLE {table} RENAME TO {table}_away"))
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE {table}_away RENAME TO {table}"))
    finally:
        engine.dispose()


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
