"""Write-back against the sandbox EHR: sign -> file -> read back by FHIR search -> the same plan;
retries never duplicate; a changed EHR copy is reconciled, not overwritten; tiers fall back clearly
(issue 5)."""

from __future__ import annotations

import base64
import re
import subprocess
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from sandbox.data.characters import build_resources
from smart_app import create_app
from smart_app.config import Settings
from smart_app.launch.scopes import requested_scopes
from smart_app.plan.about import answers_from_mapping
from smart_app.plan.careplan import (
    ACTION_IDENTIFIER_SYSTEM,
    GOAL_IDENTIFIER_SYSTEM,
    PLAN_IDENTIFIER_SYSTEM,
    plan_from_fhir,
    provenance_id,
)
from smart_app.plan.model import (
    ActionStatus,
    Goal,
    GoalKind,
    GoalLifecycle,
    NegotiatedAction,
    Owner,
    Plan,
    PlanState,
    PlanVersion,
    Role,
    SignOff,
)
from smart_app.plan.note import NOTE_IDENTIFIER_SYSTEM
from smart_app.security import BROWSER_COOKIE
from smart_app.store.about_store import AboutStore
from smart_app.tenants import TenantRegistry
from tests.support import CLOCK, TODAY, a_tenant, launch, launch_id_of
from tests.conftest import ON_BOTH_EHRS

PATIENT = "sofia-rivera"
SIGNED_AT = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)

pytestmark = [ON_BOTH_EHRS]  # the sandbox, and the independent engine behind its SMART front door


def conditions_of(patient_id: str) -> list[str]:
    return [f"Condition/{r['id']}" for r in build_resources(TODAY) if r["resourceType"] == "Condition"
            and r.get("subject", {}).get("reference") == f"Patient/{patient_id}"]


def a_plan(**changes) -> Plan:
    condition = conditions_of(PATIENT)[0]
    plan = Plan(
        goals=(Goal("g1", "Sleep through the night without pump alarms", GoalKind.FAMILY, "Ana Rivera (mother)",
                    date(2026, 12, 1), GoalLifecycle.ACTIVE, condition_refs=(condition,)),
               Goal("g2", "No emergency visits for breathing problems", target_date=date(2026, 11, 1),
                    lifecycle=GoalLifecycle.ACTIVE)),
        actions=(NegotiatedAction("a1", "Arrange feeding-pump replacement", Owner(Role.COORDINATOR, "Maya Chen"),
                                  "g1", date(2026, 7, 15), ActionStatus.IN_PROGRESS, (condition,)),
                 NegotiatedAction("a2", "Keep a night log of alarms", Owner(Role.FAMILY, "Ana Rivera"), "g1",
                                  date(2026, 6, 30)),
                 NegotiatedAction("a3", "Pulmonology review", Owner(Role.SPECIALIST), "g2", date(2026, 8, 1))),
        state=PlanState.SIGNED,
        signoffs=(SignOff(Role.COORDINATOR, "Maya Chen", SIGNED_AT - timedelta(minutes=5)),
                  SignOff(Role.CLINICIAN, "Dr Grace Okafor", SIGNED_AT)),
        family_priority="Sofia sleeping at home", next_review=date(2026, 12, 1), signed_at=SIGNED_AT,
    )
    return replace(plan, **changes)


def sign(app, sandbox, plan: Plan, base: PlanVersion | None = None) -> PlanVersion:
    return app.extensions["spoc"].services.planning.plans.save(
        sandbox.iss, PATIENT, plan, base_version=base.version if base else None, saved_by="Dr Grace Okafor",
        now=CLOCK.now())


