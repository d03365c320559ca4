"""What a broken or hostile EHR sends cannot take the app down: a body nested 200,000 deep fails the
search it answered, alone and with a plain note, and every page still answers (issue 12, items 2 and 11).

Layer: end to end (Flask test client) against the sandbox EHR on a loopback port, its faults set live.
"""

from __future__ import annotations

import json

import pytest

from tests.support import launch, launch_id_of

CHILD = "sofia-rivera"
NESTED = "[" * 200_000 + "]" * 200_000
PAGES = ("/", "/full", "/about", "/family-copy", "/family-copy.pdf", "/progress", "/plan")


def sections(client, launch_id: str) -> dict[str, str]:
    response = client.get(f"/p/{launch_id}/sections")
    assert response.status_code == 200
    return {m["key"]: m["html"] for m in map(json.loads, response.get_data(as_text=True).splitlines())}


def test_a_search_answered_with_json_nested_200000_deep_fails_only_its_section(client, sandbox):
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    sandbox.control("config", {"faults": [
        {"path_regex": r"^/fhir/AllergyIntolerance", "status": 200, "body": NESTED, "times": -1}]})
    html = sections(client, launch_id)
    assert "done" in html  # the stream ran to its end
    assert 'data-state="failed"' in html["allergies"] and "could not return this section" in html["allergies"]
    assert 'data-state="complete"' in html["conditions"] and 'data-state="complete"' in html["medications"]


@pytest.mark.parametrize("fault", [
    {"status": 200, "body": NESTED},
    {"status": 503},  # item 11: 503 on everything
], ids=["nested-json", "503"])
def test_when_every_ehr_answer_is_broken_every_section_is_flagged_and_no_page_answers_500(client, sandbox, fault):
    launch_id = launch_id_of(launch(client, sandbox, CHILD))
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/", "times": -1, **fault}]})
    html = sections(client, launch_id)
    flagged = {key for key, part in html.items() if 'data-state="failed"' in part}
    assert flagged >= set(html) - {"banner", "done", "patient"}, sorted(set(html) - flagged)
    for page in PAGES:
        response = client.get(f"/p/{launch_id}{page}")
        assert response.status_code < 500, (page, response.status_code)
