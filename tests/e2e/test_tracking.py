"""The living document through the app (issue 7): a plan signed in the app keeps the record as it was;
health events added to the EHR afterwards show on the progress page and in the summary's review banner;
one click turns an event into an action; indicators match the sandbox data. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from sandbox.data.characters import build_resources
from smart_app import create_app
from smart_app.fhir.queries import UPDATED_SINCE_TYPES
from smart_app.plan.dates import one_year_before
from smart_app.plan.dates import add_months
from smart_app.plan.review_cycle import DUE_SOON_DAYS
from smart_app.security import BROWSER_COOKIE
from smart_app.tenants import TenantRegistry
from tests.e2e.test_plan import CHILD, PlanUser, texts
from tests.support import CLOCK, TODAY, a_tenant, launch, launch_id_of

COORDINATOR, CLINICIAN = "jordan-lee", "amara-okafor"
ED_VISIT_ID, NEW_CONDITION_ID = "sofia-ed-after-signing", "sofia-sleep-apnea"


def an_ed_visit_today(today: date) -> dict:
    return {
        "resourceType": "Encounter", "id": ED_VISIT_ID, "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER", "display": "emergency"},
        "type": [{"text": "Emergency visit for breathing difficulty"}],
        "subject": {"reference": f"Patient/{CHILD}"},
        "period": {"start": f"{today.isoformat()}T09:00:00Z", "end": f"{today.isoformat()}T11:00:00Z"},
    }


def a_new_problem(today: date) -> dict:
    return {
        "resourceType": "Condition", "id": NEW_CONDITION_ID,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": "confirmed"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "problem-list-item", "display": "Problem List Item"}]}],
        "code": {"text": "Obstructive sleep apnea",
                 "coding": [{"system": "http://snomed.info/sct", "code": "78275009",
                             "display": "Obstructive sleep apnea syndrome"}]},
        "subject": {"reference": f"Patient/{CHILD}"},
        "onsetDateTime": today.isoformat(), "recordedDate": today.isoformat(),
    }


def sign_a_plan(app, sandbox) -> PlanUser:
    """Coordinator drafts one goal and one action and signs; the clinician signs: the plan is signed."""
    coordinator = PlanUser(app, sandbox, "coordinator", COORDINATOR)
    clinician = PlanUser(app, sandbox, "clinician", CLINICIAN)
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Sleep through the night", kind="family")
    (goal,) = dict.fromkeys(coordinator.ids("goal"))
    coordinator.do("add-action", text="Replace the feeding pump", owner_role="coordinator", owner_name="Jordan Lee",
                   goal_id=goal, due=(TODAY + timedelta(days=30)).isoformat())
    coordinator.do("submit-for-review")
    coordinator.do("sign")
    clinician.do("sign")
    assert 'data-testid="plan-state">Signed' in coordinator.page()
    return coordinator


class Relaunch:
    """A fresh launch from the chart (a new gateway: nothing cached), for a user whose role is remembered."""

    def __init__(self, app, sandbox, user: str) -> None:
        self.client = app.test_client()
        self.launch_id = launch_id_of(launch(self.client, sandbox, CHILD, user))

    def get(self, path: str) -> str:
        response = self.client.get(f"/p/{self.launch_id}{path}")
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def progress(self) -> str:
        self.html = self.get("/progress")
        return self.html

    def review_banner(self) -> str:
        """The summary's streamed "review" line: the banner shown first on launch."""
        lines = [json.loads(line) for line in self.get("/sections").splitlines() if line]
        keys = [line["key"] for line in lines]
        assert keys[-2:] == ["review", "done"]  # after every section, before the end
        return lines[-2]["html"]

    def post(self, path: str, expect: int = 303, **fields):
        self.progress()
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.html).group(1)
        response = self.client.post(f"/p/{self.launch_id}{path}", data={"csrf_token": token, **fields})
        assert response.status_code == expect, response.get_data(as_text=True)[:1500]
        return response


def events_of(html: str) -> list[tuple[str, str]]:
    return list(zip(texts(html, "event-title"), texts(html, "event-label"), strict=True))


def event_ids(html: str) -> list[str]:
    return re.findall(r'data-testid="event" data-event-id="([^"]+)"', html)


def version_on_page(html: str) -> str:
    return re.search(r'name="base_version" value="(\d+)"', html).group(1)


