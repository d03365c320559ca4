"""Hostile text against the sandbox EHR (issue 12, items 3 and 10): control characters from the EHR or a
form never block filing nor break a store (PostgreSQL refuses NUL), and a bidi override never reorders
what stands around it on a page, the family copy or the filed narrative. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import html
import json
import re

import pytest

from sandbox.data.characters import build_resources
from smart_app.plan.careplan import PLAN_IDENTIFIER_SYSTEM
from smart_app.plan.note import NOTE_IDENTIFIER_SYSTEM, note_identifier
from tests.e2e.test_plan import PlanUser
from tests.e2e.test_writeback import READ_BACK_SCOPES, Chart, a_plan, outcome_of, sign
from tests.support import TODAY, a_tenant, assert_bidi_contained, launch, launch_id_of

CHILD = "sofia-rivera"
CONTROLS = "\x00\x1b[2J\x07\ufffe"
RLO, PDF, FSI, PDI = "\u202e", "\u202c", "\u2068", "\u2069"
SPOOF = f"{RLO}gnp.exe"  # reads "exe.png" where the override is let loose


def a_condition_of_the_child(text: str) -> dict:
    """Sofia's first active condition from the sandbox, renamed."""
    condition = next(r for r in build_resources(TODAY) if r["resourceType"] == "Condition"
                     and r["subject"]["reference"] == f"Patient/{CHILD}"
                     and r["clinicalStatus"]["coding"][0]["code"] == "active")
    return condition | {"code": {"text": text}}


def sections(client, launch_id: str) -> dict[str, str]:
    response = client.get(f"/p/{launch_id}/sections")
    assert response.status_code == 200
    return {m["key"]: m["html"] for m in map(json.loads, response.get_data(as_text=True).splitlines())}


def signed_by_both(app, sandbox, goal: str) -> None:
    """The coordinator types `goal` into the plan form; both sign."""
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    clinician = PlanUser(app, sandbox, "clinician", "amara-okafor")
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text=goal, kind="family", expressed_by="Ana Rivera (mother)")
    goal_id, = dict.fromkeys(coordinator.ids("goal"))
    coordinator.do("add-action", text="Keep a night log", owner_role="family", goal_id=goal_id)
    coordinator.do("submit-for-review")
    clinician.do("take-position", subject_id=goal_id, stance="agree", party="clinician")
    action_id, = dict.fromkeys(clinician.ids("action"))
    clinician.do("take-position", subject_id=action_id, stance="agree", party="clinician")
    coordinator.do("sign")
    clinician.do("sign")
    assert 'data-testid="plan-state">Signed' in clinician.page()


@pytest.fixture
def tenants(sandbox):
    from smart_app.tenants import TenantRegistry

    return TenantRegistry([a_tenant(sandbox, scopes=READ_BACK_SCOPES)])


# -- control characters ---------------------------------------------------------------------------


def test_control_characters_in_the_ehr_and_a_nul_typed_into_a_goal_do_not_block_filing(app, client, sandbox):
    sandbox.control("resources", [a_condition_of_the_child(f"Epi{CONTROLS}lepsy")])
    signed_by_both(app, sandbox, "Sleep through\x00 the night")
    chart = Chart(app, client, sandbox)
    page = chart.file()
    assert outcome_of(page) == "filed", re.search(r'id="outcome".*?</section>', page, re.DOTALL).group(0)
    version = app.extensions["spoc"].services.planning.plans.latest_signed(sandbox.iss, CHILD)
    assert version.plan.goals[0].text == "Sleep through the night"
    careplan, = chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))
    assert "Epi[2Jlepsy" in careplan["text"]["div"] and "Sleep through the night" in careplan["text"]["div"]


def test_control_characters_do_not_block_the_note_either(app, client, sandbox):
    sandbox.control("config", {"write_types": ["DocumentReference", "Provenance"]})
    sandbox.control("resources", [a_condition_of_the_child(f"Epi{CONTROLS}lepsy")])
    signed_by_both(app, sandbox, "Sleep through\x00 the night")
    chart = Chart(app, client, sandbox)
    assert outcome_of(chart.file()) == "filed"
    version = app.extensions["spoc"].services.planning.plans.latest_signed(sandbox.iss, CHILD)
    note, = chart.search("DocumentReference", ("identifier", f"{NOTE_IDENTIFIER_SYSTEM}|{note_identifier(version.plan_id, version.version)}"))
    document = base64.b64decode(note["content"][0]["attachment"]["data"]).decode()
    assert "Epi[2Jlepsy" in document and "Sleep through the night" in document


