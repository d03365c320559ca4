"""The family's door (issue 18): a SMART standalone launch from the sandbox EHR's patient portal.

The signed-in person is checked against the EHR (the patient, or a RelatedPerson the EHR links to the
patient), the site's adolescent rule decides whether a parent may open the plan, and the family page
says which rule applies. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from smart_app.store.schema import audit_events, launch_sessions
from smart_app.tenants import TenantRegistry
from tests.e2e.test_plan import CHILD, PlanUser
from tests.support import a_tenant, authorize_at_sandbox, family_launch, path_of

TEEN = "daniel-oconnor"


@pytest.fixture
def site() -> dict:
    """The tenant entry's family settings for one test (parametrize it to change them)."""
    return {}


@pytest.fixture
def tenants(sandbox, site) -> TenantRegistry:
    return TenantRegistry([a_tenant(sandbox, **site)])


def family_page_of(client, landed) -> tuple[str, str]:
    assert landed.status_code == 303, landed.get_data(as_text=True)[:1500]
    launch_id = re.fullmatch(r".*/f/([A-Za-z0-9_-]+)/", landed.headers["Location"]).group(1)
    page = client.get(f"/f/{launch_id}/")
    assert page.status_code == 200, page.get_data(as_text=True)[:1500]
    return launch_id, page.get_data(as_text=True)


def audit_rows(app, action: str) -> list:
    with app.extensions["spoc"].engine.connect() as conn:
        return conn.execute(sa.select(audit_events).where(audit_events.c.action == action)).all()


def test_the_mother_signs_in_through_the_portal_and_lands_on_her_familys_page(app, sandbox):
    client = app.test_client()
    start = client.get(f"/launch/family?{urlencode({'iss': sandbox.iss})}")
    asked = parse_qs(urlsplit(start.headers["Location"]).query)["scope"][0].split()
    assert "launch/patient" in asked and "openid" in asked and "fhirUser" in asked
    # The family's launch reads who signed in, never writes, never asks beyond the patient.
    resource_scopes = [s for s in asked if "/" in s and not s.startswith("launch")]
    assert [s.rsplit(".", 1)[0] for s in resource_scopes] == ["patient/Patient", "patient/RelatedPerson"]
    assert all(s.endswith((".rs", ".read")) for s in resource_scopes), resource_scopes
    launch_id, page = family_page_of(client, family_launch(client, sandbox, "ana-rivera"))
    assert "Ana Lucía Rivera (mother)" in page
    assert "Parents and guardians see the plan of a child under 12." in page  # the rule that applies
    with app.extensions["spoc"].engine.connect() as conn:
        row = conn.execute(sa.select(launch_sessions).where(launch_sessions.c.launch_id == launch_id)).one()
    assert (row.audience, row.access_rule, row.patient_id) == ("family", "child", CHILD)
    assert row.fhir_user.endswith(f"/RelatedPerson/{CHILD}-relatedperson-mother")
    [admitted] = audit_rows(app, "family-admitted")
    assert (admitted.outcome, admitted.patient_id) == ("success", CHILD)


def test_an_adult_patient_signs_in_for_himself(app, sandbox):
    client = app.test_client()
    _, page = family_page_of(client, family_launch(client, sandbox, "walter-hughes"))
    assert "Walter Hughes" in page and "this is your own plan" in page


def test_a_parent_of_an_adolescent_asks_the_care_team_and_gets_in_once_they_say_yes(app, sandbox):
    client = app.test_client()
    refused = family_launch(client, sandbox, "karen-oconnor")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "the care team decides who else sees the plan" in text
    assert "el equipo de atención decide" in text  # her language is not known yet: both
    assert family_launch(app.test_client(), sandbox, "karen-oconnor").status_code == 403  # tries again

    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee", patient=TEEN)
    summary = coordinator.client.get(f"/p/{coordinator.launch_id}/").get_data(as_text=True)
    asks = re.findall(r'data-testid="family-request-access" data-request-id="([\w-]+)"', summary)
    assert len(asks) == 1, "one open access request, however often she tries"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', summary).group(1)
    answered = coordinator.client.post(f"/p/{coordinator.launch_id}/family-requests/{asks[0]}",
                                       data={"csrf_token": csrf, "status": "accepted", "back": "summary"})
    assert answered.status_code == 303, answered.get_data(as_text=True)[:800]

    _, page = family_page_of(client, family_launch(client, sandbox, "karen-oconnor"))
    assert "they gave you access" in page
    assert [r.outcome for r in audit_rows(app, "family-admitted")] == ["denied", "denied", "success"]


@pytest.mark.parametrize("site", [{"adolescent_parent_access": "off"}])
def test_where_the_site_says_off_a_parent_of_an_adolescent_is_refused_and_nothing_is_asked(app, sandbox, site):
    refused = family_launch(app.test_client(), sandbox, "karen-oconnor")
    assert refused.status_code == 403
    assert "only the patient sees their plan" in refused.get_data(as_text=True)
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee", patient=TEEN)
    assert "Karen O&#39;Connor" not in coordinator.client.get(f"/p/{coordinator.launch_id}/").get_data(as_text=True)


@pytest.mark.parametrize("site", [{"adolescent_parent_access": "on"}])
def test_where_the_site_says_on_a_parent_of_an_adolescent_is_admitted_and_told_why(app, sandbox, site):
    client = app.test_client()
    _, page = family_page_of(client, family_launch(client, sandbox, "karen-oconnor"))
    assert "parents and guardians also see the plan of a patient 12 or older" in page


@pytest.mark.parametrize("site", [{"family_launch": False}])
def test_a_site_that_has_not_opened_the_family_door_refuses_before_any_sign_in(app, sandbox, site):
    response = app.test_client().get(f"/launch/family?{urlencode({'iss': sandbox.iss})}")
    assert response.status_code == 403 and "has not opened" in response.get_data(as_text=True)
    assert "Location" not in response.headers


def test_a_portal_account_the_ehr_links_to_another_patient_is_refused_and_its_session_ended(app, sandbox):
    sandbox.control("config", {"portal_accounts": [
        {"account_id": "mixed-up", "display": "Karen O'Connor", "user_type": "RelatedPerson",
         "user_id": f"{TEEN}-relatedperson-mother", "patient_id": CHILD, "relation": "mother of Daniel"}]})
    refused = family_launch(app.test_client(), sandbox, "mixed-up")
    assert refused.status_code == 403
    assert "does not list you as family of this patient" in refused.get_data(as_text=True)
    with app.extensions["spoc"].engine.connect() as conn:
        rows = conn.execute(sa.select(launch_sessions.c.end_reason).where(launch_sessions.c.audience == "family")).all()
    assert [r.end_reason for r in rows] == ["family-refused"]


def test_a_clinician_through_the_family_door_is_sent_to_the_chart(app, sandbox):
    client = app.test_client()
    start = client.get(f"/launch/family?{urlencode({'iss': sandbox.iss})}")
    # No portal account: the sandbox's provider picker, a clinician picking Sofia.
    callback = authorize_at_sandbox(f"{start.headers['Location']}&{urlencode({'sandbox_patient': CHILD})}")
    refused = client.get(path_of(callback))
    assert refused.status_code == 403
    assert "The care team opens the plan from the patient's chart" in html.unescape(refused.get_data(as_text=True))