def test_nothing_new_right_after_signing_and_the_review_is_six_months_away(app, sandbox):
    sign_a_plan(app, sandbox)
    again = Relaunch(app, sandbox, COORDINATOR)
    html = again.progress()
    assert events_of(html) == []
    assert 'data-testid="no-events"' in html
    assert texts(html, "review-state") == ["Review not due"]
    assert 'data-testid="review-none"' in again.review_banner()


def test_the_plan_the_app_filed_is_no_health_event_on_the_next_launch(app, sandbox):
    """The app's own CareTeam, Goals and Tasks read back are not news (issue 15)."""
    sign_a_plan(app, sandbox)
    filer = Relaunch(app, sandbox, COORDINATOR)
    filer.post("/filing")
    assert 'data-outcome="filed"' in filer.get("/filing")
    again = Relaunch(app, sandbox, COORDINATOR)
    html = again.progress()
    assert events_of(html) == [] and 'data-testid="no-events"' in html
    assert texts(html, "review-state") == ["Review not due"]
    summary = app.extensions["spoc"].services.summary
    session = app.extensions["spoc"].sessions.load(again.launch_id, again.client.get_cookie(BROWSER_COOKIE).value)
    team = summary.summary(session, app.extensions["spoc"].tenants.for_iss(session.iss)).section("care_team")
    assert any(m.source.by_this_app for m in team.active + team.inactive), "the filed CareTeam was not read"


def test_an_ed_visit_and_a_new_condition_after_signing_are_new_events_and_make_the_review_due(app, sandbox):
    sign_a_plan(app, sandbox)
    today = TODAY
    sandbox.control("resources", [an_ed_visit_today(today), a_new_problem(today)])

    again = Relaunch(app, sandbox, COORDINATOR)
    html = again.progress()
    assert sorted(events_of(html)) == [("Emergency department visit", "Emergency visit for breathing difficulty"),
                                       ("New condition", "Obstructive sleep apnea")]
    assert texts(html, "review-state") == ["Review due now"]
    assert "2 new health events since the plan was signed on" in html

    banner = again.review_banner()
    assert 'data-testid="review-due"' in banner
    assert "2 new health events since the plan was signed on" in banner
    assert "Open a new revision" in banner and "/progress#changes" in banner


def test_add_an_action_for_this_opens_a_revision_with_the_action_linked_to_the_condition(app, sandbox):
    coordinator = sign_a_plan(app, sandbox)
    sandbox.control("resources", [a_new_problem(TODAY)])
    again = Relaunch(app, sandbox, COORDINATOR)
    (event,) = event_ids(again.progress())
    assert event == f"condition-new:Condition/{NEW_CONDITION_ID}"

    again.post("/progress/action", event_id=event, base_version=version_on_page(again.html))

    plan = coordinator.page()
    assert 'data-testid="plan-state">Draft' in plan and "Revision 2" in plan
    assert "Follow up on the new condition: Obstructive sleep apnea" in texts(plan, "action-text")
    assert "Replace the feeding pump" in texts(plan, "action-text")  # the revision starts from the signed plan
    current = app.extensions["spoc"].services.planning.plans.current(sandbox.iss, CHILD)
    added = current.plan.actions[-1]
    assert added.condition_refs == (f"Condition/{NEW_CONDITION_ID}",)
    assert added.owner.role.value == "coordinator" and added.due == TODAY + timedelta(days=14)
    # The progress page now points at the revision instead of offering to open another.
    html = again.progress()
    assert "A new revision is in progress" in html and 'data-testid="open-revision"' not in html


def test_a_stale_add_an_action_lands_in_the_revision_someone_else_opened(app, sandbox):
    signed = sign_a_plan(app, sandbox)
    sandbox.control("resources", [a_new_problem(TODAY)])
    again = Relaunch(app, sandbox, COORDINATOR)
    (event,) = event_ids(again.progress())
    stale = version_on_page(again.html)
    again.post("/progress/revision", base_version=stale)  # someone opened a revision meanwhile
    again.post("/progress/action", event_id=event, base_version=stale)  # no conflict: it is added there
    plans = app.extensions["spoc"].services.planning.plans
    current, first = plans.current(sandbox.iss, CHILD), plans.latest_signed(sandbox.iss, CHILD)
    assert current.plan.revision == first.plan.revision + 1  # one new revision, not two
    assert [a.text for a in current.plan.actions][0] == "Replace the feeding pump"
    assert len(current.plan.actions) == 2 and signed is not None


