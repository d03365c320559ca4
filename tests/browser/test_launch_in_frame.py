"""The EHR launches the app in a cross-site iframe, in a real browser (issue 2, R29, R30, R31)."""

from __future__ import annotations

from tests.browser.conftest import open_chart, screenshot, screenshot_app

CHILD, TODDLER = "sofia-rivera", "leo-tran"


def test_opening_a_chart_launches_the_app_in_its_frame_with_the_patient_banner(browser_context, deployment):
    page = browser_context.new_page()
    frame = open_chart(page, deployment, CHILD)
    assert frame.locator('[data-testid="patient-name"]').inner_text() == "Sofia Isabel Rivera"
    frame.locator('[data-testid="section-conditions"][data-state="complete"]').wait_for()
    assert int(frame.locator('[data-testid="count-conditions"]').inner_text()) >= 10
    app_frame = next(f for f in page.frames if f.url.startswith(deployment.app_url))
    assert "/p/" in app_frame.url and "code=" not in app_frame.url and "state=" not in app_frame.url
    assert len(browser_context.pages) == 1  # R31: no popup
    frame.locator('[data-testid="load-status"]').filter(has_text="Up to date").wait_for()
    screenshot(page, "chart-with-app")
    screenshot_app(page, "summary-tall")


def test_two_patients_in_two_tabs_stay_apart_after_reloads(browser_context, deployment):
    first, second = browser_context.new_page(), browser_context.new_page()
    open_chart(first, deployment, CHILD)
    open_chart(second, deployment, TODDLER)
    for _ in range(2):  # R29: reload each tab, in turn, twice
        for page, expected in ((first, "Sofia"), (second, "Leo")):
            app_frame = next(f for f in page.frames if f.url.startswith(deployment.app_url))
            app_frame.goto(app_frame.url)  # reload the app inside the frame, as "refresh" does
            name = page.frame_locator('[data-testid="smart-app"]').locator('[data-testid="patient-name"]')
            name.wait_for()
            assert name.inner_text().startswith(expected)
    screenshot(second, "second-tab-toddler")
