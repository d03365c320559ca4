"""Shared fixtures: a store per backend (SQLite, PostgreSQL), the sandbox EHR on a real port, the app.

PostgreSQL and the browser are required in CI (CI=true): missing there is a failure, not a skip.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from smart_app import create_app
from smart_app.config import Settings
from smart_app.store import create_engine, upgrade
from smart_app.tenants import TenantRegistry
from tests.support import APP_ORIGIN, CLIENT_ID, CLOCK, TODAY, SandboxHandle, a_tenant

if TYPE_CHECKING:
    from tests.engine import EngineProcess

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_ADMIN_URL = os.environ.get("SPOC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


@pytest.hookimpl(tryfirst=True)  # before -m selects by mark
def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test under tests/browser/ `browser`, so `-m browser` and `-m "not browser"` work
    (a pytestmark in a conftest marks nothing)."""
    for item in items:
        if Path(item.path).is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.browser)


def need_service(reason: str) -> None:
    """Skip locally, fail in CI: CI must prove every required service."""
    if IN_CI:
        pytest.fail(f"Required in CI: {reason}")
    pytest.skip(reason)


def _postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    if not _postgres_available():
        need_service("PostgreSQL on 127.0.0.1:5432")
    name = f"spoc_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """Each store-touching test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'spoc.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
        if tables:
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def sandbox_config():
    """The sandbox's configuration for this test; change it before the sandbox fixture starts."""
    from sandbox.config import SandboxClient, SandboxConfig

    return SandboxConfig(
        app_launch_url=f"{APP_ORIGIN}/launch",
        clients=[SandboxClient(CLIENT_ID, (f"{APP_ORIGIN}/callback",))],
        today=TODAY,
        clock_offset=CLOCK.offset,
    )


@pytest.fixture
def sandbox(request, sandbox_config) -> Iterator[SandboxHandle]:
    """The sandbox EHR on a real port. Parametrized indirectly with "engine" it is the SMART front door of
    the independent FHIR engine instead: `pytest.mark.parametrize("sandbox", ["plain", "engine"], indirect=True)`."""
    if getattr(request, "param", "plain") == "engine":
        yield request.getfixturevalue("engine_sandbox")
        return
    with serving_sandbox(sandbox_config) as handle:
        yield handle


ON_BOTH_EHRS = pytest.mark.parametrize("sandbox", ["plain", "engine"], indirect=True)


@pytest.fixture
def plain_sandbox_only(request) -> None:
    """For a test that drives the sandbox's own search (its settings are refused in front of the engine)."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("sandbox") == "engine":
        pytest.skip("drives the sandbox's own search settings; the independent engine answers searches itself")


@contextmanager
def serving_sandbox(config) -> Iterator[SandboxHandle]:
    from sandbox import create_sandbox
    from sandbox.server import serve_in_thread

    server = serve_in_thread(create_sandbox(config), host="localhost")
    try:
        yield SandboxHandle(server.url, config)
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def engine() -> Iterator[EngineProcess]:
    """The independent FHIR engine (Medplum's router, in memory), loaded with the sandbox characters."""

    from tests.engine import missing, running_engine

    reason = missing()
    if reason:
        need_service(reason)
    with running_engine(TODAY) as running:
        yield running


@pytest.fixture
def engine_sandbox(sandbox_config, engine) -> Iterator[SandboxHandle]:
    """A sandbox doing SMART in front of the engine, whose data is back to the freshly loaded characters."""
    with serving_sandbox(replace(sandbox_config, upstream_fhir=engine.fresh())) as handle:
        yield handle


@pytest.fixture
def tenants(sandbox) -> TenantRegistry:
    return TenantRegistry([a_tenant(sandbox)])


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        tenants_file=tmp_path / "unused.toml",
        token_keys=(Fernet.generate_key().decode(),),
        database_url=database_url,
        fhir_timeout_s=5,
    )


@pytest.fixture
def app(settings, tenants):
    app = create_app(settings, tenants, clock=CLOCK)
    app.config["TESTING"] = True
    yield app
    app.extensions["spoc"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


