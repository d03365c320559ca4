"""Against an engine nobody here wrote (issue 14, item 6): Medplum's FHIR router over its in-memory repository
(engine/server.mjs), alone and behind the sandbox's SMART front door.

Its own behaviour is the point, so these tests state what it does, and a difference from the sandbox is
a finding, kept visible: tests that fail for a known difference are xfail(strict=True), so they start
failing the day the difference goes away. Run them with `pytest -m engine`.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from difflib import unified_diff
from html import unescape

import pytest
import requests

from sandbox.data.characters import PATIENT_IDS, build_resources
from smart_app.plan.careplan import PLAN_IDENTIFIER_SYSTEM, plan_from_fhir
from smart_app.plan.model import Goal, GoalLifecycle, NegotiatedAction, Owner, Role
from smart_app.tenants import TenantRegistry
from tests.e2e.test_writeback import READ_BACK_SCOPES, Chart, a_plan, outcome_of, sign
from tests.support import a_tenant, launch, launch_id_of

pytestmark = [pytest.mark.engine, pytest.mark.slow]

FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
GOAL_SYSTEM = "urn:spoc:test:goal"
SOFIA = "sofia-rivera"


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite only: these tests are about the FHIR server, not the store."""
    from smart_app.store import upgrade

    url = f"sqlite:///{tmp_path / 'spoc.db'}"
    upgrade(url)
    return url


# --- (a) the engine itself, without the sandbox ------------------------------------------------

def fhir(engine, method: str, path: str, body: dict | None = None, **headers) -> requests.Response:
    return requests.request(method, f"{engine.base}/{path}", json=body, timeout=10,
                            headers={**FHIR_JSON, **{k.replace("_", "-"): v for k, v in headers.items()}})


def a_goal(value: str) -> dict:
    return {"resourceType": "Goal", "lifecycleStatus": "active", "description": {"text": f"Goal {value}"},
            "subject": {"reference": f"Patient/{SOFIA}"}, "identifier": [{"system": GOAL_SYSTEM, "value": value}]}


