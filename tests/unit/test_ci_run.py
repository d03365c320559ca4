"""CI installs what the tests need (issue 12, item 14): every program a test runs is checked for, one by
one, in .ci/run, so a machine that has Chromium but lacks poppler-utils still gets pdftoppm."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNERS = {"run", "Popen", "check_output", "check_call", "call", "which"}


def programs_the_tests_run() -> dict[str, str]:
    """Program name -> the first test file that runs it: the literal first word of a subprocess or
    shutil.which call, and any literal /usr/bin/ path (Playwright's executable_path)."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = ""
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS \
                    and node.args:
                first = node.args[0]
                if isinstance(first, ast.List | ast.Tuple) and first.elts:
                    first = first.elts[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    name = first.value
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.fullmatch(r"/usr/bin/[\w.+-]+", node.value):
                name = node.value.rsplit("/", 1)[1]
            if name and "/" not in name:
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_program_a_test_runs_is_checked_for_on_its_own_in_ci():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    checked = set(re.findall(r"command -v ([\w.+-]+)", script))
    programs = programs_the_tests_run()
    assert {"chromium", "pdftoppm", "pdftotext", "node"} <= set(programs)  # the scan finds what we know is there
    unchecked = {name: where for name, where in programs.items() if name not in checked}
    assert not unchecked, f".ci/run never checks for these (program: a test that runs it): {unchecked}"


LIBRARIES = ("fonts-dejavu-core", "libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0")
PROGRAMS = {"chromium", "pdftoppm", "pdftotext", "node", "npm"}


def run_ci(tmp_path: Path, programs: set[str], packages: set[str]) -> list[str]:
    """.ci/run on a machine that has `programs` and `packages`, with apt-get and make stubbed: what it
    asked apt-get to do, one line per call."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    stubs = {name: "exit 0" for name in programs} | {
        "apt-get": f'echo "$*" >> {calls}',
        "dpkg": f'case " {" ".join(packages)} " in *" $2 "*) exit 0;; *) exit 1;; esac',
        "make": "exit 0",
    }
    for name, body in stubs.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    for tool in ("dirname", "sort", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    subprocess.run(["/bin/bash", str(ROOT / ".ci" / "run")], env={"PATH": str(bin_dir)}, check=True, timeout=30)
    return calls.read_text().splitlines() if calls.exists() else []


def test_a_machine_with_chromium_but_no_poppler_gets_poppler(tmp_path):
    calls = run_ci(tmp_path, PROGRAMS - {"pdftoppm", "pdftotext"}, set(LIBRARIES))
    assert calls[-1].split() == ["install", "-y", "-qq", "poppler-utils"]


def test_a_machine_missing_one_library_gets_that_library(tmp_path):
    calls = run_ci(tmp_path, PROGRAMS, set(LIBRARIES) - {"libharfbuzz-subset0"})
    assert calls[-1].split() == ["install", "-y", "-qq", "libharfbuzz-subset0"]


def test_a_machine_with_everything_installs_nothing(tmp_path):
    assert run_ci(tmp_path, PROGRAMS, set(LIBRARIES)) == []
