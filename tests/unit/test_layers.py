"""The layers point the way ARCHITECTURE.md says (views -> services -> store / FHIR -> pure core):

- nothing imports the HTTP layer (views/, the filing and launch routes) but the app factory;
- views and routes reach the store and the EHR only through services;
- only services use the FHIR gateway and query plan, and only services and the store's own plumbing
  (sessions, audit) touch the store;
- fhir/ knows nothing of Flask; the app never imports the sandbox.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "smart_app"
HTTP_IN = ("smart_app.views", "smart_app.writeback.filing_routes", "smart_app.launch.routes")
COMPOSITION = {"__init__.py", "cli.py"}


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


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def offenders(where, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in modules():
        if where(path):
            bad = sorted(m for m in imported_modules(path) if m.startswith(forbidden))
            if bad:
                found[module_name(path)] = bad
    return found


def is_http_in(path: Path) -> bool:
    return module_name(path).startswith(HTTP_IN)


def test_nothing_but_the_app_factory_imports_the_http_layer():
    assert offenders(lambda p: not is_http_in(p) and p.relative_to(PACKAGE).as_posix() not in COMPOSITION,
                     HTTP_IN) == {}


def test_views_and_routes_reach_the_store_and_the_ehr_only_through_services():
    assert offenders(is_http_in, ("smart_app.store", "smart_app.fhir.gateway", "smart_app.fhir.queries",
                                  "smart_app.services.ehr_access", "smart_app.launch.tokens")) == {}


def test_only_services_use_the_fhir_gateway_and_the_query_plan():
    def outside(path: Path) -> bool:
        top = path.relative_to(PACKAGE).parts[0]
        return top not in ("services", "fhir") and path.relative_to(PACKAGE).as_posix() not in COMPOSITION

    assert offenders(outside, ("smart_app.fhir.gateway", "smart_app.fhir.queries")) == {}


def test_only_services_and_the_stores_plumbing_touch_the_store():
    plumbing = {"session.py", "audit.py", "__init__.py", "cli.py"}

    def outside(path: Path) -> bool:
        relative = path.relative_to(PACKAGE)
        return relative.parts[0] not in ("services", "store") and relative.as_posix() not in plumbing

    assert offenders(outside, ("smart_app.store",)) == {}


def test_the_fhir_layer_knows_nothing_of_flask_or_the_web_layer():
    for path in (PACKAGE / "fhir").rglob("*.py"):
        names = imported_modules(path)
        assert not [m for m in names if m.startswith(("flask", "smart_app.web", "smart_app.views"))], path


def test_services_know_nothing_of_flask():
    for path in (PACKAGE / "services").rglob("*.py"):
        names = imported_modules(path)
        assert not [m for m in names if m.startswith(("flask", "smart_app.web", "smart_app.views"))], path


def test_the_app_never_imports_the_sandbox():
    for path in PACKAGE.rglob("*.py"):
        assert not [m for m in imported_modules(path) if m.split(".")[0] == "sandbox"], path
