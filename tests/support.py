"""Helpers for tests that launch the app through the sandbox EHR, as the EHR frame would."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from smart_app.clock import Clock
from smart_app.tenants import Quirks, Tenant

APP_ORIGIN = "http://app.test"  # the Flask test client's notional host

# "Today" for every test: the app, the sandbox EHR and the tests' own dates share one pinned day, so no
# test reads the calendar. Run the suite on another day with SPOC_TEST_TODAY=2028-02-29.
DEFAULT_TODAY = date(2026, 3, 16)
TODAY = date.fromisoformat(os.environ["SPOC_TEST_TODAY"]) if os.environ.get("SPOC_TEST_TODAY") else DEFAULT_TODAY
CLOCK = Clock.pinned(TODAY)
CLIENT_ID = "spoc-test"


@dataclass
class SandboxHandle:
    url: str
    config: object

    @property
    def iss(self) -> str:
        return f"{self.url}/fhir"

    def control(self, path: str, payload=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=payload if payload is not None else {}, timeout=5)
        response.raise_for_status()
        return response.json() if response.content else None

    def fhir_requests(self) -> list[dict]:
        return requests.get(f"{self.url}/_sandbox/requests", timeout=5).json()

    def token_requests(self) -> list[dict]:
        """Grant type and status of each call to the token endpoint since the logs were last cleared."""
        return requests.get(f"{self.url}/_sandbox/token-requests", timeout=5).json()



class _IframeSrc(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.src: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.src = dict(attrs).get("src")


def chart_launch_url(sandbox: SandboxHandle, patient_id: str, user: str | None = None) -> str:
    """The app URL the sandbox chart puts in its iframe for this patient (with iss and launch)."""
    params = {"user": user} if user else {}
    page = requests.get(f"{sandbox.url}/ehr/patient/{patient_id}", params=params, timeout=5)
    page.raise_for_status()
    parser = _IframeSrc()
    parser.feed(page.text)
    assert parser.src, "the chart page has no app iframe"
    return parser.src


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def authorize_at_sandbox(authorize_url: str) -> str:
    """Follow the app's authorize redirect at the sandbox; returns the callback URL it sends back."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code in (302, 303), f"sandbox authorize answered {response.status_code}"
    return response.headers["Location"]


def launch(client, sandbox: SandboxHandle, patient_id: str, user: str | None = None):
    """A full EHR launch through the test client; returns the response of the app's first page."""
    start = client.get(path_of(chart_launch_url(sandbox, patient_id, user)))
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    callback = authorize_at_sandbox(start.headers["Location"])
    landed = client.get(path_of(callback))
    assert landed.status_code == 303, landed.get_data(as_text=True)[:500]
    return landed


def family_launch(client, sandbox: SandboxHandle, account: str):
    """A standalone launch from the sandbox's patient portal, signed in there as `account`; the app's
    answer to the callback (303 to the family's page when admitted)."""
    start = client.get(f"/launch/family?{urlencode({'iss': sandbox.iss})}")
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    callback = authorize_at_sandbox(f"{start.headers['Location']}&{urlencode({'sandbox_portal_account': account})}")
    return client.get(path_of(callback))


def launch_id_of(response) -> str:
    match = re.search(r"/p/([A-Za-z0-9_-]+)/", response.headers["Location"])
    assert match
    return match.group(1)


def raw_request(port: int, request: bytes, timeout_s: float = 5) -> bytes:
    """Send bytes as they are to a loopback port; the whole reply (b"" when none came)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def through_redacting_handler(emit) -> str:
    """What a handler with the app's redacting filter writes for what `emit(logger)` logs."""
    import io
    import logging

    from smart_app.security import redact_log_handlers

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    redact_log_handlers(logger)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


LONG_REQUEST_LINE = b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


ROOT = Path(__file__).resolve().parent.parent


def a_tenant(sandbox: SandboxHandle, **overrides) -> Tenant:
    fields = dict(
        name="Sandbox EHR", iss=sandbox.iss, client_id=CLIENT_ID, redirect_uri=f"{APP_ORIGIN}/callback",
        frame_ancestors=(sandbox.url,), write_mode="careplan", quirks=Quirks(),
        family_launch=True,  # off by default for a site; the tests open the family's door
    )
    fields.update(overrides)
    return Tenant(**fields)


_BIDI_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",
                 "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}


def assert_bidi_contained(text: str, where: str = "") -> None:
    """Every bidi embedding or override in `text` sits inside an isolate, and every one of them is closed
    where it should be: nothing it holds can reorder what stands around it (issue 12, item 10)."""
    opened: list[str] = []
    for index, char in enumerate(text):
        context = f"{where}: {text[max(0, index - 40):index + 40]!r}"
        if char in _BIDI_OPENERS:
            assert _BIDI_OPENERS[char] == "\u2069" or "\u2069" in (_BIDI_OPENERS[o] for o in opened), \
                f"an embedding or override outside any isolate in {context}"
            opened.append(char)
        elif char == "\u202c":
            assert opened and _BIDI_OPENERS[opened[-1]] == "\u202c", f"a PDF closing nothing in {context}"
            opened.pop()
        elif char == "\u2069":
            assert opened and _BIDI_OPENERS[opened[-1]] == "\u2069", f"a PDI with an override still open in {context}"
            opened.pop()
    assert not opened, f"{where}: {len(opened)} bidi control(s) never closed"
