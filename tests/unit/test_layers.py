"""The layers point the way ARCHITECTURE.md says: nothing imports views/ or writeback/ (but the app
factory that registers them), and fhir/ knows nothing of Flask."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "smart_app"


def imported_modules(path: Path) -> set[str]:
    """Absolute dotted names of everything `path` imports (relative imports resolved)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, node.module) if node.module else base)
            names.add(module)
            names |= {f"{module}.{a.name}" for a in node.names}
    return names


def modules_outside(folder: str):
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] != folder and relative != Path("__init__.py"):
            yield path


def test_nothing_but_the_app_factory_imports_views_or_writeback():
    for folder in ("views", "writeback"):
        offenders = [p for p in modules_outside(folder)
                     if any(m.startswith(f"smart_app.{folder}") for m in imported_modules(p))]
        assert offenders == [], f"{folder}/ is imported by {offenders}"


def test_the_fhir_layer_knows_nothing_of_flask_or_the_web_layer():
    for path in (PACKAGE / "fhir").rglob("*.py"):
        names = imported_modules(path)
        assert not [m for m in names if m.startswith(("flask", "smart_app.web", "smart_app.views"))], path


def test_the_app_never_imports_the_sandbox():
    for path in PACKAGE.rglob("*.py"):
        assert not [m for m in imported_modules(path) if m.split(".")[0] == "sandbox"], path
