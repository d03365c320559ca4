"""Browser ids in the browser cookie, and what log lines may carry."""

from __future__ import annotations

import pytest

from smart_app.security import (
    BROWSER_IDS_KEPT,
    browser_ids,
    redact_path,
    redact_text,
    with_new_browser_id,
)
from tests.support import through_redacting_handler


def test_every_launch_gets_a_fresh_browser_id_put_before_the_ones_the_browser_holds():
    first, cookie = with_new_browser_id(None)
    assert cookie == first and len(first) == 32
    second, cookie = with_new_browser_id(cookie)
    assert second != first and browser_ids(cookie) == (second, first)


def test_the_cookie_keeps_a_few_recent_ids_and_drops_what_the_app_never_makes():
    cookie = ".".join(["x" * 32] * 20 + ["<script>", "short", ""])
    fresh, cookie = with_new_browser_id(cookie)
    ids = browser_ids(cookie)
    assert ids[0] == fresh and len(ids) == BROWSER_IDS_KEPT
    assert all(i == "x" * 32 for i in ids[1:])
    _, cookie = with_new_browser_id("<script>.short")
    assert len(browser_ids(cookie)) == 1


# -- log lines ----------------------------------------------------------------------------------

HANDLE = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"
LINK = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6.1767225600.bG9uZ3NpZ25hdHVyZXN0cmluZ2hlcmVmb3J0aGVsaW5r"


@pytest.mark.parametrize(("path", "logged"), [
    (f"/p/{HANDLE}/sections", "/p/~/sections"),
    (f"/copy/{LINK}", "/copy/~"),
    (f"/copy/{LINK}/pdf", "/copy/~/pdf"),
    ("/callback?code=abc&state=def", "/callback"),
    ("/healthz", "/healthz"),
])
def test_an_access_log_path_keeps_no_handle_link_token_or_query(path, logged):
    assert redact_path(path) == logged


def test_error_lines_lose_handles_link_tokens_queries_and_bearer_tokens():
    line = (f"Error handling request GET /p/{HANDLE}/full?lang=es; opened /copy/{LINK}/pdf; "
            f"/callback?code=c0de&state=5tate; Authorization: Bearer abc.def-ghi; code=c0de&state=5tate; "
            "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    redacted = redact_text(line)
    for secret in (HANDLE, LINK, "c0de", "5tate", "abc.def-ghi", "eyJ", "code=", "state=", "lang=es"):
        assert secret not in redacted, secret
    assert "Error handling request GET /p/~/full" in redacted and "/copy/~/pdf" in redacted


def test_a_redacting_handler_redacts_messages_arguments_and_tracebacks():
    def emit(logger):
        try:
            raise RuntimeError(f"no such launch /p/{HANDLE}/")
        except RuntimeError:
            logger.exception("Error handling request %s %s", "GET", f"/p/{HANDLE}/sections?code=c0de")

    text = through_redacting_handler(emit)
    assert "Error handling request GET /p/~/sections" in text and "RuntimeError: no such launch /p/~/" in text
    assert HANDLE not in text and "c0de" not in text
