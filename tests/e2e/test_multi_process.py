"""Two `spoc serve` processes on one PostgreSQL: a launch begun on one completes on the other, and
neither process logs a token, code, state, launch value, launch handle or family-copy link, not even
in the error lines of an EHR failure or of a 500 (issue 2, issue 12; R64).

Layer: end to end through real processes (gunicorn) and the sandbox EHR on a loopback port.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.processes import (
    FORBIDDEN_IN_LOGS,
    cookie_from,
    run_that_leaves_secrets_near_the_logs,
    sandbox_and_two_instances,
    table_renamed,
)
from tests.support import query_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CHILD = "sofia-rivera"


def test_a_launch_begun_on_one_process_completes_on_another_and_no_secret_is_logged(postgres_database, tmp_path):
    with sandbox_and_two_instances(postgres_database, tmp_path) as instances:
        a, b = instances.a, instances.b
        chart_launch = requests.post(f"{instances.ehr_url}/_sandbox/launches", json={"patient": CHILD},
                                     timeout=5).json()
        start = requests.get(f"{a.url}/launch", params={"iss": chart_launch["iss"], "launch": chart_launch["launch"]},
                             allow_redirects=False, timeout=10)
        assert start.status_code == 302, start.text[:300]
        cookie = cookie_from(start)
        callback = requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"]
        assert callback.startswith(f"{a.url}/callback?")
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
        seen += run_that_leaves_secrets_near_the_logs(
            b.url, instances.ehr_url, cookie, launch_path.group(1),
            lambda: table_renamed(postgres_database, "item_curations"))
    logs = {"A": a.log_text(), "B": b.log_text()}
    assert "/callback" in logs["B"] and "/launch" in logs["A"]  # the access logs did record the requests
    assert '"GET /copy/~' in logs["B"] and '"GET /p/~/full' in logs["B"]  # the link and the 500, redacted
    # both kinds of error line: the app's own, and gunicorn's for a failure it caught itself
    assert "unexpected_error" in logs["B"] and "Error handling request GET /p/~/sections" in logs["B"]
    for name, text in logs.items():  # R64
        for forbidden in (*FORBIDDEN_IN_LOGS, *seen, CHILD):
            assert forbidden not in text, f"process {name} logged {forbidden[:12]}…"