class Chart:
    """The app opened from Sofia's chart: the filing page, its form, and FHIR reads as this launch."""

    def __init__(self, app, client, sandbox):
        self.app, self.client, self.sandbox = app, client, sandbox
        self.launch_id = launch_id_of(launch(client, sandbox, PATIENT))

    def page(self) -> str:
        response = self.client.get(f"/p/{self.launch_id}/filing")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def file(self, **form) -> str:
        """Press the page's file (or retry, or overwrite) button."""
        response = self.client.post(f"/p/{self.launch_id}/filing", data={"csrf_token": self.session().csrf_token,
                                                                        **form})
        assert response.status_code == 303
        return self.page()

    def session(self):
        state = self.app.extensions["spoc"]
        return state.sessions.load(self.launch_id, self.client.get_cookie(BROWSER_COOKIE).value)

    def gateway(self):
        state, session = self.app.extensions["spoc"], self.session()
        gateway = state.services.summary.ehr.gateway(session, state.tenants.for_iss(session.iss))
        gateway.forget_reads()
        return gateway

    def search(self, resource_type: str, *params: tuple[str, str]) -> list[dict]:
        found = self.gateway().search(resource_type, [("patient", f"Patient/{PATIENT}"), *params], max_pages=10)
        return [dict(r) for r in found.resources]

    def plan_in_ehr(self, version: PlanVersion) -> Plan:
        careplan, = self.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))
        goals = self.search("Goal", ("_id", ",".join(g["reference"].split("/")[1] for g in careplan["goal"])))
        tasks = self.search("Task", ("_id", ",".join(a["reference"]["reference"].split("/")[1]
                                                      for a in careplan["activity"])))
        return plan_from_fhir(careplan, goals, tasks)


def outcome_of(page: str) -> str:
    return re.search(r'data-outcome="([^"]+)"', page).group(1)


def content_of(plan: Plan) -> Plan:
    return replace(plan, positions=(), signoffs=(), signed_at=None)


@pytest.fixture
def tenants(sandbox) -> TenantRegistry:
    """The app's usual scopes plus reading back Tasks and Provenance, which the tests check by search."""
    return TenantRegistry([a_tenant(sandbox, scopes=READ_BACK_SCOPES)])


READ_BACK_SCOPES = tuple(requested_scopes(kind="ehr", write_mode="careplan", v2=True).split()) + (
    "patient/Task.rs", "patient/Provenance.rs")


@pytest.fixture
def chart(app, client, sandbox) -> Chart:
    return Chart(app, client, sandbox)


def test_a_signed_plan_is_filed_and_reads_back_as_the_same_plan(app, sandbox, chart):
    version = sign(app, sandbox, a_plan())
    page = chart.file()
    assert outcome_of(page) == "filed" and 'data-tier="structured"' in page
    assert re.search(r'id="ehr-link"[^>]*>CarePlan/[A-Za-z0-9.-]+<', page)
    careplan, = chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))
    goals = chart.search("Goal", ("_id", ",".join(g["reference"].split("/")[1] for g in careplan["goal"])))
    tasks = chart.search("Task", ("based-on", f"CarePlan/{careplan['id']}"))
    # Read by its fixed id: the engine's Provenance `patient` search matches only a Patient target.
    provenance = chart.gateway().read(f"Provenance/{provenance_id(version.plan_id, version.version)}")
    assert {t["reference"] for t in provenance["target"]} >= {f"CarePlan/{careplan['id']}"}
    assert plan_from_fhir(careplan, goals, tasks, provenance) == replace(version.plan, positions=())


def test_the_ehrs_copy_is_the_filed_careplan_read_back_by_the_app_not_a_bare_fhir_url(app, sandbox, chart):
    version = sign(app, sandbox, a_plan())
    page = chart.file()
    href = re.search(r'<a href="([^"]+)" id="ehr-link"', page).group(1)
    assert href == f"/p/{chart.launch_id}/filing/ehr-copy" and sandbox.iss not in page
    response = chart.client.get(href)
    assert response.status_code == 200
    copy = response.get_data(as_text=True)
    careplan, = chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))
    assert f'data-reference="CarePlan/{careplan["id"]}"' in copy
    assert re.findall(r'data-testid="ehr-goal">([^<]+) <', copy) == [g.text for g in version.plan.goals]
    assert re.findall(r'data-testid="ehr-task">([^<]+) <', copy) == [a.text for a in version.plan.actions]
    assert "Bearer" not in copy


