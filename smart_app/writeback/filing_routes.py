"""Write-back: file the signed plan in the EHR and show the outcome.

Layer: HTTP in (views). Parse, call the filing service, render.
"""

from __future__ import annotations

from flask import Response, g, redirect, render_template, request, url_for

from ..services.filing import FilingOutcome, FilingState
from ..web import current_launch, current_tenant, launch_blueprint, services
from ..plan.careplan import ACTION_STATUS_TEXT
from ..plan.i18n import format_date
from ..plan.people import owner_label
from .tiers import Tier

bp = launch_blueprint("writeback", __name__)

OUTCOME_LABELS = {
    FilingOutcome.FILED: "Filed in the EHR",
    FilingOutcome.FAILED: "Signed, not filed",
    FilingOutcome.RECONCILE: "Changed in the EHR: your decision needed",
    FilingOutcome.BLOCKED: "Not sent: the app found a problem",
    FilingOutcome.NOT_FILED: "Kept in this app only",
}


@bp.app_context_processor
def filing_helper():
    def filing_tier() -> Tier | None:
        """Which write-back tier this launch would use, and why: shown before anyone signs (issue 5)."""
        if g.get("launch") is None:
            return None
        return services().filing.tier(current_launch(), current_tenant())

    return {"filing_tier": filing_tier}


@bp.get("/filing")
def filing():
    state: FilingState = services().filing.state(current_launch(), current_tenant())
    return render_template("writeback/filing.html", page=state,
                           outcome_label=OUTCOME_LABELS[state.last.outcome] if state.last else "Not filed yet")


@bp.post("/filing")
def file_now():
    services().filing.file(current_launch(), current_tenant(),
                           overwrite_ehr_version=request.form.get("overwrite_ehr_version", ""))
    return redirect(url_for("writeback.filing"), code=303)


@bp.get("/filing/ehr-copy")
def ehr_copy():
    """The filed CarePlan as the app reads it back with this launch's token, never a bare FHIR URL."""
    copy = services().filing.ehr_copy(current_launch(), current_tenant())
    return render_template("writeback/ehr_copy.html", copy=copy, owner_label=owner_label, format_date=format_date,
                           action_status=lambda status: ACTION_STATUS_TEXT[status])


@bp.get("/filing/pdf")
def filing_pdf():
    xhtml, pdf = services().filing.document(current_launch(), current_tenant())
    if pdf is None:
        return Response(xhtml, mimetype="application/xhtml+xml")
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'inline; filename="shared-plan-of-care.pdf"'
    return response
