"""The family's portable copy: print view and PDF, and a short-lived signed link that opens it
outside the EHR frame (a new tab does not share the frame's partitioned cookie).

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup

from ..plan import about as a
from ..plan import i18n
from ..security import digest, new_handle
from ..web import app_state, current_launch, launch_blueprint
from .about import EHR_KEYS, about_store, audit, ehr_summary

bp = launch_blueprint("family_copy", __name__)
# Not bound to a launch: the signed link is the only credential, and it names no patient.
links_bp = Blueprint("family_copy_link", __name__)

LINK_LIFETIME = timedelta(minutes=10)
PDF_NAME = "shared-plan-of-care.pdf"  # no name or date of birth in a file name


@bp.get("/family-copy")
def show():
    copy = build_copy(request.args.get("lang"))
    return render_template("family_copy/show.html", copy=copy, article=render_article(copy))


@bp.get("/family-copy.pdf")
def pdf():
    copy = build_copy(request.args.get("lang"))
    body = render_pdf(render_article(copy), copy.lang)
    audit("family-copy-disclosure", channel="pdf", lang=copy.lang)
    return pdf_response(body)


@bp.post("/family-copy/link")
def create_link():
    launch = current_launch()
    copy = build_copy(request.form.get("lang"))
    link_id, now = new_handle(), datetime.now(UTC)
    expires = now + LINK_LIFETIME
    about_store().save_link(digest(link_id), launch.iss, launch.patient_id, lang=copy.lang,
                            document=str(render_article(copy)), now=now, expires_at=expires)
    audit("family-copy-disclosure", channel="link", lang=copy.lang)
    token = sign_link(link_id, expires, link_secret())
    return render_template("family_copy/link.html", copy=copy, url=url_for("family_copy_link.open_copy", token=token),
                           pdf_url=url_for("family_copy_link.open_pdf", token=token),
                           expires=expires.strftime("%H:%M UTC"))


@links_bp.get("/copy/<token>")
def open_copy(token: str):
    lang, document = _linked(token)
    return render_template("family_copy/standalone.html", article=document, lang=lang, labels=i18n.labels(lang),
                           pdf_url=url_for("family_copy_link.open_pdf", token=token))


@links_bp.get("/copy/<token>/pdf")
def open_pdf(token: str):
    lang, document = _linked(token)
    return pdf_response(render_pdf(document, lang))


def _linked(token: str) -> tuple[str, Markup]:
    now = datetime.now(UTC)
    link_id = verify_link(token, link_secret(), now)
    found = about_store().open_link(digest(link_id) if link_id else None, now)  # purges even when refused
    if found is None:
        abort(404)
    _, _, lang, document = found
    return lang, Markup(document)  # rendered (and escaped) by render_article when the link was made


# -- assembling and rendering -------------------------------------------------------------------


def build_copy(requested_lang: str | None) -> a.FamilyCopy:
    launch, today = current_launch(), date.today()
    header, sections = ehr_summary(EHR_KEYS)
    store, curation = about_store(), app_state().curation
    intake = store.latest_intake(launch.iss, launch.patient_id)
    answers = intake.answers if intake else None
    _, emergency = store.latest_emergency(launch.iss, launch.patient_id)
    return a.family_copy_model(
        lang=a.copy_language(requested_lang, answers, header), today=today, header=header, sections=sections,
        intake=answers, emergency=emergency, consent=store.consent(launch.iss, launch.patient_id),
        signed=app_state().plans.latest_signed(launch.iss, launch.patient_id),
        curations=curation.curations(launch.iss, launch.patient_id),
        added=curation.added(launch.iss, launch.patient_id))


def render_article(copy: a.FamilyCopy) -> Markup:
    return Markup(render_template("family_copy/_copy.html", copy=copy, L=copy.labels))


def render_pdf(article: Markup, lang: str) -> bytes:
    """The copy as PDF. WeasyPrint may fetch nothing but `data:` URLs: no files, no network."""
    import weasyprint

    class DataOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                raise ValueError("The family copy loads nothing from outside the document.")
            return super().fetch(url, headers)

    fetcher = DataOnly(allowed_protocols=("data",))
    css = (Path(current_app.static_folder) / "css" / "family.css").read_text(encoding="utf-8")
    html = render_template("family_copy/pdf.html", article=article, lang=lang, labels=i18n.labels(lang))
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[weasyprint.CSS(string=css, url_fetcher=fetcher)])


def pdf_response(body: bytes) -> Response:
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{PDF_NAME}"'})


# -- signed links -------------------------------------------------------------------------------


def link_secret() -> bytes:
    """The HMAC key for links: the app's secret key, else derived from the token-encryption key (both
    shared by every instance, never sent anywhere)."""
    settings = app_state().settings
    base = settings.secret_key or settings.token_keys[0]
    return hashlib.sha256(b"spoc:family-copy-link\0" + base.encode()).digest()


def sign_link(link_id: str, expires: datetime, secret: bytes) -> str:
    """`<link id>.<expiry, unix seconds>.<signature>`: random, expiring, no patient data."""
    stamp = str(int(expires.timestamp()))
    return f"{link_id}.{stamp}.{_signature(link_id, stamp, secret)}"


def verify_link(token: str, secret: bytes, now: datetime) -> str | None:
    """The link id of a well-signed, unexpired token; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    link_id, stamp, signature = parts
    if not hmac.compare_digest(signature, _signature(link_id, stamp, secret)):
        return None
    if int(stamp) <= now.timestamp():
        return None
    return link_id


def _signature(link_id: str, stamp: str, secret: bytes) -> str:
    mac = hmac.new(secret, f"{link_id}.{stamp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")
