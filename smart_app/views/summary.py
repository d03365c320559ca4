"""The medical summary page: the shell at once, the sections streamed in as the EHR answers.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

from flask import Response, render_template, request, stream_with_context

from ..errors import InvalidInput, SmartAppError
from ..plan import summary as s
from ..plan.record import SECTION_KEYS, SectionFetch
from ..web import app_state, current_launch, current_tenant, launch_blueprint
from . import pages

bp = launch_blueprint("summary", __name__)

# Shown first: what a clinician looks for at a glance.
PAGE_ORDER = ("conditions", "medications", "allergies", "equipment", "care_team", "encounters", "services",
              "procedures", "goals", "care_plans", "documents", "patient")


@bp.get("/")
def show():
    placeholders = [(key, s.SECTION_TITLES.get(key, key)) for key in PAGE_ORDER]
    return render_template("summary/show.html", placeholders=placeholders, need_banner=current_launch().need_patient_banner)


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
    for fetch in _fetch(SECTION_KEYS, today):
        if fetch.key == "patient":
            banner = pages.banner_from(s.patient_header(fetch, patient_id=current_launch().patient_id), today)
        rendered[fetch.key] = _section_view(fetch, today)
    return render_template("summary/full.html", sections=[rendered[k] for k in PAGE_ORDER if k in rendered],
                           banner=banner, need_banner=current_launch().need_patient_banner)


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


def _section_view(fetch: SectionFetch, today: date) -> pages.SectionView:
    section = s.summarize_section(fetch, today=today, patient_id=current_launch().patient_id)
    hospital_use = s.hospital_use_from(fetch, today=today) if fetch.key == "encounters" else None
    return pages.section_view(section, hospital_use=hospital_use)


def _section_lines(keys, today: date) -> Iterator[str]:
    launch = current_launch()
    try:
        for fetch in _fetch(keys, today):
            if fetch.key == "patient":
                banner = pages.banner_from(s.patient_header(fetch, patient_id=launch.patient_id), today)
                yield _line("banner", render_template("summary/_banner.html", banner=banner,
                                                      need_banner=launch.need_patient_banner))
            yield _line(fetch.key, render_template("summary/_section.html", section=_section_view(fetch, today)))
    except SmartAppError as err:  # e.g. the session expired mid-load: say so in place of the sections
        yield _line("error", render_template("summary/_stream_error.html", error=err))
    yield _line("done", "")


def _line(key: str, html: str) -> str:
    return json.dumps({"key": key, "html": html}) + "\n"