def test_marking_every_event_reviewed_takes_the_review_off_due(app, sandbox):
    sign_a_plan(app, sandbox)
    sandbox.control("resources", [an_ed_visit_today(TODAY), a_new_problem(TODAY)])
    again = Relaunch(app, sandbox, COORDINATOR)
    first, second = event_ids(again.progress())
    signed = re.search(r'name="signed_version" value="(\d+)"', again.html).group(1)
    again.post("/progress/reviewed", event_id=first, signed_version=signed)
    assert event_ids(again.progress()) == [second]
    assert texts(again.html, "review-state") == ["Review due now"]
    again.post("/progress/reviewed", event_id=second, signed_version=signed)
    html = again.progress()
    assert event_ids(html) == [] and texts(html, "reviewed-count") == ["2 marked reviewed."]
    assert texts(html, "review-state") == ["Review not due"]
    assert 'data-testid="review-none"' in again.review_banner()


def test_an_event_not_in_the_record_cannot_be_marked_or_acted_on(app, sandbox):
    sign_a_plan(app, sandbox)
    again = Relaunch(app, sandbox, COORDINATOR)
    again.progress()
    again.post("/progress/reviewed", expect=400, event_id="ed-visit:Encounter/made-up", signed_version="3")
    again.post("/progress/action", expect=400, event_id="ed-visit:Encounter/made-up", base_version="3")


def test_only_the_coordinator_adds_actions_for_events(app, sandbox):
    sign_a_plan(app, sandbox)
    sandbox.control("resources", [a_new_problem(TODAY)])
    clinician = Relaunch(app, sandbox, CLINICIAN)
    html = clinician.progress()
    (event,) = event_ids(html)
    assert "Add an action for this" not in html and "Mark reviewed" in html
    clinician.post("/progress/action", expect=400, event_id=event, base_version=version_on_page(html))


EPILEPSY_ID = f"{CHILD}-condition-epilepsy"


def epilepsy_with_a_new_note(today: date) -> dict:
    """The child's epilepsy as the sandbox holds it, with a clinician's note added: a change that the
    signing snapshot does not keep (name and status are the same)."""
    (condition,) = [r for r in build_resources(today) if r["resourceType"] == "Condition" and r["id"] == EPILEPSY_ID]
    return {**condition, "note": [{"text": "Seizure diary reviewed; rescue plan updated."}]}


def last_updated_searches(sandbox) -> list[dict]:
    return [r for r in sandbox.fhir_requests() if "_lastUpdated=" in r["query"]]


def test_a_condition_changed_in_the_ehr_after_signing_shows_as_updated_in_the_ehr_without_making_the_review_due(
        app, sandbox):
    sign_a_plan(app, sandbox)
    (stored,) = sandbox.control("resources", [epilepsy_with_a_new_note(TODAY)])
    assert stored["versionId"] == "2"  # the sandbox bumped the version (and meta.lastUpdated)

    html = Relaunch(app, sandbox, COORDINATOR).progress()
    # The snapshot diff sees nothing (same name, same status); only _lastUpdated tells.
    assert event_ids(html) == [f"updated-in-ehr:Condition/{EPILEPSY_ID}"]
    assert events_of(html) == [("Record updated in the EHR", "Epilepsy")]
    assert "condition changed since signing" in html
    assert texts(html, "review-state") == ["Review not due"]
    assert {r["path"] for r in last_updated_searches(sandbox)} >= {"/fhir/Condition", "/fhir/Encounter"}


def test_an_ehr_whose_capability_statement_lacks_last_updated_is_not_asked_and_the_page_still_works(
        app, sandbox, monkeypatch):
    import sandbox.fhir as sandbox_fhir

    monkeypatch.setattr(sandbox_fhir, "SEARCH_PARAMS", tuple(p for p in sandbox_fhir.SEARCH_PARAMS
                                                             if p[0] != "_lastUpdated"))
    sign_a_plan(app, sandbox)
    sandbox.control("resources", [epilepsy_with_a_new_note(TODAY)])

    html = Relaunch(app, sandbox, COORDINATOR).progress()
    assert event_ids(html) == [] and 'data-testid="no-events"' in html
    assert texts(html, "review-state") == ["Review not due"]
    assert last_updated_searches(sandbox) == []


