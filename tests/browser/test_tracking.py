"""The living document in the EHR frame (issue 7): after signing, a new health event in the record shows
first on relaunch, and one click turns it into an action in a new revision of the plan."""

from __future__ import annotations


from tests.browser.conftest import screenshot_app
from tests.browser.test_negotiation import add_action, add_goal, app_frame, open_plan, row
from tests.e2e.test_tracking import a_new_problem, an_ed_visit_today
from tests.support import TODAY


def sign_through_the_app(coordinator_ctx, clinician_ctx, deployment, action: tuple[str, str, str] | None = None):
    """Coordinator drafts (one goal, and `action` (text, owner, due) under it when given) and signs, then the
    clinician signs; returns the coordinator's page."""
    c_page, coordinator = open_plan(coordinator_ctx, deployment, "jordan-lee", "Care coordinator")
    coordinator.get_by_role("button", name="Start the plan").click()
    add_goal(coordinator, "Sofia sleeps through the night", "family")
    if action:
        add_action(coordinator, "Sofia sleeps through the night", *action)
    coordinator.get_by_role("button", name="Send for review").click()
    coordinator.get_by_role("button", name="Sign as Care coordinator").click()
    coordinator.locator('[data-testid="signoff"]', has_text="signed by").wait_for()
    _, clinician = open_plan(clinician_ctx, deployment, "amara-okafor", "Primary care clinician")
    clinician.get_by_role("button", name="Sign as Primary care clinician").click()
    clinician.locator('[data-testid="plan-state"]', has_text="Signed").wait_for()
    return c_page


def test_a_new_health_event_shows_first_and_becomes_an_action_in_one_click(playwright_chromium, deployment):
    coordinator_ctx = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    clinician_ctx = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = sign_through_the_app(coordinator_ctx, clinician_ctx, deployment)
        deployment.ehr.control("resources", [an_ed_visit_today(TODAY), a_new_problem(TODAY)])

        page.reload()  # a relaunch from the chart: the summary is the landing page
        frame = app_frame(page, deployment)
        banner = frame.locator('[data-testid="review-due"]')
        banner.wait_for()
        assert "2 new health events since the plan was signed on" in banner.inner_text()
        assert frame.locator('[data-testid="load-status"]').inner_text() == "Up to date with the EHR."
        # Shown first: above every section of the summary.
        assert banner.bounding_box()["y"] < frame.locator('[data-testid="section-allergies"]').bounding_box()["y"]
        screenshot_app(page, "tracking-review-banner-on-summary")

        banner.get_by_role("link", name="See what changed").click()
        events = frame.locator('[data-testid="event"]')
        events.first.wait_for()
        assert sorted(events.locator('[data-testid="event-title"]').all_inner_texts()) == [
            "Emergency department visit", "New condition"]
        assert frame.locator('[data-testid="review-state"]').inner_text() == "Review due now"
        assert frame.locator('[data-testid="hospital-use"] [data-testid="ed-before"]').count() == 1
        screenshot_app(page, "tracking-progress-page")

        condition = events.filter(has_text="Obstructive sleep apnea")
        condition.get_by_role("button", name="Add an action for this").click()

        frame.locator('[data-testid="plan-state"]', has_text="Draft").wait_for()
        added = row(frame, "Follow up on the new condition: Obstructive sleep apnea")
        added.wait_for()
        assert "Owner: Jordan Lee RN (Care coordinator)" in added.inner_text()  # the coordinator who added it
        screenshot_app(page, "tracking-action-added-to-new-revision")
    finally:
        coordinator_ctx.close()
        clinician_ctx.close()
