"""`-m browser` selects the browser tests and only them (a pytestmark in a conftest marked nothing)."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT


def test_minus_m_browser_selects_the_browser_tests_and_nothing_else():
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-m", "browser",
         "tests/browser/test_launch_in_frame.py", "tests/unit/test_layers.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    selected = [line for line in out.splitlines() if "::" in line]
    assert selected and all(line.startswith("tests/browser/test_launch_in_frame.py::") for line in selected), out
