"""Many people edit one plan through two app processes on one PostgreSQL (issues 4 and 16): edits of
different items all land, whatever the versions they were made on; edits of the same item either land
or are reported to their author with the field in question; none disappears."""

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
TIMEOUT_S = 60  # twenty people on two small processes: a save may wait its turn


@dataclass
class Editor:
    """One person in one browser, on one app process."""

    name: str
    app_url: str
    cookie: str = ""
    base: str = ""
    outcomes: list[tuple[str, int]] = field(default_factory=list)  # (marker, HTTP status)

    def page(self) -> str:
        response = requests.get(f"{self.base}plan", headers={"Cookie": self.cookie}, timeout=TIMEOUT_S)
        assert response.status_code == 200, response.text[:500]
        return response.text

    def post(self, data: dict) -> requests.Response:
        return requests.post(f"{self.base}plan", data=data, headers={"Cookie": self.cookie}, allow_redirects=False,
                             timeout=TIMEOUT_S)


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


def csrf_and_base(html: str) -> tuple[str, str]:
    return (re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            re.search(r'name="base_version" value="(\d*)"', html).group(1))


def edit_own_goal(editor: Editor, goal_id: str, edits: int, start: threading.Barrier) -> None:
    """Reword one's own goal `edits` times, each from the page the save redirects to: with twenty people
    saving, that version is usually stale by the time the next save arrives."""
    start.wait()
    for i in range(edits):
        token, base = csrf_and_base(editor.page())
        marker = f"{editor.name} edit {i}"
        response = editor.post({"command": "edit-goal", "goal_id": goal_id, "text": marker, "kind": "clinical",
                                "csrf_token": token, "base_version": base})
        assert response.status_code in (303, 409), response.text.split('id="main"')[-1][:800]
        editor.outcomes.append((marker, response.status_code))


def edit_shared_goals(editor: Editor, goals: list[str], seed: int, edits: int, start: threading.Barrier) -> None:
    rng = random.Random(seed)
    start.wait()
    for i in range(edits):
        token, base = csrf_and_base(editor.page())
        marker = f"{editor.name} edit {i} {rng.randrange(10**6)}"
        threading.Event().wait(rng.uniform(0, 0.02))  # think time: others often save in between
        response = editor.post({"command": "edit-goal", "goal_id": rng.choice(goals), "text": marker,
                                "kind": "clinical", "csrf_token": token, "base_version": base})
        assert response.status_code in (303, 409), response.text.split('id="main"')[-1][:800]
        if response.status_code == 409:
            assert "not</strong> saved" in response.text and marker in response.text  # told, and input kept
            assert 'data-testid="conflict-row"' in response.text  # the field in question, side by side
        editor.outcomes.append((marker, response.status_code))


def a_plan_with_goals(editor: Editor, count: int) -> list[str]:
    token, _ = csrf_and_base(editor.page())
    assert editor.post({"command": "start-plan", "base_version": "", "csrf_token": token}).status_code == 303
    for n in range(count):
        token, base = csrf_and_base(editor.page())
        assert editor.post({"command": "add-goal", "text": f"Goal {n}", "csrf_token": token,
                            "base_version": base}).status_code == 303
    return list(dict.fromkeys(re.findall(r'name="goal_id" value="([^"]+)"', editor.page())))


def plan_history(database_url: str, iss: str):
    engine = create_engine(database_url)
    try:
        store = PlanStore(engine)  # the database is shared with other tests: find this site's plan
        return store.history(store.current(iss, CHILD).plan_id)
    finally:
        engine.dispose()


WRITERS = 20
EDITS_EACH = 50


def run_all(threads: list[threading.Thread]) -> list[BaseException]:
    """Start and join the threads; the exceptions they raised (a thread's failure is the test's)."""
    failures: list[BaseException] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: failures.append(args.exc_value)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(900)
    finally:
        threading.excepthook = previous
    return failures


def test_twenty_people_editing_their_own_goals_on_two_processes_never_see_a_conflict_and_lose_nothing(
        postgres_database, tmp_path):
    with sandbox_and_two_instances(postgres_database, tmp_path) as instances:
        editors = [Editor(f"Writer {n}", (instances.a if n % 2 else instances.b).url) for n in range(WRITERS)]
        for editor in editors:
            launch_editor(editor, instances.ehr_url, "jordan-lee")
        goals = a_plan_with_goals(editors[0], WRITERS)
        barrier = threading.Barrier(WRITERS)
        failures = run_all([threading.Thread(target=edit_own_goal, args=(e, g, EDITS_EACH, barrier))
                            for e, g in zip(editors, goals, strict=True)])
        assert failures == []
        history = plan_history(postgres_database, f"{instances.ehr_url}/fhir")

    outcomes = [o for e in editors for o in e.outcomes]
    assert len(outcomes) == WRITERS * EDITS_EACH
    assert [m for m, status in outcomes if status != 303] == []  # 0 conflict pages
    seen = {goal.text for version in history for goal in version.plan.goals}
    assert {m for m, _ in outcomes} <= seen  # 0 lost: every edit is in some version
    final = {goal.goal_id: goal.text for goal in history[-1].plan.goals}
    assert [final[g] for g in goals] == [f"{e.name} edit {EDITS_EACH - 1}" for e in editors]


def test_people_editing_the_same_goals_see_every_overlap_and_lose_nothing(postgres_database, tmp_path):
    with sandbox_and_two_instances(postgres_database, tmp_path) as instances:
        editors = [Editor(f"Writer {n}", (instances.a if n % 2 else instances.b).url) for n in range(6)]
        for editor in editors:
            launch_editor(editor, instances.ehr_url, "jordan-lee")
        goals = a_plan_with_goals(editors[0], 2)
        barrier = threading.Barrier(len(editors))
        failures = run_all([threading.Thread(target=edit_shared_goals, args=(e, goals, n, 25, barrier))
                            for n, e in enumerate(editors)])
        assert failures == []
        history = plan_history(postgres_database, f"{instances.ehr_url}/fhir")

    outcomes = [o for e in editors for o in e.outcomes]
    landed = {marker for marker, status in outcomes if status == 303}
    refused = {marker for marker, status in outcomes if status == 409}
    assert landed and refused, "the run should have produced both saves and reported overlaps"
    seen = {goal.text for version in history for goal in version.plan.goals}
    assert landed <= seen  # every landed edit is in the history
    assert not (refused & seen)  # no refused edit slipped in
    assert len(history) == 1 + len(goals) + len(landed)  # one version per landed edit, nothing else
