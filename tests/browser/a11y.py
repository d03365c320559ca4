"""axe-core (bundled by axe-playwright-python) run inside the app's frame: the violations it finds."""

from __future__ import annotations

from importlib import resources

AXE_SOURCE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe_violations(frame) -> list[str]:
    """One line per violation ("rule: help (n nodes)") for the document in `frame` (a Frame or Page)."""
    frame.evaluate(AXE_SOURCE)
    found = frame.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
            f"{', '.join(n['target'][0] if isinstance(n['target'][0], str) else str(n['target'][0]) for n in v['nodes'][:3])})"
            for v in found]