def test_search_pages_through_every_match_with_absolute_links(engine):
    engine.fresh()
    first = fhir(engine, "GET", f"Encounter?patient=Patient/{SOFIA}&_count=3").json()
    seen, page, pages = [], first, 0
    while True:
        pages += 1
        assert all(link["url"].startswith(engine.base + "/Encounter?") for link in page["link"])
        assert len(page.get("entry", [])) <= 3
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = requests.get(following[0], headers=FHIR_JSON, timeout=10).json()
    assert first["total"] > 6 and pages == -(-first["total"] // 3)
    assert len(seen) == len(set(seen)) == first["total"]


def test_a_conditional_create_sent_twice_makes_one_resource(engine):
    engine.fresh()
    first = fhir(engine, "POST", "Goal", a_goal("twice"), If_None_Exist=f"identifier={GOAL_SYSTEM}|twice")
    again = fhir(engine, "POST", "Goal", a_goal("twice"), If_None_Exist=f"identifier={GOAL_SYSTEM}|twice")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert fhir(engine, "GET", f"Goal?identifier={GOAL_SYSTEM}|twice").json()["total"] == 1


def test_an_update_with_a_stale_if_match_is_refused_with_412(engine):
    engine.fresh()
    created = fhir(engine, "POST", "Goal", a_goal("stale"))
    stale = created.headers["ETag"]
    current = fhir(engine, "PUT", f"Goal/{created.json()['id']}", created.json() | {"lifecycleStatus": "on-hold"},
                   If_Match=stale)
    assert current.status_code == 200 and current.headers["ETag"] != stale
    refused = fhir(engine, "PUT", f"Goal/{created.json()['id']}", created.json() | {"lifecycleStatus": "cancelled"},
                   If_Match=stale)
    assert refused.status_code == 412 and refused.json()["resourceType"] == "OperationOutcome"
    assert fhir(engine, "GET", f"Goal/{created.json()['id']}").json()["lifecycleStatus"] == "on-hold"


def test_a_write_that_is_not_valid_r4_is_refused_with_what_is_wrong(engine):
    refused = fhir(engine, "POST", "Goal", a_goal("invalid") | {"lifecycleStatus": None, "colour": "red"})
    assert refused.status_code == 400
    assert {"Goal.colour", "Goal.lifecycleStatus"} <= {x for i in refused.json()["issue"] for x in i["expression"]}


def test_a_code_outside_its_required_value_set_is_not_refused(engine):
    """What the engine does: Medplum's validation checks structure and cardinality, not code bindings."""
    taken = fhir(engine, "POST", "Goal", a_goal("binding") | {"lifecycleStatus": "not-a-status"})
    assert taken.status_code == 201


def test_an_unknown_search_parameter_matches_nothing(engine):
    """What the engine does: no 400 and no ignoring, an empty searchset (the sandbox ignores the parameter)."""
    unknown = fhir(engine, "GET", f"Condition?patient=Patient/{SOFIA}&no-such-parameter=1")
    assert unknown.status_code == 200 and unknown.json()["total"] == 0
    assert "no-such-parameter=1" in unknown.json()["link"][0]["url"]


def test_a_transaction_of_more_than_eight_conditional_entries_is_refused_whole(engine):
    engine.fresh()
    entries = [{"fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{n}", "resource": a_goal(f"t{n}"),
                "request": {"method": "POST", "url": "Goal", "ifNoneExist": f"identifier={GOAL_SYSTEM}|t{n}"}}
               for n in range(9)]
    refused = fhir(engine, "POST", "", {"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert refused.status_code == 400
    assert "too many entries" in refused.json()["issue"][0]["details"]["text"]
    taken = fhir(engine, "POST", "", {"resourceType": "Bundle", "type": "transaction", "entry": entries[:8]})
    assert taken.status_code == 200 and fhir(engine, "GET", f"Goal?identifier={GOAL_SYSTEM}|").json()["total"] == 8


def test_a_transaction_with_one_invalid_entry_leaves_nothing_behind(engine):
    engine.fresh()
    entries = [{"resource": a_goal(f"r{n}"), "request": {"method": "POST", "url": "Goal"}} for n in range(3)]
    entries[2]["resource"]["colour"] = "red"
    refused = fhir(engine, "POST", "", {"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert refused.status_code == 400
    assert fhir(engine, "GET", f"Goal?identifier={GOAL_SYSTEM}|").json()["total"] == 0


def test_the_engine_stamps_last_updated_itself(engine):
    """What the engine does: meta.lastUpdated is its clock's, whatever the written resource says (the plain
    sandbox keeps the characters' own, and the app shows it as "recorded" where a resource has no date)."""
    written = fhir(engine, "PUT", "Goal/stamped", a_goal("stamped") | {"id": "stamped",
                                                                       "meta": {"lastUpdated": "2020-01-01T00:00:00Z"}})
    assert written.status_code == 200 and written.json()["meta"]["lastUpdated"] > "2025"


def test_a_reference_search_by_bare_id_finds_nothing(engine):
    """What the engine does: the same search, two spellings."""
    by_reference = fhir(engine, "GET", f"Condition?patient=Patient/{SOFIA}").json()["total"]
    by_bare_id = fhir(engine, "GET", f"Condition?patient={SOFIA}").json()["total"]
    assert (by_reference > 0, by_bare_id) == (True, 0)


# --- (b) the summary through the sandbox's front door -------------------------------------------

def sections(client, launch_id: str) -> dict[str, str]:
    response = client.get(f"/p/{launch_id}/sections")
    assert response.status_code == 200
    return {m["key"]: m["html"] for m in map(json.loads, response.get_data(as_text=True).splitlines())}


def readable(html: str) -> list[str]:
    """A section as lines a person reads, with each item's EHR reference and no per-launch tokens."""
    html = re.sub(r"<form.*?</form>|<summary>Note or hide.*?</summary>", "", html, flags=re.S)
    html = re.sub(r'data-ref="([^"]+)"[^>]*>', r">[\1] ", html)
    html = re.sub(r'data-state="([^"]+)"[^>]*>', r">(\1) ", html)
    text = unescape(re.sub(r"<[^>]+>", "\n", html))
    return [line for line in (" ".join(part.split()) for part in text.splitlines()) if line]


def summary(client, sandbox, patient_id: str) -> dict[str, list[str]]:
    return {key: readable(html) for key, html in sections(client, launch_id_of(launch(client, sandbox, patient_id)))
            .items() if key != "done"}


def differences(plain: dict[str, list[str]], engine: dict[str, list[str]]) -> str:
    return "\n".join(line for key in sorted(set(plain) | set(engine)) if plain.get(key) != engine.get(key)
                     for line in unified_diff(plain.get(key, []), engine.get(key, []), f"sandbox {key}",
                                              f"engine {key}", lineterm=""))


class TestTheSummaryThroughTheFrontDoor:
    """One app, two EHRs: the plain sandbox, and the sandbox in front of the engine, with the same record."""

    @pytest.fixture
    def sandbox_config(self, sandbox_config):
        """The plain sandbox holds the characters as a server would: with its own meta.lastUpdated, like the
        engine (see test_the_engine_stamps_last_updated_itself), so that the two are compared on equal data."""
        sandbox_config.resources = [{**r, "meta": {}} for r in build_resources(sandbox_config.today)]
        return sandbox_config

    @pytest.fixture
    def two_ehrs(self, sandbox, engine_sandbox):
        return sandbox, engine_sandbox

    @pytest.fixture
    def tenants(self, two_ehrs) -> TenantRegistry:
        return TenantRegistry([a_tenant(ehr) for ehr in two_ehrs])

    @pytest.mark.parametrize("patient_id", PATIENT_IDS)
    def test_it_is_the_summary_from_the_sandbox(self, client, two_ehrs, patient_id):
        """The app names the patient as `Patient/{id}`, which both servers match (the engine matches nothing
        for a bare id: see test_a_reference_search_by_bare_id_finds_nothing)."""
        plain, engine = (summary(client, ehr, patient_id) for ehr in two_ehrs)
        assert plain == engine, differences(plain, engine)


# --- (c) write-back through the sandbox's front door --------------------------------------------

def plan_of(goals: int, actions: int):
    base = a_plan()
    more_goals = tuple(Goal(f"g{n}", f"Goal number {n}", target_date=date(2026, 12, 1), lifecycle=GoalLifecycle.ACTIVE)
                       for n in range(3, goals + 1))
    more_actions = tuple(NegotiatedAction(f"a{n}", f"Action number {n}", Owner(Role.COORDINATOR, "Maya Chen"), "g1",
                                          date(2026, 9, 1)) for n in range(4, actions + 1))
    return replace(base, goals=base.goals[:goals] + more_goals, actions=base.actions[:actions] + more_actions)


def filed_plan(engine, version) -> tuple:
    """The plan as the engine holds it, read straight from the engine (no token, no bare-id searches)."""
    careplan, = [e["resource"] for e in fhir(engine, "GET", f"CarePlan?identifier={PLAN_IDENTIFIER_SYSTEM}|"
                                                            f"{version.plan_id}").json().get("entry", [])]
    goals = [fhir(engine, "GET", g["reference"]).json() for g in careplan["goal"]]
    tasks = [fhir(engine, "GET", a["reference"]["reference"]).json() for a in careplan["activity"]]
    return careplan, goals, tasks


class TestWriteBackThroughTheFrontDoor:
    @pytest.fixture
    def tenants(self, engine_sandbox) -> TenantRegistry:
        return TenantRegistry([a_tenant(engine_sandbox, scopes=READ_BACK_SCOPES)])

    def test_a_plan_of_two_goals_and_three_actions_is_filed_in_one_transaction(self, app, client, engine_sandbox,
                                                                               engine):
        version = sign(app, engine_sandbox, plan_of(2, 3))
        page = Chart(app, client, engine_sandbox).file()
        assert outcome_of(page) == "filed" and 'data-tier="structured"' in page
        writes = [r["path"] for r in engine_sandbox.fhir_requests() if r["method"] in ("POST", "PUT")]
        assert len(writes) == 1 and writes[0].rstrip("/") == "/fhir"
        careplan, goals, tasks = filed_plan(engine, version)
        assert (len(goals), len(tasks)) == (2, 3)
        assert plan_from_fhir(careplan, goals, tasks) == replace(version.plan, positions=(), signoffs=(),
                                                                 signed_at=None)

    def test_a_plan_of_three_goals_and_four_actions_is_filed_in_transactions_the_engine_takes(
            self, app, client, engine_sandbox, engine):
        """The engine refuses a transaction of more than 8 conditional entries (HTTP 400, "requires strict
        isolation but has too many entries"): the app learns it and sends smaller transactions (issue 15)."""
        version = sign(app, engine_sandbox, plan_of(3, 4))
        page = Chart(app, client, engine_sandbox).file()
        assert outcome_of(page) == "filed", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))[:600]
        assert "sent as transactions of at most 5 entries" in page  # 10 refused, then 5
        careplan, goals, tasks = filed_plan(engine, version)
        assert (len(goals), len(tasks)) == (3, 4)
