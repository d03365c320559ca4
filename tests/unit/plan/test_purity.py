"""The pure core imports only the standard library and itself, and reads no clock."""

import ast
import sys
from pathlib import Path

PLAN = Path(__file__).resolve().parents[3] / "smart_app" / "plan"


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def test_the_plan_package_has_modules_to_check():
    assert (PLAN / "summary.py").exists() and (PLAN / "fhir_text.py").exists()


def test_plan_modules_import_only_the_standard_library_and_smart_app_plan():
    for path in sorted(PLAN.rglob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or name == "smart_app.plan"
                or name.startswith("smart_app.plan.")
            )
            assert allowed, f"{path.name} imports {name}"


def test_plan_modules_do_not_read_the_clock():
    for path in sorted(PLAN.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for call in ("date.today(", "datetime.now(", "datetime.utcnow(", "time.time("):
            assert call not in source, f"{path.name} calls {call}"