def test_where_the_site_names_the_ehrs_own_view_the_copy_links_to_it(settings, sandbox):
    tenant = a_tenant(sandbox, scopes=READ_BACK_SCOPES, ehr_careplan_view="https://ehr.example.org/chart/careplan/{id}")
    app = create_app(settings, TenantRegistry([tenant]), clock=CLOCK)
    try:
        chart = Chart(app, app.test_client(), sandbox)
        version = sign(app, sandbox, a_plan())
        chart.file()
        careplan, = chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))
        copy = chart.client.get(f"/p/{chart.launch_id}/filing/ehr-copy").get_data(as_text=True)
        assert f'href="https://ehr.example.org/chart/careplan/{careplan["id"]}" id="ehr-view"' in copy
    finally:
        app.extensions["spoc"].engine.dispose()


def test_every_attempt_is_audited_without_plan_text(app, sandbox, chart):
    sign(app, sandbox, a_plan())
    chart.file()
    events = [e for e in app.extensions["spoc"].audit.for_patient(sandbox.iss, PATIENT) if e["action"] == "writeback"]
    assert [e["outcome"] for e in events] == ["filed"]
    assert "pump" not in str(events) and events[0]["detail"]["tier"] == "structured"


def test_a_refused_filing_stays_signed_shows_the_ehr_reason_and_a_retry_files_it(app, sandbox, chart):
    version = sign(app, sandbox, a_plan())
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/?\?", "method": "POST", "status": 422}]})
    page = chart.file()
    assert outcome_of(page) == "failed" and "injected fault: HTTP 422" in page and "Try again" in page
    assert chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}")) == []
    assert outcome_of(chart.file()) == "filed"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    """A short FHIR timeout, so a slow EHR answer times out quickly."""
    return Settings(tenants_file=tmp_path / "unused.toml", token_keys=(Fernet.generate_key().decode(),),
                    database_url=database_url, fhir_timeout_s=1)


def test_a_retry_after_a_timeout_files_nothing_twice(app, sandbox, chart):
    version = sign(app, sandbox, a_plan())
    sandbox.control("requests/clear")
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/?\?", "method": "POST", "status": 200,
                                           "delay_ms": 1300}]})
    first = chart.file()
    assert outcome_of(first) == "failed" and "Trying again is safe" in first
    wait_for(lambda: any(r["method"] == "POST" and r["path"] in ("/fhir", "/fhir/") for r in sandbox.fhir_requests()))
    assert outcome_of(chart.file()) == "filed"
    assert len(chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))) == 1
    tasks = [t for t in chart.search("Task") if t["identifier"][0]["system"] == ACTION_IDENTIFIER_SYSTEM]
    assert sorted(t["identifier"][0]["value"] for t in tasks) == [f"{version.plan_id}.a{n}" for n in (1, 2, 3)]


@pytest.mark.parametrize("k", [0, 8])  # the CareTeam, the first Task
def test_without_conditional_create_a_write_whose_answer_was_lost_is_found_before_it_is_made_again(
        app, sandbox, chart, plain_sandbox_only, k):
    """The EHR ignores If-None-Exist and says so (no conditionalCreate): the app searches our identifiers
    before creating, so the write that landed after the app stopped waiting is updated, not duplicated."""
    sandbox.control("config", {"conditional_create": False, "transaction_supported": False, "faults": [
        {"path_regex": r"^/fhir/[A-Z]", "method": "POST", "status": 200, "delay_ms": 1300, "after": k}]})
    version = sign(app, sandbox, a_big_plan())
    sandbox.control("requests/clear")
    first = chart.file()
    assert outcome_of(first) == "failed" and "Trying again is safe" in first
    wait_for(lambda: len([r for r in sandbox.fhir_requests() if r["method"] == "POST"]) == k + 1)
    assert outcome_of(chart.file()) == "filed"
    assert_ehr_holds_exactly(chart, version)
    assert len(chart.search("CareTeam", ("identifier", f"urn:spoc:careteam|{version.plan_id}"))) == 1


