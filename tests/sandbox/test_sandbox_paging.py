"""The sandbox's paging: further pages are slices of the first page's matches, kept per cursor."""

from __future__ import annotations

from sandbox.state import MatchedResults, ResultLists


def ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]


def next_page(bundle: dict) -> str | None:
    url = next((l["url"] for l in bundle["link"] if l["relation"] == "next"), None)
    return url.removeprefix("http://localhost") if url else None


def all_pages(client, launched, first_url: str) -> list[str]:
    page = client.get(first_url, headers=launched.headers).json
    seen = ids(page)
    while next_page(page):
        page = client.get(next_page(page), headers=launched.headers).json
        seen += ids(page)
    return seen


def test_further_pages_are_slices_of_the_first_pages_matches_not_new_scans(client, launch, app, monkeypatch):
    launched = launch()
    scanned: list[str] = []
    store = app.extensions["sandbox"].store
    real_scan = store.scan
    monkeypatch.setattr(store, "scan", lambda kind: scanned.append(kind) or real_scan(kind))

    seen = all_pages(client, launched, "/fhir/Observation?patient=p1&_count=3")

    assert seen == [f"o{n}" for n in range(7)]
    assert scanned == ["Observation"], "only the first page scanned the type"


def test_pages_are_searched_again_when_their_result_list_is_no_longer_kept(client, launch, app):
    launched = launch()
    state = app.extensions["sandbox"]
    first = client.get("/fhir/Observation?patient=p1&_count=3", headers=launched.headers).json
    state.results = ResultLists(capacity=0)  # every kept list dropped

    second = client.get(next_page(first), headers=launched.headers).json

    assert ids(second) == ["o3", "o4", "o5"] and second["total"] == 7


def test_kept_result_lists_are_bounded_least_recently_used_first_out():
    lists = ResultLists(capacity=2)
    lists.keep("a", MatchedResults(None, ()))
    lists.keep("b", MatchedResults(None, ()))
    assert lists.get("a") is not None
    lists.keep("c", MatchedResults(None, ()))

    assert lists.get("b") is None and lists.get("a") is not None and lists.get("c") is not None
