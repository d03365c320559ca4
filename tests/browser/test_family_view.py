"""The family's own door in a real browser (issue 18): Sofia's mother signs in through the sandbox's
patient portal on a phone-sized screen, reads the signed plan in Spanish and acts on it; the coordinator's
next launch from the chart shows what she did, with her name and time. axe-core checks every family page."""

from __future__ import annotations

from datetime import timedelta

from smart_app.plan import negotiation as n
from smart_app.plan.model import Plan, PlanState, Role
from smart_app.plan.negotiation import Actor
from tests.browser.a11y import axe_violations
from tests.browser.conftest import open_chart, screenshot, screenshot_app
from tests.e2e.test_about_and_family_copy import ACTIONS, GOALS
from tests.support import CLOCK, TODAY

CHILD = "sofia-rivera"
PHONE = {"width": 375, "height": 812}
MOTHER = "Ana Lucía Rivera (mother)"


def signed_plan_for_sofia(deployment) -> None:
    """The plan as the coordinator and the clinician signed it last month (the store, as they left it)."""
    plan = Plan(goals=GOALS, actions=ACTIONS, state=PlanState.SIGNED, signed_at=CLOCK.now() - timedelta(days=30),
                next_review=TODAY + timedelta(days=152))
    deployment.app.extensions["spoc"].services.planning.plans.save(
        deployment.ehr.iss, CHILD, plan, base_version=None, saved_by="Jordan Lee", now=CLOCK.now())


def portal_launch(context, deployment, account: str = "ana-rivera"):
    """Sign in at the EHR's patient portal and open the app from its tile; the family's page."""
    page = context.new_page()
    page.goto(f"{deployment.ehr.url}/portal/")
    assert axe_violations(page) == [], "the portal's sign-in page"
    page.click(f'[data-testid="sign-in-{account}"]')
    assert axe_violations(page) == [], "the portal's home page"
    page.click('[data-testid="app-tile"]')
    page.locator('[data-testid="fv-title"]').wait_for()
    assert "/f/" in page.url
    return page


def checked(page, name: str) -> None:
    assert axe_violations(page) == [], name
    screenshot(page, name)


def test_the_mother_acts_on_the_plan_from_her_phone_and_the_coordinator_sees_it(playwright_chromium, deployment):
    signed_plan_for_sofia(deployment)
    mother_ctx = playwright_chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    coordinator_ctx = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = portal_launch(mother_ctx, deployment)
        page.goto(page.url.split("?")[0] + "?lang=es")
        page.locator("html[lang=es]").wait_for()
        assert page.locator('[data-testid="fv-person"]').inner_text().count("Ana Lucía Rivera") == 1
        assert "menor de 12" in page.locator('[data-testid="fv-access-rule"]').inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        checked(page, "family-view-es-375")

        page.click('[data-testid="fv-respond-a1"] summary')  # the feeding pump: she agrees
        page.click('[data-testid="fv-agree-a1"]')
        page.locator('[data-testid="fv-sent"]').wait_for()
        page.click('[data-testid="fv-respond-a3"] summary')  # the seizure medicines: in her words
        page.fill("#amend-a3", "Preferimos revisar los medicamentos después de las vacaciones")
        page.click('[data-testid="fv-amend-a3"]')
        page.locator('[data-testid="fv-action-a3"] [data-testid="fv-answer"]').wait_for()
        page.click('[data-testid="fv-done-a2"]')  # her own night log: done
        page.locator('[data-testid="fv-action-a2"].fv-done').wait_for()
        page.click('[data-testid="fv-propose"]')
        page.select_option("#about-part", index=0)
        page.fill("#about-words", "A Sofía le encanta la música y nadar los sábados")
        page.click('[data-testid="fv-propose-send"]')
        page.locator('[data-testid="fv-proposals"]').wait_for()
        assert "Preferimos revisar" in page.locator('[data-testid="fv-action-a3"]').inner_text()
        assert "nadar los sábados" in page.locator('[data-testid="fv-proposals"]').inner_text()
        checked(page, "family-view-es-375-after")
        page.emulate_media(media="print")
        screenshot(page, "family-view-es-print")

        c_page = coordinator_ctx.new_page()
        frame = open_chart(c_page, deployment, CHILD, user="jordan-lee")
        frame.get_by_role("link", name="Goals & actions").click()
        frame.get_by_label("Care coordinator").check()
        frame.get_by_role("button", name="Continue").click()
        pump = frame.locator('[data-testid="position-by-a1-family"]')
        medicines = frame.locator('[data-testid="position-by-a3-family"]')
        assert MOTHER in pump.inner_text() and "from the patient portal" in pump.inner_text()
        assert MOTHER in medicines.inner_text() and "Preferimos revisar" in frame.locator(
            '[data-testid="action"]#item-a3').inner_text()
        screenshot_app(c_page, "family-view-coordinator-review")
        frame.get_by_role("link", name="About us").first.click()
        proposal = frame.locator('[data-testid="family-request-about-change"]')
        assert "nadar los sábados" in proposal.inner_text() and MOTHER in proposal.inner_text()
        screenshot_app(c_page, "family-view-coordinator-about")
    finally:
        mother_ctx.close()
        coordinator_ctx.close()


def test_the_family_pages_without_a_plan_and_after_a_conflict_pass_axe(playwright_chromium, deployment):
    walter_ctx = playwright_chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    mother_ctx = playwright_chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        walter = portal_launch(walter_ctx, deployment, "walter-hughes")  # an adult, no plan yet
        walter.locator('[data-testid="fv-no-plan"]').wait_for()
        checked(walter, "family-view-no-plan-375")

        signed_plan_for_sofia(deployment)
        mother = portal_launch(mother_ctx, deployment)
        store = deployment.app.extensions["spoc"].services.planning.plans
        signed = store.current(deployment.ehr.iss, CHILD)
        coordinator, now = Actor(Role.COORDINATOR, "Jordan Lee", "Practitioner/jordan-lee"), CLOCK.now()
        revision = n.edit_action(n.open_revision(signed.plan, coordinator, now), coordinator, now, "a1",
                                 text="Replace the feeding pump and its charger")
        store.save(deployment.ehr.iss, CHILD, revision, base_version=signed.version, saved_by="Jordan Lee", now=now)
        mother.click('[data-testid="fv-respond-a1"] summary')  # she answers on the wording she read
        mother.click('[data-testid="fv-agree-a1"]')
        mother.locator('[data-testid="fv-conflict"]').wait_for()
        checked(mother, "family-view-conflict-375")
    finally:
        walter_ctx.close()
        mother_ctx.close()