def test_an_action_a_stopped_filing_created_and_the_next_version_dropped_is_cancelled(app, sandbox, chart):
    """v2 adds a16 and a17; its filing stops after creating a16; v3 drops both: a16 must not stay live."""
    sandbox.control("config", {"transaction_supported": False})
    first = sign(app, sandbox, a_big_plan())
    assert outcome_of(chart.file()) == "filed"
    second = sign(app, sandbox, a_revision(first.plan), base=first)
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/Task", "method": "POST", "status": 500,
                                           "after": 1}]})
    assert outcome_of(chart.file()) == "failed"
    third = sign(app, sandbox, replace(second.plan, actions=second.plan.actions[:-2], revision=3), base=second)
    assert outcome_of(chart.file()) == "filed"
    tasks = ours_in_ehr(chart, "Task", ACTION_IDENTIFIER_SYSTEM, third.plan_id)
    assert [t["status"] for t in tasks["a16"]] == ["cancelled"] and "a17" not in tasks
    assert {k for k, v in tasks.items() if v[0]["status"] != "cancelled"} == {a.action_id for a in third.plan.actions}


def test_a_revision_whose_update_landed_after_the_app_stopped_waiting_is_completed_not_reconciled(app, sandbox,
                                                                                                  chart):
    """Our own update that landed late moved the version on: Try again sees its own words there and goes on."""
    sandbox.control("config", {"transaction_supported": False})
    first = sign(app, sandbox, a_big_plan())
    assert outcome_of(chart.file()) == "filed"
    revised = sign(app, sandbox, a_revision(first.plan), base=first)
    sandbox.control("requests/clear")
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/Task/", "method": "PUT", "status": 200,
                                           "delay_ms": 1300, "after": 1}]})
    page = chart.file()
    assert outcome_of(page) == "failed" and "not confirmed" in page
    wait_for(lambda: len([r for r in sandbox.fhir_requests() if r["path"].startswith("/fhir/Task/")]) == 2)
    page = chart.file()
    assert outcome_of(page) == "filed", page
    assert_ehr_holds_exactly(chart, revised, ended=(first.plan,))


def test_a_revision_whose_careplan_update_landed_after_the_app_stopped_waiting_is_completed(app, sandbox, chart):
    """The CarePlan moved on since the last filing, but by our own update: Try again goes on, no reconcile."""
    sandbox.control("config", {"transaction_supported": False})
    first = sign(app, sandbox, a_big_plan())
    assert outcome_of(chart.file()) == "filed"
    revised = sign(app, sandbox, a_revision(first.plan), base=first)
    sandbox.control("requests/clear")
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/CarePlan/", "method": "PUT", "status": 200,
                                           "delay_ms": 1300}]})
    assert outcome_of(chart.file()) == "failed"
    wait_for(lambda: any(r["path"].startswith("/fhir/CarePlan/") and r["method"] == "PUT"
                         for r in sandbox.fhir_requests()))
    page = chart.file()
    assert outcome_of(page) == "filed", page
    assert_ehr_holds_exactly(chart, revised, ended=(first.plan,))


