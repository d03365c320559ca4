"""About us, consent and the family copy against the sandbox EHR (issue 6): the intake round-trips as a
QuestionnaireResponse, consent governs who the copy names, the PDF of the sandbox child's plan reads
right in English and Spanish, hostile text stays text, and the signed link opens the copy outside
the frame."""

from __future__ import annotations

import json
import logging
import re
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from markupsafe import Markup, escape

from smart_app.plan import about as a
from smart_app.plan import i18n
from smart_app.plan.model import Goal, GoalKind, NegotiatedAction, Owner, Plan, PlanState, Role
from smart_app.pdf import render_pdf
from smart_app.services import about_us
from smart_app.views import family_copy_pages as fc
from tests.support import CLOCK, ROOT, TODAY, launch, launch_id_of

CHILD = "sofia-rivera"
PDF_ARTIFACTS = ROOT / "test-artifacts" / "pdf"
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)> "quoted"'

GOALS = (
    Goal("g1", "Sleep through the night without pump alarms", kind=GoalKind.FAMILY,
         expressed_by="Ana Lucía Rivera (mother)", target_date=TODAY + timedelta(days=150)),
    Goal("g2", "Attend school four days a week", kind=GoalKind.CLINICAL, target_date=TODAY + timedelta(days=180)),
)
ACTIONS = (
    NegotiatedAction("a1", "Replace the feeding pump", owner=Owner(Role.COORDINATOR, "Jordan Lee"), goal_id="g1",
                     due=TODAY + timedelta(days=20)),
    NegotiatedAction("a2", "Keep a night log of alarms", owner=Owner(Role.FAMILY, "Ana Lucía Rivera"), goal_id="g1",
                     due=TODAY + timedelta(days=30)),
    NegotiatedAction("a3", "Review seizure medicines", owner=Owner(Role.SPECIALIST, "Henrik Larsen"), goal_id="g2",
                     due=TODAY + timedelta(days=45)),
    NegotiatedAction("a4", "Adjust ventilator settings", owner=Owner(Role.SPECIALIST, "Priya Raman"), goal_id="g2",
                     due=TODAY + timedelta(days=60)),
)


@pytest.fixture
def links(app):
    """The family-copy link blueprint, registered as smart_app/__init__.py is asked to."""
    if "family_copy_link" not in app.blueprints:
        app.register_blueprint(fc.links_bp)
    return app


class Chart:
    """The app as launched for the sandbox child, with helpers for its forms."""

    def __init__(self, app, client, sandbox) -> None:
        self.app, self.client, self.sandbox = app, client, sandbox
        self.launch_id = launch_id_of(launch(client, sandbox, CHILD))

    def url(self, path: str) -> str:
        return f"/p/{self.launch_id}{path}"

    def get(self, path: str, **kw):
        response = self.client.get(self.url(path), **kw)
        assert response.status_code == 200, response.get_data(as_text=True)[:800]
        return response

    def post(self, form_path: str, path: str, data: dict):
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(form_path).get_data(as_text=True)).group(1)
        return self.client.post(self.url(path), data={**data, "csrf_token": token})

    def fill_intake(self, answers: dict) -> None:
        html = self.get("/about/intake").get_data(as_text=True)
        base = re.search(r'name="base_version" value="(\d+)"', html).group(1)
        assert self.post("/about/intake", "/about/intake", {**answers, "base_version": base}).status_code == 303

    def consent_to(self, reference: str) -> None:
        form = {"reference": reference, "role": "", "consented_by": "Ana Lucía Rivera (mother, guardian)",
                "consented_on": TODAY.isoformat(), "start": TODAY.isoformat()}
        assert self.post("/about/consent", "/about/consent", form).status_code == 303

    def sign_plan(self) -> None:
        plan = Plan(goals=GOALS, actions=ACTIONS, state=PlanState.SIGNED, signed_at=CLOCK.now(),
                    next_review=TODAY + timedelta(days=182))
        self.app.extensions["spoc"].services.planning.plans.save(self.sandbox.iss, CHILD, plan, base_version=None,
                                                                 saved_by="Jordan Lee", now=CLOCK.now())

    def pdf_text(self, lang: str, name: str) -> str:
        response = self.get(f"/family-copy.pdf?lang={lang}")
        assert response.mimetype == "application/pdf"
        assert CHILD not in response.headers["Content-Disposition"]
        return pdf_to_text_and_png(response.data, name)


def pdf_to_text_and_png(data: bytes, name: str) -> str:
    """Save the PDF and its pages as PNG under test-artifacts/pdf/; return its text, whitespace folded."""
    PDF_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = PDF_ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(data)
    for old in PDF_ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(pdf), str(PDF_ARTIFACTS / name)], check=True, timeout=60)
    assert list(PDF_ARTIFACTS.glob(f"{name}-*.png")), "no page was rendered to PNG"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                          timeout=60).stdout.decode()
    return " ".join(text.split())


