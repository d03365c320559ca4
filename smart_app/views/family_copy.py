"""The family's portable copy: print view and PDF, and a short-lived signed link that opens it
outside the EHR frame (a new tab does not share the frame's partitioned cookie).

Layer: HTTP in (views). Parse, call the About us service, render.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from markupsafe import Markup

from ..plan import about as a
from ..plan import i18n
from ..web import current_launch, current_tenant, launch_blueprint, services

bp = launch_blueprint("family_copy", __name__)
# Not bound to a launch: the signed link is the only credential, and it names no patient.
links_bp = Blueprint("family_copy_link", __name__)

PDF_NAME = "shared-plan-of-care.pdf"  # no name or date of birth in a file name


@bp.get("/family-copy")
def show():
    copy = _copy(request.args.get("lang"))
    return render_template("family_copy/show.html", copy=copy, article=render_article(copy))


@bp.get("/family-copy.pdf")
def pdf():
    copy = _copy(request.args.get("lang"))
    body = services().about_us.copy_pdf(current_launch(), pdf_html(render_article(copy), copy.lang), copy.lang)
    return pdf_response(body)


@bp.post("/family-copy/link")
def create_link():
    copy = _copy(request.form.get("lang"))
    link = services().about_us.create_link(current_launch(), str(render_article(copy)), copy.lang)
    return render_template("family_copy/link.html", copy=copy,
                           url=url_for("family_copy_link.open_copy", token=link.token),
                           pdf_url=url_for("family_copy_link.open_pdf", token=link.token),
                           expires=link.expires.strftime("%H:%M UTC"))


@links_bp.get("/copy/<token>")
def open_copy(token: str):
    lang, document = _linked(token)
    return render_template("family_copy/standalone.html", article=document, lang=lang, labels=i18n.labels(lang),
                           pdf_url=url_for("family_copy_link.open_pdf", token=token))


@links_bp.get("/copy/<token>/pdf")
def open_pdf(token: str):
    lang, document = _linked(token)
    return pdf_response(services().about_us.pdf(pdf_html(document, lang)))


def _linked(token: str) -> tuple[str, Markup]:
    found = services().about_us.open_link(token)
    if found is None:
        abort(404)
    lang, document = found
    return lang, Markup(document)  # rendered (and escaped) by render_article when the link was made


def _copy(requested_lang: str | None) -> a.FamilyCopy:
    return services().about_us.family_copy(current_launch(), current_tenant(), requested_lang)


def render_article(copy: a.FamilyCopy) -> Markup:
    return Markup(render_template("family_copy/_copy.html", copy=copy, L=copy.labels))


def pdf_html(article: Markup, lang: str) -> str:
    return render_template("family_copy/pdf.html", article=article, lang=lang, labels=i18n.labels(lang))


def pdf_response(body: bytes) -> Response:
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{PDF_NAME}"'})
