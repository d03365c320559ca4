"""Text from outside the app (the EHR, a typed form), made safe to store, show and file.

Layer: pure core (smart_app.plan). Imports: stdlib only.

- `clean_text` runs at both doors (every posted form value, every string read from FHIR JSON). It drops
  what XML 1.0 cannot carry, so a plan can always be filed as XHTML and PostgreSQL (which refuses NUL)
  can always store it, and it closes any bidi embedding, override or isolate the value leaves open.
- `isolated` runs where text is shown (HTML pages, the filed narrative): a value holding bidi controls
  is wrapped in an isolate, so it cannot reorder what stands around it (U+202E then "gnp.exe" reads
  "exe.png", and would turn the words after it around too).
"""

from __future__ import annotations

import re

# C0 controls but TAB, LF and CR; DEL and the C1 controls; lone surrogates; noncharacters (XML 1.0 Char
# excludes U+FFFE/U+FFFF, and the others are never text).
_NONCHARACTERS = "".join(chr(plane + low) for plane in range(0x10000, 0x110000, 0x10000) for low in (0xFFFE, 0xFFFF))
_UNWANTED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff{_NONCHARACTERS}]")

LRE, RLE, PDF, LRO, RLO = "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
_EMBEDDINGS = frozenset({LRE, RLE, LRO, RLO})  # closed by PDF
_ISOLATES = frozenset({LRI, RLI, FSI})  # closed by PDI
BIDI_CONTROLS = _EMBEDDINGS | _ISOLATES | {PDF, PDI}
_ANY_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")  # a search in C: most text has none


def clean_text(value: str) -> str:
    """`value` without control characters (TAB, LF, CR kept), lone surrogates or noncharacters, with
    every bidi control it opens closed, stray closers dropped, and no isolate around the whole of it
    (the one `isolated` adds for display comes off again when a form sends the value back)."""
    text = _UNWANTED.sub("", value)
    if not _ANY_BIDI_CONTROL.search(text):
        return text
    text = _balanced(text)
    while text.startswith(FSI) and _closing_index(text) == len(text) - 1:
        text = text[1:-1]
    return text


def isolated(value: str) -> str:
    """`value` as it is shown: unchanged without bidi controls, else closed and wrapped in FSI…PDI."""
    if not _ANY_BIDI_CONTROL.search(value):
        return value
    return f"{FSI}{_balanced(value)}{PDI}"


def shortened(text: str, limit: int = 60) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis when longer: to name an item in a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _balanced(text: str) -> str:
    """Per the Unicode bidi algorithm: a PDF closes the last embedding unless an isolate opened since;
    a PDI closes the last open isolate and every embedding inside it. Whatever is left open is closed
    at the end; a closer with nothing to close is dropped."""
    out: list[str] = []
    opened: list[str] = []
    for char in text:
        if char in _EMBEDDINGS or char in _ISOLATES:
            opened.append(char)
        elif char == PDF:
            if not opened or opened[-1] not in _EMBEDDINGS:
                continue
            opened.pop()
        elif char == PDI:
            if not any(o in _ISOLATES for o in opened):
                continue
            while opened[-1] in _EMBEDDINGS:
                out.append(PDF)
                opened.pop()
            opened.pop()
        out.append(char)
    out.extend(PDF if o in _EMBEDDINGS else PDI for o in reversed(opened))
    return "".join(out)


def _closing_index(text: str) -> int:
    """Where the isolate opened by text[0] is closed, in balanced text; -1 if it is not."""
    depth = 0
    for index, char in enumerate(text):
        if char in _ISOLATES:
            depth += 1
        elif char == PDI:
            depth -= 1
            if depth == 0:
                return index
    return -1