@pytest.fixture
def chart(app, client, sandbox, links):
    return Chart(app, client, sandbox)


# -- About us -----------------------------------------------------------------------------------


def test_intake_answers_are_saved_shown_in_about_us_and_exported_as_a_questionnaire_response(chart):
    chart.fill_intake({"strengths": "Sofia loves music and the school bus", "priority": "Fewer nights in hospital",
                       "housing": "LA31993-1", "transportation": "LA33-6", "language": "es", "interpreter": "true",
                       "family-contact-name": "Ana Lucía Rivera (mother)"})
    about = chart.get("/about").get_data(as_text=True)
    assert "Sofia loves music and the school bus" in about
    assert "I have a steady place to live" in about
    assert "Version 1" in about

    response = json.loads(chart.get("/about/questionnaire-response").get_data(as_text=True))
    QuestionnaireResponse.model_validate(response)
    assert response["subject"]["reference"] == f"Patient/{CHILD}"
    answers = a.answers_from_response(response)
    assert answers.get("priority") == "Fewer nights in hospital"
    assert answers.get("transportation") == "LA33-6" and answers.get("interpreter") == "true"


def test_each_save_of_the_intake_is_a_new_version_and_a_stale_form_is_refused(chart):
    chart.fill_intake({"strengths": "first words"})
    chart.fill_intake({"strengths": "second words"})
    history = chart.app.extensions["spoc"].engine
    from smart_app.store.about_store import AboutStore

    versions = AboutStore(history).intake_history(chart.sandbox.iss, CHILD)
    assert [(v.version, v.answers.get("strengths")) for v in versions] == [(1, "first words"), (2, "second words")]
    stale = chart.post("/about/intake", "/about/intake", {"strengths": "late edit", "base_version": "1"})
    assert stale.status_code == 409
    assert "second words" in chart.get("/about").get_data(as_text=True)


def test_emergency_information_is_saved_and_shown_with_the_ehr_allergies_and_documents(chart):
    form = {"baseline": "Sats 92-95% on 1 L", "instructions": "Bring the spare trach to the ED",
            "guardianship": "Ana Lucía Rivera, mother", "base_version": "0"}
    assert chart.post("/about/emergency", "/about/emergency", form).status_code == 303
    about = chart.get("/about").get_data(as_text=True)
    assert "Sats 92-95% on 1 L" in about and "Bring the spare trach to the ED" in about
    assert "Latex" in about  # from the EHR
    assert "Advance care plan" in about or "Family wishes" in about  # the sandbox's DocumentReference


# -- consent ------------------------------------------------------------------------------------


def test_a_provider_not_on_the_consent_list_never_appears_on_the_family_copy(chart):
    chart.sign_plan()
    chart.consent_to("PractitionerRole/henrik-larsen-role")
    page = chart.get("/family-copy?lang=en").get_data(as_text=True)
    copy = page.split('data-testid="family-copy"')[1]
    assert "Henrik Larsen" in copy
    assert "Raman" not in copy and "Whitfield" not in copy and "Osei" not in copy
    pdf = chart.pdf_text("en", "consent-check")
    assert "Henrik Larsen" in pdf and "Raman" not in pdf and "Adjust ventilator settings" in pdf


def test_withdrawn_consent_takes_the_provider_off_the_copy(chart):
    chart.consent_to("PractitionerRole/henrik-larsen-role")
    html = chart.get("/about/consent").get_data(as_text=True)
    entry_id = re.search(r'/about/consent/([^/"]+)/remove', html).group(1)
    assert chart.post("/about/consent", f"/about/consent/{entry_id}/remove", {}).status_code == 303
    assert "Henrik Larsen" not in chart.get("/family-copy").get_data(as_text=True).split('data-testid="family-copy"')[1]


