"""Hostile text (issue 12, items 3 and 10): what XML 1.0 cannot carry is dropped at the doors, and bidi
controls never reorder anything outside the value that carries them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from smart_app.plan.text import BIDI_CONTROLS, clean_text, isolated

FSI, PDI, PDF = "\u2068", "\u2069", "\u202c"
LRE, RLE, LRO, RLO = "\u202a", "\u202b", "\u202d", "\u202e"
LRI, RLI = "\u2066", "\u2067"
OPENERS = {LRE: PDF, RLE: PDF, LRO: PDF, RLO: PDF, LRI: PDI, RLI: PDI, FSI: PDI}
# XML 1.0's Char production, as a pattern for what a value may still hold.
XML_CHAR = re.compile("[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def balanced(text: str) -> bool:
    """True when every embedding, override and isolate in `text` is closed inside it, in order, and
    nothing closes what `text` did not open (per the Unicode bidi algorithm's matching rules)."""
    stack: list[str] = []
    for char in text:
        if char in OPENERS:
            stack.append(char)
        elif char == PDF:
            if not stack or OPENERS[stack[-1]] != PDF:
                return False
            stack.pop()
        elif char == PDI:
            if PDI not in (OPENERS[o] for o in stack):
                return False
            while OPENERS[stack.pop()] != PDI:
                pass
    return not stack


def test_nul_esc_bel_and_noncharacters_are_dropped_and_tab_newline_return_kept():
    assert clean_text("Epilepsy\x00\x1b[31m\x07 and\ufffe\uffff asthma") == "Epilepsy[31m and asthma"
    assert clean_text("line one\r\n\tline two") == "line one\r\n\tline two"


def test_c1_controls_delete_and_lone_surrogates_are_dropped():
    assert clean_text("a\x7fb\x85c\x9fd\ud800e\udfffz") == "abcdez"


def test_astral_characters_and_ordinary_non_latin_text_are_kept():
    text = "Ana Lucía 🎵 عربي 中文 \U0001f600"
    assert clean_text(text) == text


@given(st.text())
def test_cleaned_text_is_always_xml_and_cleaning_twice_changes_nothing(text):
    cleaned = clean_text(text)
    assert XML_CHAR.fullmatch(cleaned)
    assert clean_text(cleaned) == cleaned
    root = ET.fromstring(ET.tostring(_element(cleaned), encoding="unicode"))
    assert (root.text or "").replace("\r", "\n") == cleaned.replace("\r\n", "\n").replace("\r", "\n")


def _element(text: str) -> ET.Element:
    element = ET.Element("p")
    element.text = text
    return element


def test_an_override_left_open_is_closed_at_the_end_of_the_value():
    assert clean_text(f"{RLO}gnp.exe") == f"{RLO}gnp.exe{PDF}"
    assert clean_text(f"a{RLI}b{LRE}c") == f"a{RLI}b{LRE}c{PDF}{PDI}"


def test_closers_that_close_nothing_the_value_opened_are_dropped():
    assert clean_text(f"x{PDI}y{PDF}z") == "xyz"
    assert clean_text(f"{RLI}a{PDF}b{PDI}") == f"{RLI}ab{PDI}"  # a PDF cannot reach out of an isolate


def test_a_pdi_also_closes_the_embeddings_opened_inside_its_isolate():
    assert clean_text(f"{RLI}a{RLO}b{PDI}c") == f"{RLI}a{RLO}b{PDF}{PDI}c"


def test_text_without_bidi_controls_is_shown_as_it_is():
    assert isolated("Epilepsy (focal) <b>") == "Epilepsy (focal) <b>"
    assert isolated("") == ""


def test_a_value_with_a_bidi_control_is_isolated_and_closed():
    assert isolated(f"{RLO}gnp.exe") == f"{FSI}{RLO}gnp.exe{PDF}{PDI}"


def test_what_a_form_shows_and_sends_back_unchanged_stays_the_same_text():
    typed = clean_text(f"{RLO}gnp.exe")
    assert clean_text(isolated(typed)) == typed
    assert clean_text(isolated(isolated(typed))) == typed


@given(st.text(alphabet=st.sampled_from([*OPENERS, PDF, PDI, "a", " ", "\u05d0", "\n"])))
def test_every_shown_value_is_balanced_and_round_trips_through_a_form(text):
    shown = isolated(text)
    assert balanced(shown)
    assert not any(c in BIDI_CONTROLS for c in text) or (shown.startswith(FSI) and shown.endswith(PDI))
    assert clean_text(isolated(clean_text(text))) == clean_text(text)