def wait_for(condition, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the sandbox never finished the slow write"
        time.sleep(0.02)


def test_a_task_changed_in_the_ehr_gives_the_reconcile_view_and_loses_neither_side(app, sandbox, chart):
    first = sign(app, sandbox, a_plan())
    chart.file()
    task = next(t for t in chart.search("Task") if t.get("description") == "Arrange feeding-pump replacement")
    (edited,) = sandbox.control("resources", [task | {"description": "Pump replaced by vendor (EHR edit)"}])
    revised = sign(app, sandbox, a_plan(revision=2, actions=a_plan().actions[:2]
                                       + (replace(a_plan().actions[2], due=date(2026, 9, 1)),)), base=first)
    page = chart.file()
    assert outcome_of(page) == "reconcile" and 'id="reconcile"' in page
    assert "Pump replaced by vendor (EHR edit)" in page and "Arrange feeding-pump replacement" in page
    assert chart.gateway().read(f"Task/{task['id']}")["description"] == "Pump replaced by vendor (EHR edit)"
    assert app.extensions["spoc"].services.planning.plans.latest_signed(sandbox.iss, PATIENT).plan == revised.plan

    overwrite = re.search(r'name="overwrite_ehr_version" value="([^"]*)"', page).group(1)
    assert outcome_of(chart.file(overwrite_ehr_version=overwrite)) == "filed"
    assert content_of(chart.plan_in_ehr(revised)) == content_of(revised.plan)
    theirs = chart.gateway().read(f"Task/{task['id']}/_history/{edited['versionId']}")
    assert theirs["description"] == "Pump replaced by vendor (EHR edit)"  # kept in the EHR's history


def test_a_careplan_changed_in_the_ehr_is_caught_before_anything_is_sent(app, sandbox, chart):
    first = sign(app, sandbox, a_plan())
    chart.file()
    careplan, = chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{first.plan_id}"))
    sandbox.control("resources", [careplan | {"period": {"start": "2026-06-01", "end": "2027-01-15"}}])
    sign(app, sandbox, a_plan(revision=2, family_priority="Sofia at school every day"), base=first)
    sandbox.control("requests/clear")
    page = chart.file()
    assert outcome_of(page) == "reconcile" and "2027-01-15" in page and "Sofia at school every day" in page
    assert not [r for r in sandbox.fhir_requests() if r["method"] in ("POST", "PUT")]


def test_changes_made_in_the_ehr_after_filing_show_on_the_next_visit(app, sandbox, chart):
    version = sign(app, sandbox, a_plan())
    chart.file()
    task = next(t for t in chart.search("Task") if t.get("description") == "Pulmonology review")
    sandbox.control("resources", [task | {"description": "Pulmonology review (moved to telehealth)"}])
    page = chart.page()
    assert 'id="ehr-changes"' in page and "moved to telehealth" in page
    assert version.version == app.extensions["spoc"].services.planning.plans.latest_signed(sandbox.iss, PATIENT).version


@pytest.mark.parametrize("change", [{"max_transaction_entries": 3}, {"transaction_supported": False}])
def test_an_ehr_that_refuses_the_transaction_gets_the_same_plan_in_smaller_writes(app, sandbox, chart, change):
    version = sign(app, sandbox, a_plan())
    sandbox.control("config", change)
    sandbox.control("requests/clear")
    page = chart.file()
    assert outcome_of(page) == "filed"
    assert content_of(chart.plan_in_ehr(version)) == content_of(version.plan)
    writes = [r for r in sandbox.fhir_requests() if r["method"] in ("POST", "PUT")]
    if "max_transaction_entries" in change:  # the cap the EHR named in its refusal: transactions of at most 3
        assert "transactions of at most 3 entries" in page
        assert next(r["status"] for r in writes if r["path"] in ("/fhir", "/fhir/")) == 413
    else:  # transactions not offered at all: one write at a time, never a Bundle
        assert "one write at a time" in page and not [r for r in writes if r["path"] in ("/fhir", "/fhir/")]
        assert {r["path"] for r in writes} >= {"/fhir/CarePlan", "/fhir/Task", "/fhir/Goal", "/fhir/CareTeam"}


# -- a plan of real size, its revision, and filings cut off halfway (issue 15) ---------------------------

OKAFOR = "Practitioner/amara-okafor"
LEE = "Practitioner/jordan-lee"


def a_big_plan(**changes) -> Plan:
    """6 goals and 15 actions, owners named from the care team; goals as proposed until both signed."""
    goals = tuple(Goal(f"g{n}", f"Goal {n}: keep Sofia well at home, part {n}", target_date=date(2026, 12, 1))
                  for n in range(1, 7))
    owners = (Owner(Role.COORDINATOR, "Jordan Lee", LEE), Owner(Role.CLINICIAN, "Dr. Amara Okafor", OKAFOR),
              Owner(Role.FAMILY, "Ana Rivera"))
    actions = tuple(NegotiatedAction(f"a{n}", f"Action {n} for goal {(n - 1) % 6 + 1}", owners[n % 3],
                                     f"g{(n - 1) % 6 + 1}", date(2026, 9, 1)) for n in range(1, 16))
    plan = Plan(goals=goals, actions=actions, state=PlanState.SIGNED,
                signoffs=(SignOff(Role.COORDINATOR, "Jordan Lee", SIGNED_AT - timedelta(minutes=5), LEE),
                          SignOff(Role.CLINICIAN, "Dr. Amara Okafor MD", SIGNED_AT, OKAFOR)),
                family_priority="Sofia sleeping at home", next_review=date(2026, 12, 1), signed_at=SIGNED_AT)
    return replace(plan, **changes)


def a_revision(plan: Plan) -> Plan:
    """Remove 2 goals and 5 actions, reword 1 action, add 2 actions."""
    goals = plan.goals[:4]
    kept = [a for a in plan.actions if a.goal_id in {g.goal_id for g in goals}][:9]
    kept[0] = replace(kept[0], text="Action 1, reworded at the review")
    added = [NegotiatedAction(f"a{n}", f"New action {n}", Owner(Role.COORDINATOR, "Jordan Lee", LEE), "g1",
                              date(2026, 10, 1)) for n in (16, 17)]
    return replace(plan, goals=goals, actions=(*kept, *added), revision=2)


def ours_in_ehr(chart: Chart, resource_type: str, system: str, plan_id: str) -> dict[str, list[dict]]:
    """Our resources of one type in the EHR, by our identifier value."""
    found: dict[str, list[dict]] = {}
    for resource in chart.search(resource_type):
        for identifier in resource.get("identifier") or []:
            if identifier.get("system") == system and identifier.get("value", "").startswith(f"{plan_id}."):
                found.setdefault(identifier["value"].removeprefix(f"{plan_id}."), []).append(resource)
    return found


def assert_ehr_holds_exactly(chart: Chart, version: PlanVersion, ended: tuple[Plan, ...] = ()) -> None:
    """One resource per identifier; the plan's goals and tasks live with the signed wording; the goals
    and actions of earlier plans that this one dropped are cancelled."""
    goals = ours_in_ehr(chart, "Goal", GOAL_IDENTIFIER_SYSTEM, version.plan_id)
    tasks = ours_in_ehr(chart, "Task", ACTION_IDENTIFIER_SYSTEM, version.plan_id)
    assert all(len(v) == 1 for v in (*goals.values(), *tasks.values())), "a duplicate in the EHR"
    plan = version.plan
    assert {g.goal_id: ("active", g.text) for g in plan.goals} == {
        k: (v[0]["lifecycleStatus"], v[0]["description"]["text"]) for k, v in goals.items()
        if v[0]["lifecycleStatus"] != "cancelled"}
    assert {a.action_id: a.text for a in plan.actions} == {
        k: v[0]["description"] for k, v in tasks.items() if v[0]["status"] != "cancelled"}
    dropped_goals = {g.goal_id for p in ended for g in p.goals} - {g.goal_id for g in plan.goals}
    dropped_tasks = {a.action_id for p in ended for a in p.actions} - {a.action_id for a in plan.actions}
    assert {k for k, v in goals.items() if v[0]["lifecycleStatus"] == "cancelled"} == dropped_goals
    assert {k for k, v in tasks.items() if v[0]["status"] == "cancelled"} == dropped_tasks
    assert len(chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))) == 1


