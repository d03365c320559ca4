"""In the sandbox frame, a coordinator curates the summary and finds it kept after relaunch (issue 3)."""

from __future__ import annotations

from tests.browser.conftest import open_chart, screenshot

CHILD = "sofia-rivera"
COORDINATOR = "jordan-lee"


def test_hide_annotate_and_add_are_kept_after_relaunching_from_the_chart(browser_context, deployment):
    page = browser_context.new_page()
    frame = open_chart(page, deployment, CHILD, user=COORDINATOR)
    frame.locator('[data-testid="load-status"]').filter(has_text="Up to date").wait_for()
    screenshot(page, "summary-loaded")

    conditions = frame.locator('[data-testid="section-conditions"]')
    first = conditions.locator('[data-testid="item"]').first
    hidden_label = first.locator(".item-label").inner_text()
    first.locator("summary").first.press("Enter")  # one line per item: provenance and curation on demand
    assert "From the EHR" in first.locator(".item-source").inner_text()
    first.locator("summary", has_text="Note or hide").click()
    first.locator('input[name="reason"]').fill("Recorded twice; kept under epilepsy")
    first.get_by_role("button", name="Hide from the plan").click()
    frame.locator('[data-testid="hidden-conditions"]').wait_for()  # the page came back with it hidden
    frame.locator('[data-testid="load-status"]').filter(has_text="Up to date").wait_for()

    equipment = frame.locator('[data-testid="section-equipment"]')
    item = equipment.locator('[data-testid="item"]').first
    item.locator("summary").first.click()
    item.locator("summary", has_text="Note or hide").click()
    item.locator('textarea[name="note"]').fill("Spare battery kept at school")
    item.get_by_role("button", name="Save note").click()
    frame.locator('[data-testid="item-note"]', has_text="Spare battery kept at school").wait_for()
    frame.locator('[data-testid="load-status"]').filter(has_text="Up to date").wait_for()

    add = frame.locator('[data-testid="add-equipment"]')
    add.locator("summary").click()
    add.locator('input[name="label"]').fill("Feeding pump backpack")
    add.locator('input[name="contact"]').fill("Acme Home Medical (555) 555-0199")
    add.get_by_role("button", name="Add to the plan").press("Enter")
    frame.locator('[data-testid="section-equipment"] .item-label', has_text="Feeding pump backpack").wait_for()
    frame.locator('[data-testid="load-status"]').filter(has_text="Up to date").wait_for()

    page.reload()  # relaunch: the chart issues a new launch, a new session
    frame = page.frame_locator('[data-testid="smart-app"]')
    frame.locator('[data-testid="load-status"]').filter(has_text="Up to date").wait_for()
    equipment = frame.locator('[data-testid="section-equipment"]')
    assert "Spare battery kept at school" in equipment.locator('[data-testid="item-note"]').first.inner_text()
    assert "Feeding pump backpack" in equipment.inner_text()
    hidden = frame.locator('[data-testid="hidden-conditions"]')
    hidden.locator("summary").first.click()
    assert hidden_label in hidden.inner_text()
    assert "Recorded twice; kept under epilepsy" in hidden.inner_text()
    equipment.scroll_into_view_if_needed()
    screenshot(page, "summary-curated-after-relaunch")
