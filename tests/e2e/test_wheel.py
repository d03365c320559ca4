"""A clean install (issue 12, item 13): the wheel production installs carries everything the app serves.
`pip install .` once left static/ out, so pages came unstyled and the summary never filled.

The wheel goes into a fresh venv; the dependencies come from this test's environment through a .pth
file written after the install, so the app itself can only come from the wheel, and it runs from a
folder outside the source tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from smart_app.cli import demo_tenants_toml
from tests.e2e.test_cli import free_port, wait_for
from tests.support import ROOT

pytestmark = pytest.mark.slow


def run(*command: str, cwd, env=None, everything: bool = False) -> str:
    """What the command printed on stdout (with `everything`, stdout and stderr); it must succeed."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout + done.stderr if everything else done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The app's wheel, and what building it printed."""
    tmp = tmp_path_factory.mktemp("wheel")
    said = run(sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp / "dist"), cwd=tmp,
               everything=True)
    wheel, = (tmp / "dist").glob("spoc_smart_app-*.whl")
    return wheel, said


def test_building_the_wheel_gives_no_license_warning(built):
    _, said = built
    assert "project.license" not in said and "license classifiers" not in said.lower(), said


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """A venv holding the app's wheel and nothing else of it: its bin/ folder."""
    wheel, _ = built
    tmp = tmp_path_factory.mktemp("venv")
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel), cwd=tmp)
    site = Path(run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).strip())
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    (site / "spoc-test-deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    where = run(str(python), "-c", "import smart_app; print(smart_app.__file__)", cwd=tmp).strip()
    assert where.startswith(str(venv)), f"smart_app was imported from {where}, not from the wheel"
    return venv / "bin"


def test_the_installed_wheel_serves_the_apps_css_and_scripts(installed, tmp_path):
    port = free_port()
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(demo_tenants_toml("http://localhost:9", f"http://127.0.0.1:{port}"))
    env = {**os.environ, "SPOC_TENANTS_FILE": str(tenants), "SPOC_TOKEN_KEYS": Fernet.generate_key().decode(),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'spoc.db'}"}
    env.pop("PYTHONPATH", None)
    run(str(installed / "spoc"), "db", "upgrade", cwd=tmp_path, env=env)  # the migrations ship too
    assert (tmp_path / "spoc.db").exists()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([str(installed / "spoc"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200,
                 "spoc serve /healthz", server, tmp_path / "serve.log")
        for path in ("css/app.css", "js/summary.js", "css/family.css"):
            response = requests.get(f"http://127.0.0.1:{port}/static/{path}", timeout=5)
            assert response.status_code == 200, path
            assert response.content == (ROOT / "static" / path).read_bytes(), path
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
        log.close()

