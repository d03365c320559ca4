"""Two tabs, one action (issue 16): tab A rewords it, tab B, opened before, changes only its status.
Both land: the plan ends with A's wording and B's status, and B never sees a conflict page."""

from __future__ import annotations

from tests.browser.conftest import open_chart, screenshot_app
from tests.browser.test_negotiation import CHILD, add_action, add_goal, open_plan, row


def edit_action(frame, text: str, **changes) -> None:
    action = row(frame, text)
    action.locator("summary", has_text="Edit action").click()
    form = action.locator("form.item-form")
    if "wording" in changes:
        form.get_by_label("Action", exact=True).fill(changes["wording"])
    if "status" in changes:
        form.get_by_label("Status", exact=True).select_option(changes["status"])
    form.get_by_role("button", name="Save action").click()


def test_a_reworded_action_and_a_status_change_from_an_older_tab_both_land(playwright_chromium, deployment):
    context = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        a_page, tab_a = open_plan(context, deployment, "jordan-lee", "Care coordinator")
        tab_a.get_by_role("button", name="Start the plan").click()
        add_goal(tab_a, "Sofia sleeps through the night", "family")
        add_action(tab_a, "Sofia sleeps", "Replace the feeding pump", "coordinator", "2026-12-15")
        b_page = context.new_page()  # a second launch: the app remembers who jordan-lee acts as
        tab_b = open_chart(b_page, deployment, CHILD, user="jordan-lee")
        tab_b.get_by_role("link", name="Goals & actions").click()
        row(tab_b, "Replace the feeding pump").wait_for()

        edit_action(tab_a, "Replace the feeding pump", wording="Replace the feeding pump and its charger")
        row(tab_a, "Replace the feeding pump and its charger").wait_for()
        edit_action(tab_b, "Replace the feeding pump", status="in-progress")  # from the page as it was

        tab_b.locator('[data-testid="plan-state"]').wait_for()
        assert tab_b.locator('[data-testid="conflict"]').count() == 0
        action = row(tab_b, "Replace the feeding pump and its charger")
        action.wait_for()
        assert "In progress" in action.inner_text()
        screenshot_app(b_page, "merge-tab-b")
    finally:
        context.close()
