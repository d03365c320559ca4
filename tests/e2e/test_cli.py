"""The `spoc` command: `db upgrade`, `keys`, `tenants check`, and `spoc demo` as a user runs it.

Layer: command line (composition root). The demo test starts real processes on loopback ports.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet
from joserfc.jwk import KeySet

from smart_app.cli import DemoRequestHandler, demo_tenants_toml, main
from smart_app.store import upgrade
from smart_app.security import BROWSER_COOKIE
from tests.processes import (
    FORBIDDEN_IN_LOGS,
    run_that_leaves_secrets_near_the_logs,
    spoc_serve,
    table_renamed,
    wait_until_healthy,
)
from tests.support import LONG_REQUEST_LINE, ROOT, SandboxHandle, chart_launch_url, query_of, raw_request

WAIT_S = 30
CHILD = "sofia-rivera"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_db_upgrade_creates_the_tables_in_the_database_named_by_database_url(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    tables = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {"pending_authorizations", "launch_sessions", "audit_events", "alembic_version"} <= tables
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0  # running it again changes nothing and does not fail


def test_keys_token_key_prints_a_fernet_key(capsys):
    assert main(["keys", "token-key"]) == 0
    key = capsys.readouterr().out.strip()
    cipher = Fernet(key.encode())
    assert cipher.decrypt(cipher.encrypt(b"refresh-token")) == b"refresh-token"


@pytest.mark.parametrize(("alg", "kty"), [("RS384", "RSA"), ("ES384", "EC")])
def test_keys_client_jwks_prints_a_private_key_set_with_the_requested_kid(alg, kty, capsys):
    assert main(["keys", "client-jwks", "--alg", alg, "--kid", "k1"]) == 0
    keys = KeySet.import_key_set(json.loads(capsys.readouterr().out))
    key = keys.get_by_kid("k1")
    assert key.key_type == kty and key.alg == alg
    assert key.is_private  # this file goes to the secret store; the app serves the public half


def test_tenants_check_names_each_problem_by_line(tmp_path, capsys):
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(
        "[[tenant]]\n"
        'name = "Good EHR"\n'
        'iss = "https://ehr.example.org/fhir"\n'
        'client_id = "spoc"\n'
        'redirect_uri = "https://spoc.example.org/callback"\n'
        "\n"
        "[[tenant]]\n"
        'name = "Bad EHR"\n'
        'iss = "ehr.example.net/fhir"\n'
        'client_id = "spoc"\n'
        'redirect_uri = "https://spoc.example.org/callback"\n'
        'client_secret = "in the file"\n'
    )
    assert main(["tenants", "check", str(tenants)]) == 1
    out = capsys.readouterr().out
    assert f"{tenants}:9: tenant #2: iss: must be an absolute http(s) URL" in out
    assert f"{tenants}:12: tenant #2: client_secret: secrets must not be in this file" in out


# --- spoc demo ---------------------------------------------------------------------------------


def test_the_demo_server_answers_a_request_line_over_64_kb_with_414_and_goes_on_serving():
    from werkzeug.serving import make_server

    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = make_server("127.0.0.1", 0, hello, threaded=True, request_handler=DemoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        reply = raw_request(server.port, LONG_REQUEST_LINE)
        assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == b"414", reply[:200]
        assert requests.get(f"http://127.0.0.1:{server.port}/", timeout=5).text == "ok"
    finally:
        server.shutdown()
        thread.join(5)


def wait_for(check, what: str, demo: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            pytest.fail(f"spoc demo exited while waiting for {what}:\n{log.read_text()[-2000:]}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"spoc demo: no {what} within {WAIT_S} s:\n{log.read_text()[-2000:]}")


def stop(demo: subprocess.Popen) -> int | None:
    """SIGTERM, as a service manager would; the exit code, or None if it did not stop in time."""
    demo.send_signal(signal.SIGTERM)
    try:
        return demo.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return None


@dataclass
class Demo:
    ehr: str
    app: str
    app_port: int
    log: Path
    process: subprocess.Popen
    exit_code: int | str | None = "not stopped"

    def stop(self) -> None:
        self.exit_code = stop(self.process)


@contextmanager
def running_demo(tmp_path: Path) -> Iterator[Demo]:
    """`spoc demo` on free ports, once its sandbox EHR and the app both answer."""
    ehr_port, app_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        # Its own process group, so the sandbox child it starts can be cleaned up if the demo hangs.
        process = subprocess.Popen(
            [sys.executable, "-m", "smart_app.cli", "demo", "--ehr-port", str(ehr_port), "--app-port", str(app_port),
             "--data-dir", str(tmp_path / "demo")],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    demo = Demo(f"http://localhost:{ehr_port}", f"http://127.0.0.1:{app_port}", app_port, log, process)
    try:
        wait_for(lambda: "Sofia" in requests.get(f"{demo.ehr}/ehr/", timeout=2).text, "patient list", process, log)
        wait_for(lambda: requests.get(f"{demo.app}/healthz", timeout=2).status_code == 200, "app /healthz", process,
                 log)
        yield demo
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def chart_launch_in(demo: Demo) -> tuple[str, str, list[str]]:
    """Open Sofia's chart in the demo EHR and follow the launch; (Cookie header, launch path, secrets seen)."""
    iframe = chart_launch_url(SandboxHandle(demo.ehr, None), CHILD)
    assert iframe.startswith(f"{demo.app}/launch?")
    start = requests.get(iframe, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text[:300]
    cookie = re.search(rf"{BROWSER_COOKIE}=([^;]+)", start.headers["Set-Cookie"]).group(0)
    callback = requests.get(start.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
    assert callback.startswith(f"{demo.app}/callback?")
    landed = requests.get(callback, headers={"Cookie": cookie}, allow_redirects=False, timeout=10)
    assert landed.status_code == 303, landed.text[:300]
    launch_path = re.search(r"(/p/[A-Za-z0-9_-]+/)$", landed.headers["Location"])
    assert launch_path
    seen = [query_of(iframe)["launch"], query_of(start.headers["Location"])["state"], query_of(callback)["code"],
            cookie.split("=", 1)[1], launch_path.group(1).split("/")[2]]
    return cookie, launch_path.group(1), seen


def test_spoc_demo_serves_the_sandbox_ehr_and_a_chart_launch_lands_in_the_app(tmp_path):
    with running_demo(tmp_path) as demo:
        cookie, launch_path, _ = chart_launch_in(demo)
        page = requests.get(f"{demo.app}{launch_path}", headers={"Cookie": cookie}, timeout=10)
        assert page.status_code == 200
        data = tmp_path / "demo"  # PHI and tokens: the owner's only
        assert {p.name: p.stat().st_mode & 0o777 for p in (data, data / "spoc.db", data / "demo-token.key")} == \
            {"demo": 0o700, "spoc.db": 0o600, "demo-token.key": 0o600}
        demo.stop()
    assert demo.exit_code is not None, "spoc demo did not exit within 10 s of SIGTERM"
    assert demo.exit_code in (0, -signal.SIGTERM)


def test_the_demo_log_holds_no_handle_link_state_code_or_token_after_ehr_errors_and_a_500(tmp_path):
    with running_demo(tmp_path) as demo:
        cookie, launch_path, seen = chart_launch_in(demo)
        seen += run_that_leaves_secrets_near_the_logs(
            demo.app, demo.ehr, cookie, launch_path,
            lambda: table_renamed(f"sqlite:///{tmp_path / 'demo' / 'spoc.db'}", "item_curations"))
        assert b" 414 " in raw_request(demo.app_port, LONG_REQUEST_LINE).split(b"\r\n", 1)[0]
        # The broken stream's thread logs its error after the client has given up: wait for it, not a race.
        wait_for(lambda: "Error on request" in demo.log.read_text(errors="replace"), "werkzeug's error line",
                 demo.process, demo.log)
        demo.stop()
    text = demo.log.read_text(errors="replace")
    assert '"GET /copy/~' in text and '"GET /p/~/full" 500' in text  # the link and the 500, redacted
    assert "unexpected_error" in text and "Error on request" in text  # the app's error line and werkzeug's
    for forbidden in (*FORBIDDEN_IN_LOGS, *seen):  # R64
        assert forbidden not in text, f"the demo logged {forbidden[:12]}…"


@pytest.mark.parametrize("which", ["--ehr-port", "--app-port"])
def test_spoc_demo_on_a_taken_port_names_the_port_and_the_flags_that_move_it(tmp_path, which):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        ports = {"--ehr-port": free_port(), "--app-port": free_port(), which: taken}
        with pytest.raises(SystemExit) as stopped:
            main(["demo", "--data-dir", str(tmp_path / "demo"), *(str(x) for pair in ports.items() for x in pair)])
    message = str(stopped.value.code)
    assert f"Port {taken}" in message and ("sandbox EHR" if which == "--ehr-port" else "the app") in message
    assert "--ehr-port" in message and "--app-port" in message and "make demo DEMO_ARGS=" in message
    assert not (tmp_path / "demo").exists()  # nothing was started or written


def test_a_second_spoc_demo_says_it_keeps_the_apps_data_but_the_sandbox_ehr_starts_afresh(tmp_path):
    data = tmp_path / "demo"
    first, second = (start_demo_banner(data, tmp_path / f"demo-{n}.log") for n in (1, 2))
    assert "earlier demo" not in first and str(data) in first
    assert "earlier demo" in second and "starts afresh" in second and "make clean" in second


def start_demo_banner(data: Path, log: Path) -> str:
    """Start `spoc demo` on free ports until it is ready; stop it; what it printed."""
    ports = ["--ehr-port", str(free_port()), "--app-port", str(free_port())]
    with log.open("wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "smart_app.cli", "demo", *ports, "--data-dir", str(data)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "Press Ctrl+C to stop" in log.read_text(), "the start banner", demo, log)
        assert stop(demo) is not None
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=5)
    return log.read_text()


def test_spoc_serve_freezes_the_app_s_objects_before_forking_its_workers(tmp_path, monkeypatch):
    from gunicorn.app.base import BaseApplication

    tenants = tmp_path / "tenants.toml"
    tenants.write_text(demo_tenants_toml("http://127.0.0.1:8200", "http://127.0.0.1:8100"))
    database = f"sqlite:///{tmp_path / 'spoc.db'}"
    upgrade(database)
    monkeypatch.setenv("SPOC_TENANTS_FILE", str(tenants))
    monkeypatch.setenv("SPOC_TOKEN_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("DATABASE_URL", database)
    frozen_when_forking = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: frozen_when_forking.append(gc.get_freeze_count()))
    gc.unfreeze()
    try:
        assert main(["serve", "--bind", "127.0.0.1:0"]) == 0
    finally:
        gc.unfreeze()
    assert frozen_when_forking and frozen_when_forking[0] > 10_000


def open_connections(pid: int) -> int:
    """Sockets a process holds open (its listening socket and any others included)."""
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.readlink(fd).startswith("socket:"))


def worker_pids(master: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def test_spoc_serve_s_workers_take_connections_in_turn_so_that_neither_does_most_launches(tmp_path):
    """A browser keeps its connection for the whole launch: the worker that took it does the launch.
    Twenty browsers connecting one after another end up ten and ten, give or take one (without the
    least-loaded accept, whichever worker woke first took each: 9 to 11 or 8 to 12 in three runs of four)."""
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(demo_tenants_toml("http://127.0.0.1:8200", "http://127.0.0.1:8100"))
    database = f"sqlite:///{tmp_path / 'spoc.db'}"
    upgrade(database)
    env = {**os.environ, "SPOC_TENANTS_FILE": str(tenants), "SPOC_TOKEN_KEYS": Fernet.generate_key().decode(),
           "DATABASE_URL": database, "PYTHONUNBUFFERED": "1"}
    with spoc_serve(free_port(), env, tmp_path / "serve.log", workers=2) as app:
        wait_until_healthy(app)
        wait_for(lambda: len(worker_pids(app.process.pid)) == 2, "two workers", app.process, app.log)
        time.sleep(0.5)  # the health check's own connection has been closed
        workers = worker_pids(app.process.pid)
        before = {pid: open_connections(pid) for pid in workers}
        browsers = []
        try:
            for _ in range(20):
                browser = http.client.HTTPConnection(app.url.removeprefix("http://"), timeout=5)
                browser.request("GET", "/healthz")
                assert browser.getresponse().read()
                browsers.append(browser)  # kept alive: it stays with the worker that took it
            taken = sorted(open_connections(pid) - before[pid] for pid in workers)
        finally:
            for browser in browsers:
                browser.close()
    assert sum(taken) == 20 and taken[1] - taken[0] <= 1, taken
