"""Coordinator and clinician negotiate the plan side by side in two browsers, in the EHR frame (issue 4)."""

from __future__ import annotations

import subprocess

from tests.browser.conftest import ARTIFACTS, open_chart, screenshot_app

CHILD = "sofia-rivera"


def app_frame(page, deployment):
    return page.frame_locator('[data-testid="smart-app"]')


def open_plan(context, deployment, user: str, role_label: str):
    page = context.new_page()
    frame = open_chart(page, deployment, CHILD, user=user)
    frame.get_by_role("link", name="Goals & actions").click()
    frame.get_by_label(role_label).check()
    frame.get_by_role("button", name="Continue").click()
    return page, frame


def add_goal(frame, text: str, kind: str) -> None:
    form = frame.locator('[data-testid="add-goal"]')
    form.get_by_label("Goal", exact=True).fill(text)
    form.get_by_label("Kind", exact=True).select_option(kind)
    form.get_by_role("button", name="Add goal").click()
    frame.locator('[data-testid="goal-text"]', has_text=text).wait_for()  # the page came back with it


def add_action(frame, goal_text: str, text: str, owner: str, due: str) -> None:
    goal = frame.locator('[data-testid="goal"]').filter(
        has=frame.locator('[data-testid="goal-text"]', has_text=goal_text))
    adder = goal.locator("details.add-item")
    adder.locator("summary").click()
    adder.get_by_label("Action", exact=True).fill(text)
    adder.get_by_label("Responsible", exact=True).select_option(owner)
    adder.get_by_label("Due date", exact=True).fill(due)
    adder.get_by_role("button", name="Add action").click()
    frame.locator('[data-testid="action-text"]', has_text=text).wait_for()


def row(frame, text: str):
    return frame.locator('[data-testid="action"]').filter(
        has=frame.locator('[data-testid="action-text"]', has_text=text))