def expected_hospital_use(today: date, plan_start: date, extra: list[dict]) -> dict[str, int]:
    """ED visits and admissions of the sandbox child in the indicator windows, from the sandbox data."""
    counts = {"ed-before": 0, "admissions-before": 0, "ed-since": 0, "admissions-since": 0}
    for resource in [*build_resources(today), *extra]:
        if resource["resourceType"] != "Encounter" or resource["subject"]["reference"] != f"Patient/{CHILD}":
            continue
        kind = {"EMER": "ed", "IMP": "admissions"}.get(resource["class"]["code"])
        start = date.fromisoformat(resource["period"]["start"][:10])
        if kind and one_year_before(plan_start) < start <= plan_start:
            counts[f"{kind}-before"] += 1
        elif kind and plan_start < start <= today:
            counts[f"{kind}-since"] += 1
    return counts


def test_indicators_count_the_childs_ed_visits_and_admissions_as_the_sandbox_has_them(app, sandbox):
    sign_a_plan(app, sandbox)
    today = TODAY
    extra = [an_ed_visit_today(today)]
    sandbox.control("resources", extra)
    html = Relaunch(app, sandbox, COORDINATOR).progress()
    expected = expected_hospital_use(today, today, extra)
    shown = {key: int(texts(html, key)[0]) for key in expected}
    assert shown == expected
    assert expected["ed-before"] >= 3 and expected["admissions-before"] >= 1  # the data is worth checking
    assert "<svg" in html and "Hospital use before and since the plan" in html
    assert texts(html, "open-on-track") == ["1"] and texts(html, "done-on-time") == ["0"]
    assert len(re.findall('data-testid="goal-progress"', html)) == 1


def test_who_owes_what_flags_an_overdue_action_for_its_owner(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", COORDINATOR)
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Walk with a walker")
    (goal,) = dict.fromkeys(coordinator.ids("goal"))
    coordinator.do("add-action", text="Order the walker", owner_role="community", owner_name="Bright Path",
                   goal_id=goal, due=(TODAY - timedelta(days=3)).isoformat())
    coordinator.do("add-action", text="Physio twice a week", owner_role="specialist", goal_id=goal)
    html = Relaunch(app, sandbox, COORDINATOR).progress()
    assert texts(html, "owner")[0] == "Bright Path (Community provider)"  # owners with overdue actions first
    assert texts(html, "owner-overdue") == ["1 overdue"]
    assert texts(html, "owed-text") == ["Order the walker", "Physio twice a week"]
    assert html.count('data-testid="overdue"') == 1


def test_the_review_comes_due_on_the_sites_interval(settings, sandbox):
    app = create_app(settings, TenantRegistry([a_tenant(sandbox, review_months=1)]), clock=CLOCK)
    try:
        sign_a_plan(app, sandbox)
        html = Relaunch(app, sandbox, COORDINATOR).progress()
        due = add_months(TODAY, 1)  # a month away, not six
        assert f"next review {due.day} {due:%b %Y}" in html
        # A calendar month is 28 to 31 days: whether that is inside the "due soon" window depends on today.
        soon = (due - TODAY).days <= DUE_SOON_DAYS
        assert texts(html, "review-state") == ["Review due soon" if soon else "Review not due"]
    finally:
        app.extensions["spoc"].engine.dispose()


def test_the_changed_since_signing_searches_leave_with_the_summary_s_first_round(app, sandbox):
    """The signing time is in the app's store, so the review's `_lastUpdated` searches need nothing the
    summary fetches: with a slow EHR, each of them reaches it before the first answer of the launch
    has gone back, as every other search of the first round does."""
    sign_a_plan(app, sandbox)
    again = Relaunch(app, sandbox, COORDINATOR)
    sandbox.control("config", {"latency_ms": 500})  # a round lasts at least this long, even on a busy machine
    sandbox.control("requests/clear")
    try:
        again.review_banner()
        log = sandbox.fhir_requests()
    finally:
        sandbox.control("config", {"latency_ms": 0})
    first_answer_ms = min(r["started_ms"] + r["ms"] for r in log)
    changed = [r for r in log if "_lastUpdated=" in r["query"]]
    assert {r["path"] for r in changed} == {f"/fhir/{t}" for t in UPDATED_SINCE_TYPES}
    assert all(r["started_ms"] < first_answer_ms for r in changed)
    searches = [r for r in log if "_lastUpdated=" not in r["query"] and "_cursor=" not in r["query"]]
    assert len(searches) >= 15 and all(r["started_ms"] < first_answer_ms for r in searches)
