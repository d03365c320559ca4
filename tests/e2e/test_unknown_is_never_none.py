"""Unknown is never "none" (issue 14): the summary is the same whatever a server or a proxy does to the
query, every active Condition shows whatever its category, "no known allergies" is a statement, and the
signed documents never change after signing. SQLite only: these tests are about the EHR, not the store."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest

from sandbox.data.characters import (
    ADULT_ID,
    CHILD_ID,
    COORDINATOR_USER_ID,
    PATIENT_IDS,
    PHYSICIAN_USER_ID,
    VISITS_ONLY_ID,
    build_resources,
)
from smart_app.plan.record import SECTION_KEYS, SectionState
from smart_app.security import BROWSER_COOKIE
from tests.support import TODAY, launch, launch_id_of


@pytest.fixture
def database_url(tmp_path) -> str:
    from smart_app.store import upgrade

    url = f"sqlite:///{tmp_path / 'spoc.db'}"
    upgrade(url)
    return url


class Launched:
    """One launch of the app for a patient, with the service layer at hand."""

    def __init__(self, app, client, sandbox, patient_id: str) -> None:
        self.app, self.client = app, client
        self.launch_id = launch_id_of(launch(client, sandbox, patient_id))
        state = app.extensions["spoc"]
        self.session = state.sessions.load(self.launch_id, client.get_cookie(BROWSER_COOKIE).value)
        self.tenant = state.tenants.for_iss(self.session.iss)
        self.services = state.services

    def summary(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Each section's state and its current items, as the pages show them."""
        found = self.services.summary.summary(self.session, self.tenant)
        return {key: (found.section(key).state.value, tuple(sorted(i.label for i in found.section(key).active)))
                for key in SECTION_KEYS}

    def page(self, path: str) -> str:
        response = self.client.get(f"/p/{self.launch_id}{path}")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_data(as_text=True)


# -- what a server or a proxy does to the query --------------------------------------------------------

HOSTILE_VALUE = "http://x.example/a//b|c:d,e?f&g=h#i%j+k l é"


def test_every_reserved_character_reaches_the_server_unchanged_through_a_collapsing_proxy(app, client, sandbox):
    sandbox.control("config", {"collapsing_proxy": True})
    chart = Launched(app, client, sandbox, CHILD_ID)
    gateway = chart.services.summary.ehr.gateway(chart.session, chart.tenant)
    found = gateway.search("Condition", [("patient", f"Patient/{CHILD_ID}"), ("identifier", HOSTILE_VALUE)],
                           max_pages=1)
    # The sandbox's self link says what it searched for, after the proxy.
    echoed = dict(parse_qsl(urlsplit(found.self_link).query))
    assert echoed["identifier"] == HOSTILE_VALUE


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_the_summary_is_the_same_behind_a_collapsing_proxy_and_on_a_server_that_ignores_filters(
        app, client, sandbox, patient_id):
    plain = Launched(app, client, sandbox, patient_id).summary()
    sandbox.control("config", {"collapsing_proxy": True})
    behind_a_proxy = Launched(app, client, sandbox, patient_id).summary()
    sandbox.control("config", {"collapsing_proxy": False, "filters_ignored": True})
    unfiltered = Launched(app, client, sandbox, patient_id).summary()
    assert behind_a_proxy == plain
    assert unfiltered == plain
    assert all(state == SectionState.COMPLETE.value for state, _ in plain.values())


def active_condition_names(patient_id: str) -> set[str]:
    return {r["code"]["text"] for r in build_resources(TODAY)
            if r["resourceType"] == "Condition" and r["subject"]["reference"] == f"Patient/{patient_id}"
            and r.get("clinicalStatus", {}).get("coding", [{}])[0].get("code") == "active"}


@pytest.mark.parametrize("patient_id,group", [(ADULT_ID, "Other conditions"),
                                              (VISITS_ONLY_ID, "Diagnoses from visits")])
