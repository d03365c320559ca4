"""The medical summary page: the shell at once, the sections streamed in as the EHR answers.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import (
    Response,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from ..errors import InvalidInput, SmartAppError
from ..plan import summary as s
from ..plan.at_a_glance import Glance, at_a_glance
from ..plan.record import SECTION_KEYS, SectionFetch
from ..security import new_handle
from ..services.summary import Curation
from ..web import current_launch, current_tenant, launch_blueprint, services
from . import progress_pages, summary_models
from .family_models import team_requests

bp = launch_blueprint("summary", __name__)

# The sections the first screen ("At a glance") is made from: it is redrawn as each of them arrives.
GLANCE_SECTIONS = frozenset({"allergies", "conditions", "medications", "equipment", "care_team", "encounters"})

# Where each section sits under the first screen: problems and people left, treatment and hospital use right.
LAYOUT = (
    ("left", ("allergies", "conditions", "procedures", "care_team", "patient", "goals")),
    ("right", ("medications", "equipment", "encounters", "services", "care_plans", "documents")),
)


@bp.app_context_processor
def banner_helper():
    def patient_banner() -> summary_models.BannerView | None:
        """The banner for any launch page when the EHR wants one (R23); None otherwise."""
        launch = g.get("launch")
        if launch is None or not launch.need_patient_banner:
            return None
        summary = services().summary
        return summary_models.banner_from(summary.header(launch, current_tenant()), summary.clock.today())

    return {"patient_banner": patient_banner}


@bp.get("/")
def show():
    layout = [(region, [(key, s.SECTION_TITLES.get(key, key)) for key in keys]) for region, keys in LAYOUT]
    plan = _current_plan()
    return render_template("summary/show.html", layout=layout, need_banner=current_launch().need_patient_banner,
                           glance=_glance({}, {}, plan), fold_url=url_for("summary.fold"),
                           family_requests=team_requests(services().family.open_requests(current_launch()), plan),
                           back="summary")


@bp.get("/sections")
def sections():
    """NDJSON: one line per section as it arrives ({"key", "html"}), the banner with the patient."""
    return Response(stream_with_context(_section_lines(_requested_keys())), mimetype="application/x-ndjson",
                    headers={"X-Accel-Buffering": "no"})


@bp.get("/full")
def full():
    """The whole summary rendered on the server, for browsers without JavaScript and for print."""
    launch, summary = current_launch(), services().summary
    found = summary.summary(launch, current_tenant())
    curation = summary.curation(launch)
    rendered = {key: _section_view(found.section(key), curation) for key in SECTION_KEYS}
    layout = [(region, [rendered[k] for k in keys]) for region, keys in LAYOUT]
    glance = _glance({key: found.section(key) for key in GLANCE_SECTIONS}, curation.items, _current_plan())
    return render_template("summary/full.html", layout=layout, banner=summary_models.banner_from(found.header, found.today),
                           urls=_curation_urls(), need_banner=launch.need_patient_banner, glance=glance,
                           folded=frozenset(), expand_items=True)


@bp.post("/folds")
def fold():
    """Remember that this user keeps a section folded (or open again), across launches."""
    services().summary.fold(current_launch(), request.form.get("section"), request.form.get("folded") == "1")
    return Response(status=204)


def _current_plan():
    version = services().planning.current(current_launch())
    return version.plan if version else None


def _glance(sections, curations, plan) -> Glance:
    """The first screen from the sections read so far (those missing show as loading)."""
    return at_a_glance(sections, today=services().summary.clock.today(), plan=plan, curations=curations)


def _requested_keys() -> tuple[str, ...]:
    only = request.args.getlist("only")
    if not only:
        return SECTION_KEYS
    unknown = [k for k in only if k not in SECTION_KEYS]
    if unknown:
        raise InvalidInput("That part of the summary does not exist.")
    return tuple(only)


def _section_view(section: s.SummarySection, curation: Curation) -> summary_models.SectionView:
    today = services().summary.clock.today()
    hospital_use = s.hospital_use_of(section, today=today) if section.key == "encounters" else None
    return summary_models.section_view(section, read_on=today, hospital_use=hospital_use, curations=curation.items,
                                       added=curation.added)


# -- the coordinator's curation ----------------------------------------------------------------

@bp.post("/items/hide")
def hide_item():
    services().summary.hide(current_launch(), current_tenant(), request.form.get("ref"), request.form.get("reason"))
    return _back_to_section()


@bp.post("/items/unhide")
def unhide_item():
    services().summary.unhide(current_launch(), current_tenant(), request.form.get("ref"))
    return _back_to_section()


@bp.post("/items/note")
def annotate_item():
    services().summary.annotate(current_launch(), current_tenant(), request.form.get("ref"),
                                request.form.get("note"))
    return _back_to_section()


@bp.post("/added")
def add_item():
    item = services().summary.add_item(current_launch(), current_tenant(), new_handle(), request.form.get("section"),
                                       request.form.get("label"), request.form.get("contact"),
                                       request.form.get("note"))
    return redirect(url_for("summary.show", _anchor=f"section-{item.section}"), code=303)


@bp.post("/added/<item_id>/remove")
def remove_added(item_id: str):
    services().summary.remove_item(current_launch(), item_id)
    return _back_to_section()


def _back_to_section():
    section = request.form.get("section", "")
    return redirect(url_for("summary.show", _anchor=f"section-{section}" if section in SECTION_KEYS else None),
                    code=303)


def _curation_urls() -> dict[str, str]:
    """Once per page rather than once per item: large records have thousands of items."""
    return {"hide": url_for("summary.hide_item"), "unhide": url_for("summary.unhide_item"),
            "note": url_for("summary.annotate_item"), "added": url_for("summary.add_item")}


def _section_lines(keys) -> Iterator[str]:
    launch, summary = current_launch(), services().summary
    curation = summary.curation(launch)
    urls = _curation_urls()
    folded = summary.folded(launch)
    fetched: dict[str, SectionFetch] = {}
    mapped: dict[str, s.SummarySection] = {}
    plan = _current_plan()
    try:
        for fetch in services().tracking.fetches(launch, current_tenant(), keys):
            fetched[fetch.key] = fetch
            if fetch.key == "patient":
                banner = summary_models.banner_from(s.patient_header(fetch, patient_id=launch.patient_id),
                                           summary.clock.today())
                yield _line("banner", render_template("summary/_banner.html", banner=banner,
                                                      need_banner=launch.need_patient_banner))
            section = summary.map_section(launch, fetch)
            yield _line(fetch.key, render_template("summary/_section.html", section=_section_view(section, curation),
                                                   urls=urls, folded=folded))
            if fetch.key in GLANCE_SECTIONS:  # redraw the parts of the first screen this section feeds
                mapped[fetch.key] = section
                for part in _glance(mapped, curation.items, plan).parts:
                    if part.section == fetch.key:
                        yield _line(f"glance-{part.key}", render_template("summary/_glance_part.html", part=part))
        review = progress_pages.review_banner(fetched)  # a due review or new events, shown first ("" if none)
        if review:
            yield _line("review", review)
    except SmartAppError as err:  # e.g. the session expired mid-load: say so in place of the sections
        yield _line("error", render_template("summary/_stream_error.html", error=err))
    yield _line("done", "")


def _line(key: str, html: str) -> str:
    return json.dumps({"key": key, "html": html}) + "\n"