# How the EHR takes transactions; none of it is configured for the tenant: the app learns it from refusals.
TRANSACTION_POLICIES = {
    "as-it-is": {},  # the sandbox takes any; the engine refuses more than 8 conditional entries (HTTP 400)
    "capped-at-8": {"max_transaction_entries": 8},
    "refused": {"transactions_refused": True},
}


# What the filing page says the plan was sent as, by policy and by EHR (engine or not).
STRATEGY_SHOWN = {
    ("as-it-is", False): "sent as one transaction",
    ("as-it-is", True): "sent as transactions of at most 6 entries",  # 24 refused, 12 refused, then 6
    ("capped-at-8", False): "sent as transactions of at most 8 entries",  # the number in the 413
    ("capped-at-8", True): "sent as transactions of at most 8 entries",
    ("refused", False): "sent as one write at a time",
    ("refused", True): "sent as one write at a time",
}


@pytest.mark.parametrize("policy", TRANSACTION_POLICIES)
def test_a_real_size_plan_and_its_revision_are_filed_whatever_transactions_the_ehr_takes(app, sandbox, chart,
                                                                                        policy):
    sandbox.control("config", TRANSACTION_POLICIES[policy])
    first = sign(app, sandbox, a_big_plan())
    page = chart.file()
    assert outcome_of(page) == "filed", page
    engine = sandbox.config.upstream_fhir is not None
    assert STRATEGY_SHOWN[policy, engine] in page
    assert_ehr_holds_exactly(chart, first)
    revised = sign(app, sandbox, a_revision(first.plan), base=first)
    sandbox.control("requests/clear")
    page = chart.file()
    assert outcome_of(page) == "filed", page
    refused = [r for r in sandbox.fhir_requests() if r["path"] in ("/fhir", "/fhir/") and r["status"] >= 400]
    assert refused == []  # what the first filing's refusals taught is kept: the revision is not refused again
    assert_ehr_holds_exactly(chart, revised, ended=(first.plan,))
    assert content_of(chart.plan_in_ehr(revised)) == content_of(replace(
        revised.plan, goals=tuple(replace(g, lifecycle=GoalLifecycle.ACTIVE) for g in revised.plan.goals)))
    ended = chart.gateway().read(f"Provenance/{provenance_id(revised.plan_id, revised.version)}-ended")
    assert len(ended["target"]) == 2 + 6 and "revision 2" in ended["reason"][0]["text"]