def test_conditions_without_a_problem_list_category_all_show_grouped(app, client, sandbox, patient_id, group):
    chart = Launched(app, client, sandbox, patient_id)
    _, shown = chart.summary()["conditions"]
    expected = active_condition_names(patient_id)
    assert set(shown) == expected and len(expected) >= 3
    page = chart.page("/full")
    assert f'data-testid="group">{group}</h3>' in page
    assert all(name in page for name in expected)
    if patient_id == ADULT_ID:
        assert len(expected) == 19


def test_no_known_allergies_is_said_with_its_date_on_the_page_and_in_every_printed_form(app, client, sandbox):
    chart = Launched(app, client, sandbox, VISITS_ONLY_ID)
    recorded = date.fromisoformat(next(r["recordedDate"] for r in build_resources(TODAY)
                                       if r["id"] == f"{VISITS_ONLY_ID}-allergy-nka"))
    statement = f"No known allergies (recorded {recorded.day} {recorded:%B %Y})"
    assert statement in chart.page("/full")
    assert statement in chart.page("/family-copy?lang=en")
    assert "Sin alergias conocidas (registrado el" in chart.page("/family-copy?lang=es")
    assert "lists no allergies" not in chart.page("/full")


# -- the signed documents are what was signed -----------------------------------------------------------


def sign_for(app, sandbox, patient_id: str = CHILD_ID):
    from tests.e2e.test_plan import PlanUser

    coordinator = PlanUser(app, sandbox, "coordinator", COORDINATOR_USER_ID, patient=patient_id)
    clinician = PlanUser(app, sandbox, "clinician", PHYSICIAN_USER_ID, patient=patient_id)
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Sleep through the night", kind="family")
    coordinator.do("submit-for-review")
    coordinator.do("sign")
    clinician.do("sign")
    return coordinator


def pdf_words(body: bytes, tmp_path, name: str) -> str:
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(body)
    return " ".join(subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())


def test_the_signed_documents_do_not_change_when_the_ehr_and_the_curation_do(app, sandbox, tmp_path):
    from tests.e2e.test_tracking import NEW_CONDITION_ID, a_new_problem

    coordinator = sign_for(app, sandbox)
    client, base = coordinator.client, f"/p/{coordinator.launch_id}"
    signed_pdf = pdf_words(client.get(f"{base}/filing/pdf").data, tmp_path, "before")
    copy = client.get(f"{base}/family-copy?lang=en").get_data(as_text=True)
    assert "levetiracetam" in signed_pdf and re.search(r"levetiracetam — \d", signed_pdf)  # with its dose
    assert "Latex" in signed_pdf and "Latex" in copy

    sandbox.control("resources", [a_new_problem(TODAY)])  # the EHR moves on
    page = client.get(f"{base}/full").get_data(as_text=True)
    latex = re.search(r'data-ref="(AllergyIntolerance/[^"]+)"(?:(?!data-ref=).)*?class="item-label">Latex', page, re.S)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"{base}/items/hide", data={"ref": latex.group(1), "reason": "test", "section": "allergies",
                                                   "csrf_token": token}).status_code == 303
    assert client.post(f"{base}/added", data={"section": "equipment", "label": "New stander", "csrf_token": token}
                       ).status_code == 303

    assert pdf_words(client.get(f"{base}/filing/pdf").data, tmp_path, "after") == signed_pdf
    assert client.get(f"{base}/family-copy?lang=en").get_data(as_text=True) == copy
    progress = client.get(f"{base}/progress").get_data(as_text=True)
    assert f"condition-new:Condition/{NEW_CONDITION_ID}" in progress  # the change shows where it belongs
    now = client.get(f"{base}/full").get_data(as_text=True)
    assert "New stander" in now and "Obstructive sleep apnea" in now  # and the live summary has both


def test_the_progress_page_says_which_changes_could_not_be_checked(app, sandbox):
    coordinator = sign_for(app, sandbox)
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/Condition", "status": 500, "times": -1}]})
    progress = coordinator.client.get(f"/p/{coordinator.launch_id}/progress").get_data(as_text=True)
    assert "The active conditions could not be loaded from the health record on" in progress
    assert "Changes there are not known." in progress
    assert "No new health events since" not in progress