# -- the PDF of the sandbox child's plan ----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_pdf_of_the_sandbox_childs_plan_shows_name_goals_actions_allergies_and_contacts(chart, lang):
    chart.sign_plan()
    chart.consent_to("PractitionerRole/henrik-larsen-role")
    chart.consent_to("PractitionerRole/jordan-lee-role")
    chart.fill_intake({"strengths": "Sofia laughs at music", "priority": "Stay home this winter"})
    text = chart.pdf_text(lang, f"sofia-family-copy-{lang}")
    words = i18n.labels(lang)

    assert "Sofia Isabel Rivera" in text
    for goal in GOALS:
        assert goal.text in text
    for action in ACTIONS:
        assert action.text in text
        assert i18n.format_date(action.due, lang) in text
    for action in ACTIONS[:3]:  # owners named: the family, and providers the family consented to
        assert f"{action.owner.name} ({i18n.role_label(action.owner.role.value, lang)})" in text
    assert i18n.role_label("specialist", lang) in text and "Raman" not in text  # her action, not her name
    for allergy in ("Latex", "Penicillin"):
        assert allergy in text
    assert "Luis Rivera" in text and "(555) 555-0140" in text
    for label in ("allergies", "emergency_contacts", "goals_actions", "medical_summary", "about_us"):
        assert words[label] in text
    assert "Sofia laughs at music" in text
    assert i18n.format_date(TODAY, lang) in text  # the date it was printed


def test_the_sandbox_child_is_spanish_speaking_so_her_copy_defaults_to_spanish(chart):
    page = chart.get("/family-copy").get_data(as_text=True)
    assert 'lang="es"' in page and "Nuestro Plan de Cuidado Compartido" in page


def test_without_a_signed_plan_the_copy_says_so_and_still_shows_the_rest(chart):
    page = chart.get("/family-copy?lang=en").get_data(as_text=True)
    assert "There is no signed plan yet" in page
    assert "Latex" in page and "Ana Lucía Rivera" in page and "Epilepsy" in page


def test_the_pdf_fetcher_loads_nothing_but_data_urls(app, caplog):
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmM"
             "IQAAAABJRU5ErkJggg==")
    article = Markup(f'<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png"><img src="{pixel}"><p>ok</p>')
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        body = render_pdf(f"<html><body>{article}</body></html>", 'p { background: url("file:///etc/hosts") }')
    assert body.startswith(b"%PDF")
    refused = [r.getMessage() for r in caplog.records if "load nothing" in r.getMessage()
               or "disallowed" in r.getMessage()]
    assert len(refused) == 3, [r.getMessage() for r in caplog.records]  # two images and the stylesheet's


# -- hostile text ---------------------------------------------------------------------------------


def test_hostile_text_is_escaped_in_the_page_the_print_view_the_link_and_the_pdf(chart, client):
    chart.fill_intake({"strengths": HOSTILE, "family-contact-name": HOSTILE})
    form = {"instructions": HOSTILE, "base_version": "0"}
    assert chart.post("/about/emergency", "/about/emergency", form).status_code == 303
    pages = {
        "about": chart.get("/about").get_data(as_text=True),
        "print view": chart.get("/family-copy").get_data(as_text=True),
    }
    link_page = chart.post("/family-copy", "/family-copy/link", {"lang": "en"}).get_data(as_text=True)
    pages["linked copy"] = client.get(re.search(r'href="(/copy/[^"]+)"', link_page).group(1)).get_data(as_text=True)
    for name, html in pages.items():
        assert "<script>alert" not in html and "<img src=x" not in html, name
        assert str(escape(HOSTILE)) in html, name
    assert HOSTILE in chart.pdf_text("en", "hostile-text")  # shown as the words typed, not as markup


# -- the link that opens outside the frame --------------------------------------------------------


def test_the_signed_link_opens_the_copy_in_a_browser_without_the_frames_cookie(chart, app):
    chart.sign_plan()
    page = chart.post("/family-copy", "/family-copy/link", {"lang": "es"}).get_data(as_text=True)
    path = re.search(r'href="(/copy/[^"]+)"', page).group(1)
    assert CHILD not in path and "Sofia" not in path

    new_tab = app.test_client()  # no cookies at all
    opened = new_tab.get(path)
    assert opened.status_code == 200
    html = opened.get_data(as_text=True)
    assert "Sofia Isabel Rivera" in html and "Sleep through the night without pump alarms" in html
    assert opened.headers["Cache-Control"] == "no-store"
    pdf = new_tab.get(f"{path}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_tampered_or_expired_link_opens_nothing(chart, app):
    page = chart.post("/family-copy", "/family-copy/link", {}).get_data(as_text=True)
    path = re.search(r'href="(/copy/[^"]+)"', page).group(1)
    link_id, stamp, signature = path.removeprefix("/copy/").split(".")
    new_tab = app.test_client()
    later = str(int(stamp) + 3600)
    assert new_tab.get(f"/copy/{link_id}.{later}.{signature}").status_code == 404
    assert new_tab.get(f"/copy/{link_id[:-2]}xy.{stamp}.{signature}").status_code == 404
    secret = b"k" * 32
    token = about_us.sign_link("abc", CLOCK.now() + about_us.LINK_LIFETIME, secret)
    assert about_us.verify_link(token, secret, CLOCK.now()) == "abc"
    assert about_us.verify_link(token, secret, CLOCK.now() + timedelta(minutes=11)) is None
    assert about_us.verify_link(token, b"other" * 8, CLOCK.now()) is None



def test_opening_any_link_deletes_the_copies_of_expired_ones(chart, app):
    from smart_app.store.schema import family_copy_links

    page = chart.post("/family-copy", "/family-copy/link", {}).get_data(as_text=True)
    path = re.search(r'href="(/copy/[^"]+)"', page).group(1)
    engine = app.extensions["spoc"].engine
    with engine.begin() as conn:  # the link's ten minutes are over
        conn.execute(family_copy_links.update().values(expires_at=CLOCK.now() - timedelta(seconds=1)))
    assert app.test_client().get("/copy/not-a-link.1.x").status_code == 404  # refused before the store, still purges
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(family_copy_links)).scalar() == 0
    assert app.test_client().get(path).status_code == 404


