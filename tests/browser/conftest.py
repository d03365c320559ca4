"""Real-browser fixtures: Debian Chromium driven by Playwright, the sandbox EHR on `localhost` and the
app on `127.0.0.1` (so the app's iframe is cross-site, as in a real EHR). Required in CI."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from smart_app import create_app
from smart_app.config import Settings
from smart_app.tenants import TenantRegistry
from tests.conftest import need_service
from tests.support import CLOCK, ROOT, SandboxHandle, TODAY, a_tenant

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


@dataclass
class Deployment:
    ehr: SandboxHandle
    app_url: str
    app: object

    def chart_list(self, user: str | None = None) -> str:
        return f"{self.ehr.url}/ehr/" + (f"?user={user}" if user else "")


@pytest.fixture(scope="session")
def playwright_chromium():
    if not Path(CHROMIUM).exists():
        need_service(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_service("the playwright Python package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(playwright_chromium):
    context = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


class _AppServer:
    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def deployment(tmp_path, database_url) -> Iterator[Deployment]:
    """The sandbox EHR on localhost and the app on 127.0.0.1, wired to each other."""
    from sandbox import create_sandbox
    from sandbox.config import SandboxClient, SandboxConfig
    from sandbox.server import serve_in_thread

    config = SandboxConfig(today=TODAY, clock_offset=CLOCK.offset)
    ehr_server = serve_in_thread(create_sandbox(config), host="localhost")
    ehr = SandboxHandle(ehr_server.url, config)
    settings = Settings(tenants_file=tmp_path / "unused.toml", token_keys=(Fernet.generate_key().decode(),),
                        database_url=database_url, fhir_timeout_s=5)
    holder: dict = {}
    # The app's URL is known only once it listens; build it with a placeholder tenant, then fix both up.
    app_server = _AppServer(_LateApp(holder))
    tenant = a_tenant(ehr, redirect_uri=f"{app_server.url}/callback", frame_ancestors=(ehr.url,))
    app = create_app(settings, TenantRegistry([tenant]), clock=CLOCK)
    holder["app"] = app
    config.app_launch_url = f"{app_server.url}/launch"
    config.clients = [SandboxClient(tenant.client_id, (tenant.redirect_uri,))]
    yield Deployment(ehr=ehr, app_url=app_server.url, app=app)
    app_server.shutdown()
    ehr_server.shutdown()
    app.extensions["spoc"].engine.dispose()


class _LateApp:
    def __init__(self, holder: dict) -> None:
        self.holder = holder

    def __call__(self, environ, start_response):
        return self.holder["app"](environ, start_response)


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/browser/ (kept by CI as the test's output)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def open_chart(page, deployment: Deployment, patient_id: str, user: str | None = None):
    """Open the patient from the EHR's list; returns the app's frame once its banner shows."""
    page.goto(deployment.chart_list(user))
    page.click(f'[data-testid="patient-{patient_id}"]')
    frame = page.frame_locator('[data-testid="smart-app"]')
    frame.locator('[data-testid="patient-name"]').wait_for()
    return frame


os.environ.setdefault("PW_TEST_SCREENSHOT", "off")


def screenshot_app(page, name: str, height: int = 2400) -> Path:
    """A tall screenshot of the app inside the EHR frame (the frame is stretched to show more)."""
    page.set_viewport_size({"width": 1280, "height": height})
    page.add_style_tag(content=f"#smart-app {{ height: {height - 130}px !important; }} .app-frame {{ height: auto !important; }}")
    page.wait_for_timeout(300)
    return screenshot(page, name)
