"""The family's own pages: their plan, in their language, and what they do about it (issue 18).

Layer: HTTP in (Flask). Every page is bound to a family launch (web.launch_blueprint(family=True)):
a professional launch never reaches them, and a family launch reaches nothing else.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from ..plan import i18n
from ..plan.family_access import rule_text
from ..security import new_handle
from ..services.planning import Conflict
from ..web import current_launch, current_tenant, launch_blueprint, services
from .family_models import family_view

bp = launch_blueprint("family", __name__, family=True)

SENT = ("position", "request", "done")


@bp.get("/")
def show():
    launch = current_launch()
    requested = i18n.supported(request.args.get("lang"))
    page = services().family.page(launch, current_tenant(), requested)
    lang = page.copy.lang if page.copy else (requested or i18n.DEFAULT_LANGUAGE)
    sent = request.args.get("sent", "")
    rule = rule_text(launch.access_rule, lang, current_tenant().adolescent_age)
    view = family_view(page, lang=lang, person=launch.person_name or "", access_rule=rule,
                       sent=sent if sent in SENT else "")
    return render_template("family/show.html", view=view, L=view.words, lang=lang)


@bp.post("/position")
def position():
    outcome = services().family.take_position(
        current_launch(), current_tenant(), request.form.get("subject_id", ""), request.form.get("stance", ""),
        request.form.get("words", ""), base_version=_base_version())
    return _after(outcome, "position", request.form.get("subject_id", ""))


@bp.post("/done")
def done():
    outcome = services().family.mark_done(current_launch(), current_tenant(), request.form.get("action_id", ""),
                                          base_version=_base_version())
    return _after(outcome, "done", request.form.get("action_id", ""))


@bp.post("/request")
def ask():
    services().family.ask(current_launch(), request.form.get("kind", ""), request.form.get("subject_id", ""),
                          request.form.get("text", ""), request_id=new_handle())
    return _after(None, "request", request.form.get("subject_id", "") or "questions")


def _after(outcome, sent: str, anchor: str):
    lang = i18n.supported(request.form.get("lang")) or i18n.DEFAULT_LANGUAGE
    if isinstance(outcome, Conflict):
        return render_template("family/conflict.html", L=i18n.family_labels(lang), lang=lang,
                               back=url_for("family.show", lang=lang)), 409
    return redirect(url_for("family.show", lang=lang, sent=sent, _anchor=_safe_anchor(anchor)), code=303)


def _base_version() -> int | None:
    value = request.form.get("base_version", "")
    return int(value) if value.isdigit() else None


def _safe_anchor(value: str) -> str:
    return "".join(c for c in value if c.isalnum() or c in "-_")[:80]
