"""Browser ids in the browser cookie, and what log lines may carry."""

from __future__ import annotations

from smart_app.security import BROWSER_IDS_KEPT, browser_ids, with_new_browser_id


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
