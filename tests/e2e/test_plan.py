"""Goals and negotiated actions through the app (issue 4): roles, editing, side-by-side review,
sign-off and freezing, and no lost edits on a stale save. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.support import TODAY, launch, launch_id_of

CHILD = "sofia-rivera"


class PlanUser:
    """One person in one browser, launched from the chart, working in one role."""

    def __init__(self, app, sandbox, role: str, user: str, *, patient: str = CHILD) -> None:
        self.client = app.test_client()
        self.launch_id = launch_id_of(launch(self.client, sandbox, patient, user))
        self.page("")  # role chooser
        token = self.csrf()
        assert self.client.post(self.url("/role"), data={"role": role, "csrf_token": token}).status_code == 303

    def url(self, path: str) -> str:
        return f"/p/{self.launch_id}/plan{path}"

    def page(self, path: str = "") -> str:
        response = self.client.get(self.url(path))
        assert response.status_code == 200, response.status_code
        self.html = response.get_data(as_text=True)
        return self.html

    def csrf(self) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.html).group(1)

    def version(self) -> str:
        match = re.search(r'name="base_version" value="(\d*)"', self.html)
        return match.group(1) if match else ""

    def do(self, command: str, expect: int = 303, base: str | None = None, **fields):
        self.page()
        data = {"command": command, "csrf_token": self.csrf(), "base_version": self.version() if base is None else base,
                **fields}
        response = self.client.post(self.url(""), data=data)
        assert response.status_code == expect, response.get_data(as_text=True)[:2000]
        return response

    def ids(self, kind: str) -> list[str]:
        self.page()
        return re.findall(rf'name="{kind}_id" value="([^"]+)"', self.html)


def texts(html: str, testid: str) -> list[str]:
    return [t.strip() for t in re.findall(rf'data-testid="{testid}">([^<]+)<', html)]


def test_coordinator_drafts_clinician_negotiates_both_sign_and_the_plan_freezes(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    clinician = PlanUser(app, sandbox, "clinician", "amara-okafor")
    coordinator.do("start-plan", base="")
    coordinator.do("set-family-priority", text="Sofia sleeps through the night without pump alarms")
    coordinator.do("add-goal", text="Sleep through the night", kind="family", expressed_by="Ana Rivera (mother)")
    coordinator.do("add-goal", text="Fewer seizures at school", kind="clinical", target_date="2027-03-01")
    sleep, seizures = dict.fromkeys(coordinator.ids("goal")).keys()
    coordinator.do("add-action", text="Replace the feeding pump", owner_role="coordinator", owner_name="Jordan Lee",
                   goal_id=sleep, due="2026-12-15")
    coordinator.do("add-action", text="Weekly seizure log", owner_role="family", goal_id=seizures, due="2027-01-10")
    coordinator.do("add-action", text="Review rescue medication plan", owner_role="clinician", goal_id=seizures)
    coordinator.do("submit-for-review")

    actions = list(dict.fromkeys(clinician.ids("action")))
    pump, log, rescue = actions
    clinician.do("take-position", subject_id=pump, stance="agree", party="clinician")
    clinician.do("take-position", subject_id=log, stance="amend", party="clinician",
                 proposed_change="Seizure log twice a week, shared with school")
    clinician.do("take-position", subject_id=rescue, stance="decline", party="clinician",
                 reason="Neurology owns the rescue plan")
    for goal in (sleep, seizures):
        clinician.do("take-position", subject_id=goal, stance="agree", party="clinician")
    clinician.do("sign", expect=400)  # open disagreements block signing

    html = coordinator.page()
    assert 'data-testid="open-disagreements">2 open disagreements' in html
    assert "Seizure log twice a week, shared with school" in html and "Neurology owns the rescue plan" in html
    coordinator.do("accept-amendment", subject_id=log, party="clinician")
    coordinator.do("edit-action", action_id=rescue, text="Ask neurology to update the rescue plan",
                   owner_role="specialist", owner_name="Dr. Henrik Larsen", goal_id=seizures, due="2027-01-31",
                   status="not-started")
    coordinator.do("resolve-position", subject_id=rescue, party="clinician", note="Reassigned to neurology")
    coordinator.do("sign")
    clinician.do("sign")

    final = clinician.page()
    assert 'data-testid="plan-state">Signed' in final
    assert "Seizure log twice a week, shared with school" in final
    assert "Ask neurology to update the rescue plan" in final
    coordinator.do("add-goal", expect=400, text="One more")  # frozen
    assert "Open a new revision" in coordinator.page()


def test_a_stale_save_that_touches_nothing_the_others_changed_lands_on_the_latest_version(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Walk with a walker")
    stale = coordinator.version()
    coordinator.do("add-goal", text="Eat by mouth at lunch")  # someone else's save, in effect
    coordinator.do("add-goal", base=stale, text="Go to summer camp")  # no conflict page: both land
    assert texts(coordinator.page(), "goal-text") == ["Walk with a walker", "Eat by mouth at lunch",
                                                      "Go to summer camp"]


def test_a_stale_save_of_the_same_field_shows_base_theirs_and_mine_and_keep_mine_changes_only_it(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Walk with a walker", kind="family")
    (goal,) = dict.fromkeys(coordinator.ids("goal"))
    stale = coordinator.version()
    coordinator.do("edit-goal", goal_id=goal, text="Walk 10 m with a walker", kind="family")  # theirs
    coordinator.do("edit-goal", goal_id=goal, text="Walk 10 m with a walker", kind="family",
                   target_date=(TODAY.replace(day=1)).isoformat())  # theirs, another field
    response = coordinator.do("edit-goal", expect=409, base=stale, goal_id=goal, text="Walk 20 m with a walker",
                              kind="family")
    html = response.get_data(as_text=True)
    rows = re.findall(r'data-testid="conflict-row">(.*?)</tr>', html, re.S)
    assert len(rows) == 1  # exactly the wording: their target date is not in question
    assert "Walk with a walker" in rows[0] and "Walk 10 m with a walker" in rows[0] and "Walk 20 m" in rows[0]
    assert ">Walk 20 m with a walker</textarea>" in html  # the user's input, kept
    keep = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', html.split('data-testid="resubmit"')[1]))
    keep.update(text="Walk 20 m with a walker", keep_mine="1")
    assert coordinator.client.post(coordinator.url(""), data=keep).status_code == 303
    goal_card = coordinator.page()
    assert texts(goal_card, "goal-text") == ["Walk 20 m with a walker"]
    assert f"Target {TODAY.replace(day=1).day} {TODAY:%b %Y}" in goal_card  # their other field stands


def test_history_lists_every_version_with_its_changes(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Walk with a walker")
    html = coordinator.page("/history")
    assert 'data-testid="version-2"' in html and 'data-testid="version-1"' in html
    assert "Walk with a walker" in html


def test_the_clinician_cannot_edit_goals(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Walk with a walker")
    clinician = PlanUser(app, sandbox, "clinician", "amara-okafor")
    goal = clinician.ids("goal")
    assert goal == [] or "Edit goal" not in clinician.html
    clinician.do("add-goal", expect=400, text="Mine")


def test_ehr_goals_and_referrals_are_offered_and_can_be_accepted_or_set_aside(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    coordinator.do("start-plan", base="")
    html = coordinator.page()
    offered = re.findall(r'name="key" value="([^"]+)"', html)
    assert len(set(offered)) >= 3  # the child's two EHR goals and open referrals
    first, second = list(dict.fromkeys(offered))[:2]
    coordinator.do("accept-suggestion", key=first)
    ignored = coordinator.client.post(coordinator.url("/suggestions/ignore"),
                                      data={"key": second, "csrf_token": coordinator.csrf()})
    assert ignored.status_code == 303
    after = coordinator.page()
    remaining = set(re.findall(r'name="key" value="([^"]+)"', after))
    assert first not in remaining and second not in remaining
    assert len(texts(after, "goal-text")) + after.count('data-testid="action"') == 1


def test_one_person_cannot_give_both_signatures_from_two_tabs_in_two_roles(app, sandbox):
    as_coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    as_coordinator.do("start-plan", base="")
    as_coordinator.do("add-goal", text="Walk with a walker")
    as_coordinator.do("submit-for-review")
    as_coordinator.do("sign")
    same_person = PlanUser(app, sandbox, "clinician", "jordan-lee")  # a second tab, another role
    refused = same_person.do("sign", expect=400).get_data(as_text=True)
    assert "already signed" in refused or "practitioner" in refused.lower() or "signed this revision" in refused
    current = app.extensions["spoc"].services.planning.plans.current(sandbox.iss, CHILD)
    assert current.plan.state.value == "in-review" and [s.user for s in current.plan.signoffs] == [
        "Practitioner/jordan-lee"]
    events = [e for e in app.extensions["spoc"].audit.for_patient(sandbox.iss, CHILD) if e["action"] == "role-choice"]
    assert [e["detail"]["role"] for e in events] == ["coordinator", "clinician"]  # every role choice audited
