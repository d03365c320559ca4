"""In the sandbox frame, the coordinator fills the family's intake interview, sees it in About us, and
opens the family copy in a new tab through its short-lived link (issue 6)."""

from __future__ import annotations

from datetime import timedelta

from smart_app.plan.model import Goal, GoalKind, NegotiatedAction, Owner, Plan, PlanState, Role
from smart_app.views.family_copy import links_bp
from tests.browser.conftest import open_chart, screenshot
from tests.e2e.test_about_and_family_copy import pdf_to_text_and_png
from tests.support import CLOCK, TODAY

CHILD = "sofia-rivera"
COORDINATOR = "jordan-lee"


def sign_a_plan(deployment) -> None:
    today = TODAY
    plan = Plan(
        goals=(Goal("g1", "Sleep through the night without pump alarms", kind=GoalKind.FAMILY,
                    expressed_by="Ana Lucía Rivera (mother)", target_date=today + timedelta(days=150)),),
        actions=(NegotiatedAction("a1", "Keep a night log of alarms", owner=Owner(Role.FAMILY, "Ana Lucía Rivera"),
                                  goal_id="g1", due=today + timedelta(days=30)),),
        state=PlanState.SIGNED, signed_at=CLOCK.now(), next_review=today + timedelta(days=182))
    deployment.app.extensions["spoc"].services.planning.plans.save(deployment.ehr.iss, CHILD, plan, base_version=None,
                                                                   saved_by="Jordan Lee", now=CLOCK.now())


def test_the_intake_filled_in_the_frame_shows_in_about_us_and_on_the_family_copy(browser_context, deployment):
    if "family_copy_link" not in deployment.app.blueprints:
        deployment.app.register_blueprint(links_bp)
    sign_a_plan(deployment)
    page = browser_context.new_page()
    frame = open_chart(page, deployment, CHILD, user=COORDINATOR)

    frame.get_by_role("link", name="About us & emergency").click()
    frame.get_by_role("link", name="Start the intake interview").click()
    form = frame.locator('[data-testid="intake-form"]')
    form.get_by_label("Our strengths and what works well").fill("Sofia loves music and her school bus")
    form.get_by_label("Our priority right now").fill("Fewer nights in hospital this winter")
    form.get_by_label("I have a steady place to live").check()
    form.get_by_label("Preferred language").select_option("es")
    form.get_by_label("We would like an interpreter").check()
    contact = form.get_by_label("The family's main contact (name and relationship)")
    contact.fill("Ana Lucía Rivera (mother)")
    contact.press("Tab")  # the form is walked with the keyboard: the phone field comes next
    frame.locator(":focus").fill("(555) 555-0140")
    screenshot(page, "intake-form-filled")
    form.get_by_role("button", name="Save answers").press("Enter")

    about = frame.locator('[data-testid="about-us"]')
    about.filter(has_text="Sofia loves music and her school bus").wait_for()
    assert "I have a steady place to live" in about.inner_text()
    assert "Version 1" in about.inner_text()
    screenshot(page, "about-us-after-intake")

    frame.get_by_role("link", name="Family copy").click()
    copy = frame.locator('[data-testid="family-copy"]')
    copy.wait_for()
    assert copy.get_attribute("lang") == "es"  # the family's preferred language
    assert "Sofia loves music and her school bus" in copy.inner_text()
    assert "Nuestras metas" in copy.inner_text() and "Keep a night log of alarms" in copy.inner_text()
    screenshot(page, "family-copy-in-frame")

    frame.locator('[data-testid="fc-make-link"]').click()
    with browser_context.expect_page() as opened:
        frame.locator('[data-testid="fc-open-link"]').click()
    tab = opened.value
    tab.wait_for_load_state()
    assert "127.0.0.1" in tab.url and CHILD not in tab.url
    tab_copy = tab.locator('[data-testid="family-copy"]')
    assert "Sofia Isabel Rivera" in tab_copy.inner_text()
    assert "Ana Lucía Rivera (Familia)" in tab_copy.inner_text()
    screenshot(tab, "family-copy-new-tab")

    pdf = tab.request.get(deployment.app_url + tab.locator('[data-testid="fc-pdf"]').get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = pdf_to_text_and_png(pdf.body(), "family-copy-from-browser")
    assert "Sofia Isabel Rivera" in text and "Keep a night log of alarms" in text
