"""The medical summary page: the shell at once, the sections streamed in as the EHR answers.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Response, g, redirect, render_template, request, stream_with_context, url_for

from ..errors import InvalidInput, SmartAppError
from ..plan import curation
from ..plan import summary as s
from ..plan.record import SECTION_KEYS, SectionFetch
from ..security import new_handle
from ..web import app_state, current_launch, current_tenant, launch_blueprint
from . import pages, tracking

bp = launch_blueprint("summary", __name__)

# Where each section sits: two columns of what a clinician looks for at a glance, then the wide ones.
LAYOUT = (
    ("left", ("allergies", "conditions", "procedures", "goals", "documents")),
    ("right", ("medications", "equipment", "services", "care_plans", "patient")),
    ("wide", ("encounters", "care_team")),
)


@bp.app_context_processor
def banner_helper():
    def patient_banner() -> pages.BannerView | None:
        """The banner for any launch page when the EHR wants one (R23); None otherwise."""
        launch = g.get("launch")
        if launch is None or not launch.need_patient_banner:
            return None
        return pages.banner_from(app_state().ehr.patient_header(launch, current_tenant()), date.today())

    return {"patient_banner": patient_banner}


@bp.get("/")
def show():
    layout = [(region, [(key, s.SECTION_TITLES.get(key, key)) for key in keys]) for region, keys in LAYOUT]
    return render_template("summary/show.html", layout=layout, need_banner=current_launch().need_patient_banner)


@bp.get("/sections")
def sections():
    """NDJSON: one line per section as it arrives ({"key", "html"}), the banner with the patient."""
    keys = _requested_keys()
    today = date.today()
    return Response(stream_with_context(_section_lines(keys, today)), mimetype="application/x-ndjson",
                    headers={"X-Accel-Buffering": "no"})


@bp.get("/full")
def full():
    """The whole summary rendered on the server, for browsers without JavaScript and for print."""
    today = date.today()
    rendered = {}
    banner = None
    curated = _curation()
    for fetch in _fetch(SECTION_KEYS, today):
        if fetch.key == "patient":
            banner = pages.banner_from(s.patient_header(fetch, patient_id=current_launch().patient_id), today)
        rendered[fetch.key] = _section_view(fetch, today, curated)
    layout = [(region, [rendered[k] for k in keys if k in rendered]) for region, keys in LAYOUT]
    return render_template("summary/full.html", layout=layout, banner=banner, urls=_curation_urls(),
                           need_banner=current_launch().need_patient_banner)


def _requested_keys() -> tuple[str, ...]:
    only = request.args.getlist("only")
    if not only:
        return SECTION_KEYS
    unknown = [k for k in only if k not in SECTION_KEYS]
    if unknown:
        raise InvalidInput("That part of the summary does not exist.")
    return tuple(only)


def _fetch(keys, today: date) -> Iterator[SectionFetch]:
    return app_state().ehr.summary_sections(current_launch(), current_tenant(), today=today, keys=keys)


def _section_view(fetch: SectionFetch, today: date, curation: _Curation) -> pages.SectionView:
    section = s.summarize_section(fetch, today=today, patient_id=current_launch().patient_id)
    hospital_use = s.hospital_use_of(section, today=today) if fetch.key == "encounters" else None
    return pages.section_view(section, hospital_use=hospital_use, curations=curation.items, added=curation.added)


@dataclass(frozen=True)
class _Curation:
    items: dict
    added: list


def _curation() -> _Curation:
    launch, store = current_launch(), app_state().curation
    return _Curation(store.curations(launch.iss, launch.patient_id), store.added(launch.iss, launch.patient_id))


# -- the coordinator's curation ----------------------------------------------------------------

@bp.post("/items/hide")
def hide_item():
    return _curate(lambda current, ref, by, now: curation.hide(current, ref, request.form.get("reason"), by=by, at=now))


@bp.post("/items/unhide")
def unhide_item():
    return _curate(lambda current, ref, by, now: curation.unhide(current, ref, by=by, at=now))


@bp.post("/items/note")
def annotate_item():
    return _curate(lambda current, ref, by, now: curation.annotate(current, ref, request.form.get("note"), by=by,
                                                                  at=now))


@bp.post("/added")
def add_item():
    launch = current_launch()
    item = _checked(lambda: curation.new_added_item(
        new_handle(), request.form.get("section"), request.form.get("label"), request.form.get("contact"),
        request.form.get("note"), by=_user_name(), at=datetime.now(UTC)))
    app_state().curation.add(launch.iss, launch.patient_id, item)
    _audit("curation-add", section=item.section)
    return redirect(url_for("summary.show", _anchor=f"section-{item.section}"), code=303)


@bp.post("/added/<item_id>/remove")
def remove_added(item_id: str):
    launch = current_launch()
    section = request.form.get("section", "")
    if not app_state().curation.remove(launch.iss, launch.patient_id, item_id, at=datetime.now(UTC)):
        raise InvalidInput("That item was already removed.")
    _audit("curation-remove")
    return redirect(url_for("summary.show", _anchor=f"section-{section}" if section in SECTION_KEYS else None),
                    code=303)


def _curate(change):
    launch = current_launch()
    ref = request.form.get("ref")
    if not curation.is_item_ref(ref):
        raise InvalidInput("That item could not be found.")
    store = app_state().curation
    updated = _checked(lambda: change(store.curation(launch.iss, launch.patient_id, ref), ref, _user_name(),
                                      datetime.now(UTC)))
    store.save_curation(launch.iss, launch.patient_id, updated)
    _audit("curation", resource_type=ref.split("/")[0])
    section = request.form.get("section", "")
    return redirect(url_for("summary.show", _anchor=f"section-{section}" if section in SECTION_KEYS else None),
                    code=303)


def _checked(make):
    try:
        return make()
    except curation.CurationError as err:
        raise InvalidInput(str(err)) from None


def _user_name() -> str:
    return app_state().ehr.user_name(current_launch(), current_tenant()) or "the care coordinator"


def _audit(action: str, **detail) -> None:
    launch = current_launch()
    app_state().audit.record(action, "success", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                             launch_id=launch.launch_id, **detail)


def _curation_urls() -> dict[str, str]:
    """Once per page rather than once per item: large records have thousands of items."""
    return {"hide": url_for("summary.hide_item"), "unhide": url_for("summary.unhide_item"),
            "note": url_for("summary.annotate_item"), "added": url_for("summary.add_item")}


def _section_lines(keys, today: date) -> Iterator[str]:
    launch = current_launch()
    curated = _curation()
    urls = _curation_urls()
    fetched = {}
    try:
        for fetch in _fetch(keys, today):
            fetched[fetch.key] = fetch
            if fetch.key == "patient":
                banner = pages.banner_from(s.patient_header(fetch, patient_id=launch.patient_id), today)
                yield _line("banner", render_template("summary/_banner.html", banner=banner,
                                                      need_banner=launch.need_patient_banner))
            yield _line(fetch.key, render_template("summary/_section.html",
                                                   section=_section_view(fetch, today, curated), urls=urls))
        review = tracking.review_banner(fetched, today)  # a due review or new events, shown first ("" if none)
        if review:
            yield _line("review", review)
    except SmartAppError as err:  # e.g. the session expired mid-load: say so in place of the sections
        yield _line("error", render_template("summary/_stream_error.html", error=err))
    yield _line("done", "")


def _line(key: str, html: str) -> str:
    return json.dumps({"key": key, "html": html}) + "\n"