# What the page says is in the EHR after k creates: the care team, then 6 goals, the care plan, 15 tasks.
PARTS_AFTER = {1: "In the EHR already: the care team.",
               7: "In the EHR already: the care team, 6 of 6 goals.",
               15: "In the EHR already: the care team, 6 of 6 goals, the care plan, 7 of 15 tasks."}


@pytest.mark.parametrize("k", [1, 7, 15])
def test_a_filing_cut_off_after_its_kth_write_is_completed_by_try_again_without_duplicates(app, sandbox, chart, k):
    sandbox.control("config", {"transaction_supported": False, "faults": [
        {"path_regex": r"^/fhir/[A-Z]", "method": "POST", "status": 500, "after": k}]})
    first = sign(app, sandbox, a_big_plan())
    page = chart.file()
    assert outcome_of(page) == "failed" and PARTS_AFTER[k] in page and "without making duplicates" in page
    assert outcome_of(chart.file()) == "filed"
    assert_ehr_holds_exactly(chart, first)


@pytest.mark.parametrize("k", [1, 2])
def test_a_filing_in_capped_transactions_cut_off_after_its_kth_transaction_is_completed(app, sandbox, chart, k):
    """The EHR takes 8 entries (learned from its 413, which passes the fault too); transaction k+1 fails."""
    sandbox.control("config", {"max_transaction_entries": 8, "faults": [
        {"path_regex": r"^/fhir/?\?", "method": "POST", "status": 500, "after": k + 1}]})
    first = sign(app, sandbox, a_big_plan())
    page = chart.file()
    assert outcome_of(page) == "failed" and "without making duplicates" in page
    assert outcome_of(chart.file()) == "filed"
    assert_ehr_holds_exactly(chart, first)


@pytest.mark.parametrize("k", [2, 9])
def test_a_revision_cut_off_after_its_kth_update_is_completed_by_try_again(app, sandbox, chart, k):
    sandbox.control("config", {"transaction_supported": False})
    first = sign(app, sandbox, a_big_plan())
    assert outcome_of(chart.file()) == "filed"
    revised = sign(app, sandbox, a_revision(first.plan), base=first)
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/[A-Z]", "method": "PUT", "status": 500,
                                           "after": k}]})
    page = chart.file()
    assert outcome_of(page) == "failed" and "without making duplicates" in page
    page = chart.file()
    assert outcome_of(page) == "filed", page
    assert_ehr_holds_exactly(chart, revised, ended=(first.plan,))