def test_coordinator_and_clinician_negotiate_resolve_sign_and_the_plan_freezes(playwright_chromium, deployment):
    coordinator_ctx = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    clinician_ctx = playwright_chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        c_page, coordinator = open_plan(coordinator_ctx, deployment, "jordan-lee", "Care coordinator")
        coordinator.get_by_role("button", name="Start the plan").click()
        add_goal(coordinator, "Sofia sleeps through the night", "family")
        add_goal(coordinator, "Fewer seizures at school", "clinical")
        add_action(coordinator, "Sofia sleeps", "Replace the feeding pump", "coordinator", "2026-12-15")
        add_action(coordinator, "Fewer seizures", "Keep a weekly seizure log", "family", "2027-01-10")
        add_action(coordinator, "Fewer seizures", "Review the rescue medication plan", "clinician", "2027-01-31")
        coordinator.get_by_role("button", name="Send for review").click()
        coordinator.locator('[data-testid="plan-state"]', has_text="In review").wait_for()

        k_page, clinician = open_plan(clinician_ctx, deployment, "amara-okafor", "Primary care clinician")
        clinician.locator('[data-testid="plan-state"]', has_text="In review").wait_for()
        pump = row(clinician, "Replace the feeding pump")
        pump.get_by_role("button", name="Agree").first.click()
        row(clinician, "Replace the feeding pump").get_by_text("Agrees").wait_for()
        log = row(clinician, "weekly seizure log")
        log.locator("summary", has_text="Amend or decline").first.click()
        log.get_by_label("Proposed wording").first.fill("Seizure log twice a week, shared with the school nurse")
        log.get_by_role("button", name="Propose this change").first.click()
        row(clinician, "weekly seizure log").get_by_text("Proposes a change").wait_for()
        rescue = row(clinician, "rescue medication")
        rescue.locator("summary", has_text="Amend or decline").first.click()
        rescue.get_by_label("Reason for declining").first.fill("Neurology owns the rescue plan")
        rescue.get_by_role("button", name="Decline").first.click()
        row(clinician, "rescue medication").get_by_text("Declines").wait_for()

        c_page.reload()  # a relaunch from the chart: the app remembers the coordinator's role
        coordinator = app_frame(c_page, deployment)
        coordinator.get_by_role("link", name="Goals & actions").click()
        coordinator.locator('[data-testid="open-disagreements"]', has_text="2 open").wait_for()
        screenshot_app(c_page, "review-side-by-side-disagreements")
        log = row(coordinator, "weekly seizure log")
        log.get_by_role("button", name="Accept this change").click()
        row(coordinator, "Seizure log twice a week").wait_for()
        rescue = row(coordinator, "rescue medication")
        rescue.locator("summary", has_text="Record how it was resolved").click()
        rescue.get_by_label("How it was resolved").fill("Asked neurology to own it; PCP to follow up")
        rescue.get_by_role("button", name="Mark resolved").click()
        coordinator.locator('[data-testid="open-disagreements"]').wait_for(state="detached")
        coordinator.get_by_role("button", name="Sign as Care coordinator").click()
        coordinator.locator('[data-testid="signoff"]', has_text="signed by").wait_for()

        k_page.reload()
        clinician = app_frame(k_page, deployment)
        clinician.get_by_role("link", name="Goals & actions").click()
        clinician.get_by_role("button", name="Sign as Primary care clinician").click()
        clinician.locator('[data-testid="plan-state"]', has_text="Signed").wait_for()
        assert "Seizure log twice a week, shared with the school nurse" in clinician.locator("main").inner_text()
        assert clinician.get_by_role("button", name="Agree").count() == 0  # frozen: no more positions
        assert clinician.locator('[data-testid="add-goal"]').count() == 0
        assert clinician.locator('[data-testid="open-revision"]').count() == 1
        screenshot_app(k_page, "review-signed-frozen")

        # Issue 5: the signed plan goes into the chart, and its PDF rendition reads as the plan.
        tier = clinician.locator('[data-testid="filing-tier"]')
        assert tier.get_attribute("data-tier") == "structured"
        clinician.locator('[data-testid="go-filing"]').click()
        clinician.get_by_role("button", name="File in the EHR now").click()
        outcome = clinician.locator("#outcome")
        outcome.wait_for()
        assert outcome.get_attribute("data-outcome") == "filed"
        link = clinician.locator("#ehr-link")
        assert link.inner_text().startswith("CarePlan/")
        assert link.get_attribute("href").endswith("/filing/ehr-copy")  # issue 15: never a bare FHIR URL
        screenshot_app(k_page, "filed-in-the-ehr")
        save_pdf_as_png(k_page, deployment, "signed-plan")
        link.click()
        copy = clinician.locator("#ehr-copy")
        copy.wait_for()
        assert copy.get_attribute("data-reference").startswith("CarePlan/")
        goals = clinician.locator('[data-testid="ehr-goal"]').all_inner_texts()
        assert [g.split(" (")[0] for g in goals] == ["Sofia sleeps through the night", "Fewer seizures at school"]
        assert all(g.endswith("(active)") for g in goals), goals  # both signed: the goals are active
        screenshot_app(k_page, "the-ehrs-copy")
    finally:
        coordinator_ctx.close()
        clinician_ctx.close()


def save_pdf_as_png(page, deployment, name: str) -> None:
    """Fetch the PDF inside the app's frame (its cookie is partitioned there), check it, keep page 1 as PNG."""
    frame = next(f for f in page.frames if f.url.startswith(deployment.app_url))
    pdf_url = frame.locator("a", has_text="Open the plan as PDF").get_attribute("href")
    data = bytes(frame.evaluate(
        "async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))", pdf_url))
    assert data.startswith(b"%PDF")
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Sofia Isabel Rivera" in text and "MRN SB-100001" in text and "Seizure log twice a week" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / name)], check=True)
