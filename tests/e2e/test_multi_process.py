"""Two `spoc serve` processes on one PostgreSQL: a launch begun on one completes on the other, and
neither process logs a token, code, state or launch value (issue 2; R64).

Layer: end to end through real processes (gunicorn) and the sandbox EHR on a loopback port.
"""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
import requests
from cryptography.fernet import Fernet

from sandbox import create_sandbox
from sandbox.config import SandboxClient, SandboxConfig
from sandbox.server import serve_in_thread
from tests.processes import cookie_from, free_port, spoc_serve, tenants_toml, wait_until_healthy
from tests.support import query_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENT_ID = "spoc-multi"
CHILD = "sofia-rivera"
START_TIMEOUT_S = 20
FORBIDDEN_IN_LOGS = ("access_token", "refresh_token", "Bearer ", "code=", "state=", "launch=", "Authorization")


def test_a_launch_begun_on_one_process_completes_on_another_and_no_secret_is_logged(postgres_database, tmp_path):
    port_a, port_b = free_port(), free_port()
    redirect_uri = f"http://127.0.0.1:{port_a}/callback"
    config = SandboxConfig(app_launch_url=f"http://127.0.0.1:{port_a}/launch",
                           clients=[SandboxClient(CLIENT_ID, (redirect_uri,))], today=date.today())
    ehr = serve_in_thread(create_sandbox(config), host="localhost")
    tenants_file = tmp_path / "tenants.toml"
    tenants_file.write_text(tenants_toml(f"{ehr.url}/fhir", redirect_uri, ehr.url))
    env = {**os.environ, "SPOC_TENANTS_FILE": str(tenants_file), "SPOC_TOKEN_KEYS": Fernet.generate_key().decode(),
           "DATABASE_URL": postgres_database, "PYTHONUNBUFFERED": "1"}
    try:
        with spoc_serve(port_a, env, tmp_path / "a.log") as a, spoc_serve(port_b, env, tmp_path / "b.log") as b:
            wait_until_healthy(a)
            wait_until_healthy(b)
            chart_launch = requests.post(f"{ehr.url}/_sandbox/launches", json={"patient": CHILD}, timeout=5).json()
            start = requests.get(f"{a.url}/launch", params={"iss": chart_launch["iss"], "launch": chart_launch["launch"]},
                                 allow_redirects=False, timeout=10)
            assert start.status_code == 302, start.text[:300]
            cookie = cookie_from(start)
            authorized = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
            callback = authorized.headers["Location"]
            assert callback.startswith(redirect_uri + "?")
            landed = requests.get(callback.replace(a.url, b.url, 1), headers={"Cookie": cookie},
                                  allow_redirects=False, timeout=10)
            assert landed.status_code == 303, landed.text[:300]
            launch_path = re.fullmatch(r"(?:http://[^/]+)?(/p/[A-Za-z0-9_-]+/)", landed.headers["Location"])
            assert launch_path, landed.headers["Location"]
            sections = requests.get(f"{a.url}{launch_path.group(1)}sections", headers={"Cookie": cookie}, timeout=20)
            assert sections.status_code == 200
            assert "Sofia Isabel Rivera" in sections.text
            seen = [chart_launch["launch"], query_of(start.headers["Location"])["state"], query_of(callback)["code"],
                    cookie.split("=", 1)[1], launch_path.group(1).split("/")[2]]
        logs = {"A": a.log_text(), "B": b.log_text()}
    finally:
        ehr.shutdown()
    assert "/callback" in logs["B"] and "/launch" in logs["A"]  # the access logs did record the requests
    for name, text in logs.items():  # R64
        for forbidden in (*FORBIDDEN_IN_LOGS, *seen):
            assert forbidden not in text, f"process {name} logged {forbidden[:12]}…"
