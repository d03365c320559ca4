"""Write-back: file the signed plan in the EHR and show the outcome.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Response, g, redirect, render_template, request, url_for

from ..errors import InvalidInput, SmartAppError
from ..plan.careplan import CAREPLAN_KEY, Difference
from ..plan.model import PlanVersion
from ..plan.narrative import NarrativeParts, plan_narrative
from ..plan.note import NoteType, xhtml_document
from ..store.writeback import FilingAttempt, FilingOutcome, FilingStore
from ..web import app_state, current_launch, current_tenant, launch_blueprint
from .service import (
    SUMMARY_SECTIONS,
    Site,
    about_us_pairs,
    ehr_changes_since_filing,
    file_plan,
    render_pdf,
    summary_blocks,
)
from .tiers import Tier, TierKind, tier_for

bp = launch_blueprint("writeback", __name__)

OUTCOME_LABELS = {
    FilingOutcome.FILED: "Filed in the EHR",
    FilingOutcome.FAILED: "Signed, not filed",
    FilingOutcome.RECONCILE: "Changed in the EHR: your decision needed",
    FilingOutcome.BLOCKED: "Not sent: the app found a problem",
    FilingOutcome.NOT_FILED: "Kept in this app only",
}


@dataclass(frozen=True)
class FilingPage:
    tier: Tier
    version: PlanVersion | None
    last: FilingAttempt | None
    outcome_label: str
    ehr_link: str  # the EHR's copy as an absolute FHIR URL, or ""
    overwrite_version: str  # for RECONCILE: the EHR version the user may replace
    ehr_changes: tuple[Difference, ...]  # changed in the EHR since we filed it
    ehr_check_failed: bool

    @property
    def can_file(self) -> bool:
        return self.version is not None and self.tier.kind is not TierKind.APP_ONLY and not (
            self.last is not None and self.last.filed and self.last.plan_version == self.version.version)


@bp.app_context_processor
def filing_helper():
    def filing_tier() -> Tier | None:
        """Which write-back tier this launch would use, and why: shown before anyone signs (issue 5)."""
        if g.get("launch") is None:
            return None
        return _site().tier

    return {"filing_tier": filing_tier}


@bp.get("/filing")
def filing():
    site, version, filings = _site(), _signed_version(), _filings()
    last = filings.latest(version.plan_id, version.version) if version else None
    changes, check_failed = (), False
    if version and last and last.filed and last.tier == TierKind.STRUCTURED.value:
        try:
            changes = ehr_changes_since_filing(site, version, last)
        except SmartAppError:
            check_failed = True
    return render_template("writeback/filing.html", page=FilingPage(
        tier=site.tier, version=version, last=last,
        outcome_label=OUTCOME_LABELS[last.outcome] if last else "Not filed yet",
        ehr_link=f"{site.gateway.base_url}/{last.ehr_link}" if last and last.ehr_link else "",
        overwrite_version=_overwrite_version(last), ehr_changes=changes, ehr_check_failed=check_failed))


@bp.post("/filing")
def file_now():
    version = _signed_version()
    if version is None:
        raise InvalidInput("There is no signed plan to file yet.")
    state, site = app_state(), _site()
    file_plan(site, version, filings=_filings(), audit=state.audit, by=_user_name(), now=datetime.now(UTC),
              narrative=_narrative(), created=_created(version),
              overwrite_ehr_version=request.form.get("overwrite_ehr_version", "")[:64])
    return redirect(url_for("writeback.filing"), code=303)


@bp.get("/filing/pdf")
def filing_pdf():
    version = _signed_version()
    if version is None:
        raise InvalidInput("There is no signed plan to show yet.")
    xhtml = xhtml_document(plan_narrative(version.plan, _narrative()))
    pdf = render_pdf(xhtml)
    if pdf is None:
        return Response(xhtml, mimetype="application/xhtml+xml")
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'inline; filename="shared-plan-of-care.pdf"'
    return response


def _site() -> Site:
    state, launch, tenant = app_state(), current_launch(), current_tenant()
    gateway = state.ehr.gateway(launch, tenant)
    capabilities = state.ehr.capabilities(tenant, gateway)
    system, code = tenant.note_type.split("|")
    return Site(gateway=gateway, capabilities=capabilities, launch=launch,
                tier=tier_for(launch, tenant, capabilities),
                note_type=NoteType(system=system, code=code, display="Plan of care note"),
                max_transaction_entries=tenant.quirks.max_transaction_entries or None)


def _filings() -> FilingStore:
    return app_state().filings


def _signed_version() -> PlanVersion | None:
    launch = current_launch()
    return app_state().plans.latest_signed(launch.iss, launch.patient_id)


def _created(version: PlanVersion) -> date | None:
    history = app_state().plans.history(version.plan_id)
    return history[0].saved_at.date() if history else None


def _narrative() -> NarrativeParts:
    state, launch, tenant = app_state(), current_launch(), current_tenant()
    today = date.today()
    intake = state.about.latest_intake(launch.iss, launch.patient_id)
    about_us = about_us_pairs(intake.answers if intake else None)
    header = state.ehr.patient_header(launch, tenant)
    patient = " · ".join(p for p in (header.name, f"born {header.birth_date.isoformat()}" if header.birth_date else "",
                                     f"MRN {header.mrn}" if header.mrn else "") if p) if header else ""
    try:
        fetches = list(state.ehr.summary_sections(launch, tenant, today=today, keys=SUMMARY_SECTIONS))
    except SmartAppError:
        return NarrativeParts(about_us=about_us, patient=patient)
    return NarrativeParts(about_us=about_us, summary=summary_blocks(fetches, today=today), patient=patient)


def _user_name() -> str:
    state, launch = app_state(), current_launch()
    return state.ehr.user_name(launch, current_tenant()) or launch.fhir_user or "unknown user"


def _overwrite_version(last: FilingAttempt | None) -> str:
    if last is None or last.outcome is not FilingOutcome.RECONCILE:
        return ""
    known = last.resources.get(CAREPLAN_KEY)
    return known.version_id if known else ""
