"""The first screen of Sofia's summary answers a visit's questions, in a full window and in a 420 px side
panel; nothing scrolls sideways; the pages pass axe-core (issue 19)."""

from __future__ import annotations

import pytest

from tests.browser.a11y import axe_violations
from tests.browser.conftest import screenshot
from tests.browser.test_tracking import sign_through_the_app

pytestmark = pytest.mark.browser

CHILD = "sofia-rivera"

# What the physician must read without scrolling: allergies with criticality and reaction, the five
# main problems, the high-alert medications, the equipment, and whom to call.
FIRST_SCREEN = (
    "Latex", "high · Urticaria", "Penicillin", "low · Eruption of skin",
    "Epilepsy", "Spastic quadriplegic cerebral palsy", "Chronic respiratory failure with hypercapnia",
    "Dependence on home mechanical ventilation", "Tracheostomy status",
    "levetiracetam", "midazolam", "gabapentin",  # as the EHR writes them
    "Home mechanical ventilator", "Tracheostomy tube", "gastrostomy button",
    "Care coordinator", "Primary care", "(555) 555-01",
)

# The text of the app frame the reader sees without scrolling: text nodes inside both the frame's
# viewport and the window's.
VISIBLE_TEXT = """(windowBottom) => {
  const bottom = Math.min(window.innerHeight, windowBottom);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.height > 0 && box.top >= 0 && box.bottom <= bottom && box.right <= window.innerWidth + 1) {
      seen.push(node.textContent.trim());
    }
  }
  return seen.filter(Boolean).join("\\n");
}"""


def open_summary(page, deployment, *, narrow: bool):
    # A side panel: the EHR shows its own banner there and says so (need_patient_banner false).
    page.goto(deployment.ehr.url + f"/ehr/patient/{CHILD}?user=jordan-lee" + ("&frame=narrow&banner=0" if narrow else ""))
    frame = page.frame(url=lambda url: "/p/" in url)
    page.frame_locator('[data-testid="smart-app"]').locator('[data-testid="load-status"]').filter(
        has_text="Up to date").wait_for()
    return page.frame(url=lambda url: "/p/" in url) or frame


def first_screen_text(page, frame) -> str:
    top = page.locator('[data-testid="smart-app"]').bounding_box()["y"]
    return frame.evaluate(VISIBLE_TEXT, page.viewport_size["height"] - top)


def no_sideways_scroll(frame) -> bool:
    return frame.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(-4).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize("narrow", [False, True], ids=["1024x768", "420-panel"])
def test_the_first_screen_answers_the_visits_questions(browser_context, deployment, narrow):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1024, "height": 768} if not narrow else {"width": 1024, "height": 900})
    frame = open_summary(page, deployment, narrow=narrow)
    assert frame.evaluate("window.innerWidth") == (420 if narrow else frame.evaluate("window.innerWidth"))
    seen = first_screen_text(page, frame)
    missing = [text for text in FIRST_SCREEN if text not in seen]
    screenshot(page, f"glance-first-screen-{'420' if narrow else '1024'}")
    assert not missing, f"not on the first screen: {missing}\n--- seen ---\n{seen}"
    # The phones are the coordinator's and the primary clinician's, each beside the role.
    contacts = frame.locator('[data-testid="glance-contacts"]').inner_text()
    assert contacts.count("(555) 555-01") == 2 and "Amara Okafor" in contacts, contacts  # the PCP, not a parent
    # Social needs are counted apart, never among the main problems.
    problems = frame.locator('[data-testid="glance-problems"]').inner_text()
    assert "transport" not in problems.casefold() and "social needs" in problems
    assert no_sideways_scroll(frame)


def test_a_420_px_panel_keeps_the_header_short_and_no_page_scrolls_sideways(playwright_chromium, deployment):
    """Every page of the app, with a signed plan holding an action (its tables), in a 420 px side panel."""
    coordinator_ctx = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    clinician_ctx = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        sign_through_the_app(coordinator_ctx, clinician_ctx, deployment, action=(
            "Ask the sleep clinic about a second overnight oximetry study", "Care coordinator", "2026-05-01"))
        page = coordinator_ctx.new_page()
        page.set_viewport_size({"width": 1024, "height": 900})
        frame = open_summary(page, deployment, narrow=True)
        assert frame.evaluate("window.innerWidth") == 420
        header = frame.evaluate("document.querySelector('.app-header').getBoundingClientRect().height")
        assert header <= 100, header
        assert frame.locator('[data-testid="patient-banner"]').count() == 0  # the EHR said it shows its own
        wide = []
        for name in ("Goals & actions", "About us & emergency", "Progress & review", "Family copy", "Medical summary"):
            link = frame.get_by_role("link", name=name).first
            href = link.get_attribute("href")
            link.click()
            frame.wait_for_url(f"**{href}")
            frame.wait_for_load_state()
            if not no_sideways_scroll(frame):
                wide.append((name, frame.evaluate(WIDE_ELEMENTS)))
            screenshot(page, f"glance-420-{name.split()[0].lower()}")
        assert not wide, f"pages that scroll sideways at 420 px: {wide}"
    finally:
        coordinator_ctx.close()
        clinician_ctx.close()


def test_the_summary_with_details_folded_fits_in_2000_px_at_1280(browser_context, deployment):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    frame = open_summary(page, deployment, narrow=False)
    height = frame.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(height + 200, 900)})
    page.add_style_tag(content=f"#smart-app {{ height: {height + 10}px !important; }}")
    page.wait_for_timeout(300)
    screenshot(page, "glance-summary-1280-folded")
    print(f"Sofia's summary at 1280 px, details folded: {height} px")
    assert height <= 2000, height


def test_a_folded_section_stays_folded_for_this_user_after_relaunch(browser_context, deployment):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    frame = open_summary(page, deployment, narrow=False)
    procedures = frame.locator('[data-testid="section-procedures"] details.section-fold')
    assert procedures.get_attribute("open") is not None
    with page.expect_response(lambda r: r.url.endswith("/folds") and r.status == 204):
        procedures.locator("summary").first.press("Enter")  # keyboard: the section head is a summary
    frame = open_summary(page, deployment, narrow=False)  # relaunch from the chart
    assert frame.locator('[data-testid="section-procedures"] details.section-fold').get_attribute("open") is None
    assert frame.locator('[data-testid="section-allergies"] details.section-fold').get_attribute("open") is not None


@pytest.mark.parametrize("page_link", ["Medical summary", "Goals & actions", "Family copy"])
def test_axe_finds_no_violations(browser_context, deployment, page_link):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    frame = open_summary(page, deployment, narrow=False)
    if page_link != "Medical summary":
        page.frame_locator('[data-testid="smart-app"]').get_by_role("link", name=page_link).first.click()
        page.wait_for_timeout(300)
        frame = page.frame(url=lambda url: "/p/" in url)
        frame.wait_for_load_state()
    assert axe_violations(frame) == []
    frame.evaluate("document.querySelector('main').appendChild(document.createElement('img'))")
    assert any(v.startswith("image-alt") for v in axe_violations(frame))  # the check itself can fail