def test_without_careplan_create_the_plan_is_filed_as_a_note_with_xhtml_and_pdf(app, sandbox, client):
    sandbox.control("config", {"write_types": ["DocumentReference", "Provenance"]})
    chart = Chart(app, client, sandbox)
    AboutStore(app.extensions["spoc"].engine).save_intake(
        sandbox.iss, PATIENT, answers_from_mapping({"strengths": "We love music and swimming"}), base_version=0,
        saved_by="Maya Chen", now=SIGNED_AT)
    first = sign(app, sandbox, a_plan())
    page = chart.file()
    assert 'data-tier="note"' in page and "does not accept CarePlan records" in page
    assert outcome_of(page) == "filed"
    note, = chart.search("DocumentReference", ("identifier", f"{NOTE_IDENTIFIER_SYSTEM}|{first.plan_id}.v1"))
    assert note["type"]["coding"][0]["code"] == "18776-5" and note["docStatus"] == "final"
    xhtml, pdf = note["content"]
    assert xhtml["attachment"]["contentType"] == "application/xhtml+xml; charset=utf-8"
    document = base64.b64decode(xhtml["attachment"]["data"]).decode()
    assert "Arrange feeding-pump replacement" in document and "We love music and swimming" in document
    assert base64.b64decode(pdf["attachment"]["data"]).startswith(b"%PDF")
    assert chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{first.plan_id}")) == []

    sign(app, sandbox, a_plan(revision=2), base=first)
    assert outcome_of(chart.file()) == "filed"
    revision, = chart.search("DocumentReference", ("identifier", f"{NOTE_IDENTIFIER_SYSTEM}|{first.plan_id}.v2"))
    assert revision["relatesTo"] == [{"code": "replaces", "target": {"reference": f"DocumentReference/{note['id']}"}}]


def test_without_the_careplan_scope_the_note_tier_is_chosen(settings, sandbox):
    scopes = ("openid", "fhirUser", "patient/Patient.rs", "patient/Condition.rs", "patient/CarePlan.rs",
              "patient/DocumentReference.crs", "patient/Goal.cu", "patient/Task.cu", "patient/CareTeam.cu")
    app = create_app(settings, TenantRegistry([a_tenant(sandbox, scopes=scopes)]), clock=CLOCK)
    try:
        chart = Chart(app, app.test_client(), sandbox)
        sign(app, sandbox, a_plan())
        page = chart.file()
        assert 'data-tier="note"' in page and "permission to save CarePlan" in page
        assert outcome_of(page) == "filed"
    finally:
        app.extensions["spoc"].engine.dispose()


def test_without_documentreference_either_the_plan_stays_in_the_app_and_says_why(app, sandbox, client):
    sandbox.control("config", {"write_types": []})
    chart = Chart(app, client, sandbox)
    sign(app, sandbox, a_plan())
    page = chart.page()
    assert 'data-tier="app-only"' in page and "Kept in this app only" in page
    assert "CarePlan" in page and "DocumentReference" in page and 'id="file-form"' not in page
    sandbox.control("requests/clear")
    assert outcome_of(chart.file()) == "not-filed"
    assert not [r for r in sandbox.fhir_requests() if r["method"] in ("POST", "PUT")]


def test_the_pdf_rendition_opens_as_a_pdf_of_the_signed_plan(app, sandbox, chart, tmp_path):
    sign(app, sandbox, a_plan())
    response = chart.client.get(f"/p/{chart.launch_id}/filing/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(response.data)
    text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                                   timeout=60).stdout.decode().split())
    assert "Sofia Isabel Rivera" in text
    plan = a_plan()
    for line in (*(g.text for g in plan.goals), *(a.text for a in plan.actions), "Maya Chen", "Dr Grace Okafor"):
        assert line in text, line


def test_with_the_default_scopes_a_revision_is_filed_even_though_tasks_cannot_be_read_back(settings, sandbox):
    app = create_app(settings, TenantRegistry([a_tenant(sandbox)]), clock=CLOCK)
    try:
        chart = Chart(app, app.test_client(), sandbox)
        first = sign(app, sandbox, a_plan())
        assert outcome_of(chart.file()) == "filed"
        sign(app, sandbox, a_plan(revision=2, family_priority="Sofia at school every day"), base=first)
        page = chart.file()
        assert outcome_of(page) == "filed" and 'id="ehr-changes"' not in page
    finally:
        app.extensions["spoc"].engine.dispose()
