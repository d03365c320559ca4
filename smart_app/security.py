"""Secrets at rest and in the browser: token encryption, random handles, CSRF, response headers.

Layer: shell services.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import ConfigError

BROWSER_COOKIE = "spoc_browser"
# The browser cookie holds the ids of this browser's recent launches, newest first: each launch is
# bound to an id of its own, so tabs opened on other charts keep theirs (R29).
BROWSER_IDS_KEPT = 8
_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{32}")


class TokenCipher:
    """Encrypts OAuth tokens for the store. Several keys allow rotation: the first encrypts."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ConfigError("No token encryption key: set SPOC_TOKEN_KEYS (see README).")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as err:
            raise ConfigError("SPOC_TOKEN_KEYS must hold Fernet keys (spoc keys new makes one).") from err

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, value: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(value)).decode()
        except InvalidToken as err:
            raise ConfigError("A stored token cannot be decrypted with the configured keys.") from err


def new_handle() -> str:
    """A random opaque handle: 192 bits from the OS CSPRNG (R6, R28)."""
    return secrets.token_urlsafe(24)


def browser_ids(cookie: str | None) -> tuple[str, ...]:
    """The browser ids a browser cookie holds, newest first."""
    return tuple(part for part in (cookie or "").split(".") if part)[:BROWSER_IDS_KEPT]


def with_new_browser_id(cookie: str | None) -> tuple[str, str]:
    """A fresh browser id for a launch, and the cookie value that puts it first.

    The id is never one the browser sent (session fixation); ids it sent are kept behind it only
    when they look like ids the app makes, so earlier launches in other tabs stay open."""
    fresh = new_handle()
    kept = [i for i in browser_ids(cookie) if _BROWSER_ID.fullmatch(i)][: BROWSER_IDS_KEPT - 1]
    return fresh, ".".join((fresh, *kept))


def new_state() -> str:
    """OAuth `state`: 256 bits (R6 asks for ≥128)."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """SHA-256 hex, for storing and logging handles without the handle itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def same_secret(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


# Path segments that are credentials: a launch handle, a family-copy link token (a bearer link).
_SECRET_SEGMENT = re.compile(r"/(p|copy)/[^/\s?#\"'<>]+")
_IN_TEXT = (
    (_SECRET_SEGMENT, r"/\1/~"),
    (re.compile(r"(?<=[\w/.-])\?[^\s\"'<>]+"), ""),  # a query string
    (re.compile(r"\bBearer\s+[^\s\"',;]+", re.IGNORECASE), "Bearer ~"),
    (re.compile(r"\beyJ[\w-]*\.[\w-]*\.[\w-]*"), "~"),  # a JWT
    (re.compile(r"^DETAIL:.*$", re.MULTILINE), "DETAIL: ~"),  # PostgreSQL quotes the row or key it refused
    (re.compile(r"\b(?:code|state|launch|access_token|refresh_token|id_token|client_assertion|client_secret)"
                r"=[^&\s\"']*"), "~"),
)


def redact_path(path: str) -> str:
    """A request path fit for an access log: no query string, no launch handle or link token (R64)."""
    return _SECRET_SEGMENT.sub(r"/\1/~", path.split("?", 1)[0])


def redact_text(text: str) -> str:
    """Any log text with the same removed, and bearer tokens, JWTs and OAuth values besides."""
    for pattern, replacement in _IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


class _Redact(logging.Filter):
    """Redacts each record's message and traceback before any handler writes it (error lines too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_text(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def redact_log_handlers(*loggers: logging.Logger) -> None:
    """Put the redacting filter on every handler of these loggers (the root logger by default)."""
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not any(isinstance(f, _Redact) for f in handler.filters):
                handler.addFilter(_Redact())
