"""Two people edit one plan through two app processes on one PostgreSQL, 200+ interleaved edits:
every edit either lands or is reported to its author as a conflict; none disappears (issue 4)."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

import pytest
import requests

from smart_app.store import create_engine
from smart_app.store.plan_store import PlanStore
from tests.processes import cookie_from, sandbox_and_two_instances

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CHILD = "sofia-rivera"
EDITS_PER_USER = 110


@dataclass
class Editor:
    """One person in one browser, on one app process."""

    name: str
    app_url: str
    cookie: str = ""
    base: str = ""
    outcomes: list[tuple[str, int]] = field(default_factory=list)  # (marker, HTTP status)

    def page(self) -> str:
        response = requests.get(f"{self.base}plan", headers={"Cookie": self.cookie}, timeout=10)
        assert response.status_code == 200, response.text[:500]
        return response.text

    def post(self, data: dict) -> requests.Response:
        return requests.post(f"{self.base}plan", data=data, headers={"Cookie": self.cookie}, allow_redirects=False,
                             timeout=10)


def launch_editor(editor: Editor, ehr_url: str, user: str) -> None:
    issued = requests.post(f"{ehr_url}/_sandbox/launches", json={"patient": CHILD, "user": user}, timeout=5).json()
    start = requests.get(f"{editor.app_url}/launch", params={"iss": issued["iss"], "launch": issued["launch"]},
                         allow_redirects=False, timeout=10)
    editor.cookie = cookie_from(start)
    callback = requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"]
    # the callback goes to this editor's own process (the redirect URI names process A)
    callback = re.sub(r"^http://127\.0\.0\.1:\d+", editor.app_url, callback)
    landed = requests.get(callback, headers={"Cookie": editor.cookie}, allow_redirects=False, timeout=10)
    assert landed.status_code == 303, landed.text[:300]
    editor.base = f"{editor.app_url}{re.search(r'(/p/[A-Za-z0-9_-]+/)', landed.headers['Location']).group(1)}"
    html = editor.page()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    chosen = requests.post(f"{editor.base}plan/role", data={"role": "coordinator", "csrf_token": token},
                           headers={"Cookie": editor.cookie}, allow_redirects=False, timeout=10)
    assert chosen.status_code == 303


def edit_many(editor: Editor, seed: int, start: threading.Barrier) -> None:
    rng = random.Random(seed)
    start.wait()
    for i in range(EDITS_PER_USER):
        html = editor.page()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        base = re.search(r'name="base_version" value="(\d*)"', html).group(1)
        goals = re.findall(r'name="goal_id" value="([^"]+)"', html)
        marker = f"{editor.name} edit {i} {rng.randrange(10**6)}"
        if goals and rng.random() < 0.5:
            data = {"command": "edit-goal", "goal_id": rng.choice(goals), "text": marker}
        else:
            data = {"command": "add-goal", "text": marker}
        if rng.random() < 0.7:  # think time, so the other person often saves in between
            threading.Event().wait(rng.uniform(0, 0.02))
        response = editor.post({**data, "csrf_token": token, "base_version": base})
        assert response.status_code in (303, 409), response.text[:500]
        if response.status_code == 409:
            assert "not</strong> saved" in response.text and marker in response.text  # told, and input kept
        editor.outcomes.append((marker, response.status_code))


def test_two_people_two_processes_200_edits_none_lost(postgres_database, tmp_path):
    with sandbox_and_two_instances(postgres_database, tmp_path) as instances:
        ehr_url = instances.ehr_url
        jordan, rosa = Editor("Jordan", instances.a.url), Editor("Rosa", instances.b.url)
        launch_editor(jordan, ehr_url, "jordan-lee")
        launch_editor(rosa, ehr_url, "rosa-delgado")
        html = jordan.page()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        assert jordan.post({"command": "start-plan", "base_version": "", "csrf_token": token}).status_code == 303
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=edit_many, args=(e, s, barrier)) for e, s in ((jordan, 1), (rosa, 2))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)

    outcomes = jordan.outcomes + rosa.outcomes
    assert len(outcomes) == 2 * EDITS_PER_USER >= 200
    landed = {marker for marker, status in outcomes if status == 303}
    refused = {marker for marker, status in outcomes if status == 409}
    assert landed and refused, "the run should have produced both saves and conflicts"

    engine = create_engine(postgres_database)
    try:
        store = PlanStore(engine)  # the database is shared with other tests: find this site's plan
        history = store.history(store.current(f"{ehr_url}/fhir", CHILD).plan_id)
    finally:
        engine.dispose()
    assert len(history) == 1 + len(landed)  # one version per landed edit, nothing else
    seen = {goal.text for version in history for goal in version.plan.goals}
    assert landed <= seen  # every landed edit is in the history
    assert not (refused & seen)  # no refused edit slipped in
    for earlier, later in zip(history, history[1:]):  # each version is exactly one edit on the one before
        new_texts = {g.text for g in later.plan.goals} - {g.text for g in earlier.plan.goals}
        assert len(new_texts) == 1 and new_texts <= landed