# -- social needs are never diagnoses (issue 19) ----------------------------------------------------

SOCIAL_NEEDS = ("Caregiver strain: night nursing hours unfilled", "No accessible transport to specialty visits")
MAIN_DIAGNOSES = ("Epilepsy", "Spastic quadriplegic cerebral palsy", "Chronic respiratory failure with hypercapnia",
                  "Dependence on home mechanical ventilation", "Tracheostomy status")


def _between(html: str, start: str, end: str) -> str:
    found = html[html.index(start):]
    return found[:found.index(end, len(start))]


def test_social_needs_are_never_listed_as_diagnoses_on_the_page_the_emergency_box_or_the_family_copy(chart):
    summary = chart.get("/full").get_data(as_text=True)
    first_screen = _between(summary, 'data-testid="glance-problems"', "</div>")
    assert all(d in first_screen for d in MAIN_DIAGNOSES) and "2 social needs or health concerns" in first_screen
    conditions = _between(summary, 'data-testid="section-conditions"', "</section>")
    needs_at = conditions.index(">Social needs</h3>")
    assert all(conditions.index(n) > needs_at for n in SOCIAL_NEEDS)  # in their own group, after the diagnoses
    assert all(conditions.index(d) < needs_at for d in MAIN_DIAGNOSES)

    emergency_box = _between(chart.get("/about").get_data(as_text=True), "<h3>Key diagnoses</h3>", "</div>")
    assert [d for d in MAIN_DIAGNOSES if d in emergency_box] == list(MAIN_DIAGNOSES)
    assert not [n for n in SOCIAL_NEEDS if n in emergency_box]

    copy = chart.get("/family-copy?lang=en").get_data(as_text=True)
    key_diagnoses = _between(copy, "<h3>Key diagnoses</h3>", "</ul>")
    diagnoses = _between(copy, "<h3>Health conditions</h3>", "</ul>")
    concerns = _between(copy, "<h3>Health concerns and social needs</h3>", "</ul>")
    assert not [n for n in SOCIAL_NEEDS if n in key_diagnoses or n in diagnoses]
    assert all(n in concerns for n in SOCIAL_NEEDS)
    assert diagnoses.index("Epilepsy") < diagnoses.index("Spastic quadriplegic cerebral palsy")  # by weight
    assert "Preocupaciones de salud y necesidades sociales" in chart.get("/family-copy?lang=es").get_data(as_text=True)


def _last_visit(kind: str) -> date:
    """The latest start of Sofia's visits of this class (EMER, IMP) up to today, as the sandbox has them."""
    from sandbox.data.characters import build_resources

    return max(date.fromisoformat(r["period"]["start"][:10]) for r in build_resources(TODAY)
               if r["resourceType"] == "Encounter" and r["subject"]["reference"] == f"Patient/{CHILD}"
               and r["class"]["code"] == kind and date.fromisoformat(r["period"]["start"][:10]) <= TODAY)


def test_the_family_copy_carries_recent_hospital_use_with_the_last_visit(chart):
    copy = chart.get("/family-copy?lang=en").get_data(as_text=True)
    use = _between(copy, 'data-testid="fc-hospital-use"', "</ul>")
    last_ed, last_admission = i18n.format_date(_last_visit("EMER")), i18n.format_date(_last_visit("IMP"))
    assert re.search(r"Emergency visits, last 12 months\s*<span class=\"fc-detail\">\d+</span>\s*"
                     rf"<span class=\"fc-detail\">last on {last_ed}</span>", use), use
    assert "Hospital admissions, last 12 months" in use and f"last on {last_admission}" in use
    spanish = chart.get("/family-copy?lang=es").get_data(as_text=True)
    assert f"la última el {i18n.format_date(_last_visit('EMER'), 'es')}" in spanish