class Curation:
    """The summary's and About us's forms, as the coordinator fills them."""

    def __init__(self, client, sandbox) -> None:
        self.client = client
        self.launch_id = launch_id_of(launch(client, sandbox, CHILD))
        self.html = sections(client, self.launch_id)
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', self.html["conditions"]).group(1)

    def post(self, path: str, **form) -> int:
        response = self.client.post(f"/p/{self.launch_id}{path}", data={**form, "csrf_token": self.token})
        assert response.status_code == 303, response.get_data(as_text=True)[:800]
        return response.status_code

    def page(self, path: str) -> str:
        response = self.client.get(f"/p/{self.launch_id}{path}")
        assert response.status_code == 200
        return response.get_data(as_text=True)


def test_a_nul_in_a_note_hide_reason_added_item_consent_or_answer_is_saved_without_it(client, sandbox):
    user = Curation(client, sandbox)
    condition, device = (re.search(r'data-ref="([^"]+)"', user.html[key]).group(1) for key in ("conditions", "equipment"))
    user.post("/items/note", ref=device, note="Spare\x00 battery at school")
    user.post("/items/hide", ref=condition, reason="dupli\x00cate entry", section="conditions")
    user.post("/added", section="equipment", label="Feeding\x00 pump backpack", contact="Acme\x1b DME")
    user.post("/about/consent", reference="", recipient="School\x00 nurse", role="Nurse",
              consented_by="Ana Rivera\x00 (mother)", consented_on=TODAY.isoformat())
    user.post("/about/intake", strengths="Sofia loves\x00 music", base_version="0")
    shown = sections(client, user.launch_id)
    assert "Spare battery at school" in shown["equipment"] and "Feeding pump backpack" in shown["equipment"]
    assert "Acme DME" in shown["equipment"]
    assert "Left out of the plan: duplicate entry" in shown["conditions"]
    consent = user.page("/about/consent")
    assert "School nurse" in consent and "Ana Rivera (mother)" in consent
    assert "Sofia loves music" in user.page("/about")
    assert "\x00" not in "".join(shown.values()) + consent


# -- bidi overrides -------------------------------------------------------------------------------


def test_an_override_in_the_ehr_or_a_goal_is_isolated_on_the_summary_the_copy_and_the_narrative(
        app, client, sandbox):
    sandbox.control("resources", [a_condition_of_the_child(f"Asthma {SPOOF}")])
    signed_by_both(app, sandbox, f"Holiday photos {SPOOF}")
    chart = Chart(app, client, sandbox)
    shown = {
        "summary": "".join(sections(client, chart.launch_id).values()),
        "plan": client.get(f"/p/{chart.launch_id}/plan").get_data(as_text=True),
        "family copy": client.get(f"/p/{chart.launch_id}/family-copy?lang=en").get_data(as_text=True),
    }
    assert f"{FSI}Asthma {SPOOF}{PDF}{PDI}" in shown["summary"]
    assert f"{FSI}Holiday photos {SPOOF}{PDF}{PDI}" in shown["plan"]
    assert f"{FSI}Holiday photos {SPOOF}{PDF}{PDI}" in shown["family copy"]
    assert outcome_of(chart.file()) == "filed"
    version = app.extensions["spoc"].services.planning.plans.latest_signed(sandbox.iss, CHILD)
    careplan, = chart.search("CarePlan", ("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{version.plan_id}"))
    shown["narrative"] = careplan["text"]["div"]
    assert f"{FSI}Asthma {SPOOF}{PDF}{PDI}" in shown["narrative"]
    assert f"Family goal: {FSI}Holiday photos {SPOOF}{PDF}{PDI}" in shown["narrative"]
    for name, page in shown.items():
        assert_bidi_contained(page, name)


def test_a_goal_shown_isolated_in_its_edit_form_and_saved_again_keeps_its_words(app, sandbox):
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text=f"Holiday photos {SPOOF}", kind="family")
    goal_id, = dict.fromkeys(coordinator.ids("goal"))
    shown = html.unescape(re.search(r'<textarea name="text"[^>]*>([^<]*gnp\.exe[^<]*)</textarea>',
                                    coordinator.page()).group(1))
    assert shown == f"{FSI}Holiday photos {SPOOF}{PDF}{PDI}"
    for _ in range(2):
        coordinator.do("edit-goal", goal_id=goal_id, text=shown, kind="family")
    goal, = app.extensions["spoc"].services.planning.plans.current(sandbox.iss, CHILD).plan.goals
    assert goal.text == f"Holiday photos {SPOOF}{PDF}"


def test_control_characters_in_the_ehrs_copy_of_the_plan_are_cleaned_before_they_are_compared_or_kept(
        app, client, sandbox):
    chart = Chart(app, client, sandbox)
    first = sign(app, sandbox, a_plan())
    chart.file()
    task = next(t for t in chart.search("Task") if t.get("description") == "Arrange feeding-pump replacement")
    sandbox.control("resources", [task | {"description": "Pump replaced\x00 by vendor\x1b (EHR edit)"}])
    sign(app, sandbox, a_plan(revision=2, family_priority="Sofia at school every day"), base=first)
    page = chart.file()
    assert outcome_of(page) == "reconcile" and "Pump replaced by vendor (EHR edit)" in page
