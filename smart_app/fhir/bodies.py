"""JSON bodies from an EHR, read and parsed within size and depth limits: FHIR answers (through the
gateway), discovery documents, token answers and id_token keys alike.

Layer: FHIR out. Imports requests, smart_app.errors and the standard library.
"""

from __future__ import annotations

import json
from itertools import accumulate
from typing import Any

import requests

from smart_app.errors import FhirAccessError

UNREADABLE = "The EHR sent an answer the app could not read."
MAX_BODY_BYTES = 50 * 1024 * 1024  # far above any page of a FHIR search; bounds what one answer can cost
MAX_JSON_DEPTH = 100  # FHIR nests a few dozen levels at most; 200,000 nested arrays raised RecursionError

_STRUCTURE = b'"[]{}'
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in _STRUCTURE)
_OPEN_CLOSE = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def parse_ehr_json(body: bytes) -> Any:
    """JSON from an EHR (FHIR, discovery, token, keys), refused past the size and depth limits.

    Raises FhirAccessError (UNREADABLE) for anything it will not parse."""
    check_ehr_body(body)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: a deep stack already, even within the limit
        raise FhirAccessError(UNREADABLE) from None


def check_ehr_body(body: bytes) -> None:
    """Refuse a body over MAX_BODY_BYTES or nested deeper than MAX_JSON_DEPTH, before anything parses it."""
    if len(body) > MAX_BODY_BYTES:
        raise FhirAccessError(UNREADABLE)
    encoding = json.detect_encoding(body)
    try:
        utf8 = body if encoding.startswith("utf-8") else body.decode(encoding).encode()
    except UnicodeDecodeError:
        raise FhirAccessError(UNREADABLE) from None
    if _nesting_depth(utf8) > MAX_JSON_DEPTH:
        raise FhirAccessError(UNREADABLE)


def _nesting_depth(utf8: bytes) -> int:
    """How deep brackets nest outside JSON strings: linear, in C-speed passes, and no recursion.

    With escaped backslashes and then escaped quotes gone, the quotes left delimit the strings."""
    unescaped = utf8.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.translate(None, _NOT_STRUCTURE).split(b'"')[::2])
    return max(accumulate(memoryview(outside_strings.translate(_OPEN_CLOSE)).cast("b")), default=0)


def read_within_limit(response: requests.Response) -> requests.Response:
    """Read a streamed response's body, giving up past MAX_BODY_BYTES rather than holding it all."""
    declared = response.headers.get("Content-Length", "")
    too_large = declared.isdigit() and int(declared) > MAX_BODY_BYTES
    body = bytearray()
    for chunk in () if too_large else response.iter_content(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            too_large = True
            break
    if too_large:
        response.close()
        raise FhirAccessError(UNREADABLE)
    response._content = bytes(body)  # as requests does itself when not streaming
    return response
