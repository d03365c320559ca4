"""Positions, section states and overdue each have their own colour and their own icon, never colour alone."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

ROOT = Path(__file__).resolve().parents[3]
KINDS = ("agree", "amend", "decline", "comment", "none", "failed", "incomplete", "overdue")


def rendered(kind: str, text: str) -> str:
    env = Environment(loader=FileSystemLoader(ROOT / "smart_app" / "templates"), autoescape=True)
    return env.from_string('{% from "_signals.html" import signal %}{{ signal(kind, text) }}').render(
        kind=kind, text=text)


def test_each_signal_has_its_own_icon_and_says_it_in_words():
    icons = {}
    for kind in KINDS:
        html = rendered(kind, f"words for {kind}")
        assert f'class="signal signal-{kind}"' in html and f'<span class="signal-text">words for {kind}</span>' in html
        icons[kind] = re.search(r'<span class="signal-icon" aria-hidden="true">(.+?)</span>', html).group(1)
    assert len(set(icons.values())) == len(KINDS), icons


def test_each_signal_has_its_own_colour():
    css = (ROOT / "static" / "css" / "app.css").read_text()
    colours = {kind: re.search(rf"\.signal-{kind} {{ --signal: (#[0-9a-f]{{6}});", css).group(1) for kind in KINDS}
    assert len(set(colours.values())) == len(KINDS), colours


def test_the_pages_use_the_signals_for_positions_states_and_overdue():
    templates = ROOT / "smart_app" / "templates"
    review = (templates / "review" / "show.html").read_text()
    assert 'signal(cell.stance or "none", cell.stance_label)' in review and 'signal("overdue"' in review
    section = (templates / "summary" / "_section.html").read_text()
    assert 'signal("failed"' in section and 'signal("incomplete"' in section
    assert 'signal("overdue"' in (templates / "tracking" / "show.html").read_text()
