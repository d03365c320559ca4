"""Whatever the record held at sign-off and holds today, change detection reports nothing when nothing
changed, every added item exactly once, removal as the mirror of addition, and never one item twice."""

from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_app.plan.model import Plan
from smart_app.plan.review_cycle import (
    EventKind,
    changes_since,
    snapshot_from_json,
    snapshot_of,
    snapshot_to_json,
)
from smart_app.plan.summary import MedicalSummary, summarize
from tests import builders as b

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIGNED_ON = date(2025, 3, 1)
TODAY = date(2025, 9, 1)
NO_PLAN = Plan()

Resources = dict[str, list[dict]]

ADDED_AND_REMOVED = {
    EventKind.CONDITION_NEW: EventKind.CONDITION_REMOVED,
    EventKind.MEDICATION_STARTED: EventKind.MEDICATION_STOPPED,
    EventKind.ALLERGY_NEW: EventKind.ALLERGY_REMOVED,
    EventKind.EQUIPMENT_NEW: EventKind.EQUIPMENT_REMOVED,
}
MIRRORED_SECTIONS = ("conditions", "medications", "allergies", "equipment")


def dates(low: date, high: date) -> st.SearchStrategy[date]:
    return st.integers(0, (high - low).days).map(lambda n: low + timedelta(days=n))


def one_item(section: str, name: str, *, active_only: bool) -> st.SearchStrategy[list[dict]]:
    """The resources for one item of `section`, named `name` (unique in the test)."""
    on_or_off = st.just(True) if active_only else st.booleans()
    if section == "conditions":
        return st.builds(
            lambda active, category: [
                b.a_condition(
                    f"Condition {name}", id=name, status="active" if active else "resolved", category=category
                )
            ],
            on_or_off,
            st.sampled_from(["problem-list-item", "encounter-diagnosis", "health-concern"]),
        )
    if section == "medications":
        return st.builds(
            lambda active, dose: [
                b.a_medication_request(
                    f"Medicine {name}", id=name, status="active" if active else "completed", dose_text=dose
                )
            ],
            on_or_off,
            st.sampled_from(["5 mL twice daily", "10 mg at night", None]),
        )
    if section == "allergies":
        return on_or_off.map(
            lambda active: [
                b.an_allergy(f"Allergen {name}", id=name, status="active" if active else "resolved")
            ]
        )
    if section == "equipment":
        return on_or_off.map(
            lambda active: [b.a_device(f"Device {name}", id=name, status="active" if active else "inactive")]
        )
    if section == "care_team":
        return st.sampled_from(["Neurology", "Cardiology", ""]).map(
            lambda specialty: [
                b.a_practitioner_role(
                    b.a_practitioner(name, "Doe", id=f"pr-{name}"),
                    specialty=specialty or None,
                    code="Doctor",
                    id=name,
                ),
                b.a_practitioner(name, "Doe", id=f"pr-{name}"),
            ]
        )
    # encounters: an added one is a hospital stay after signing; a base one can be anything
    if active_only:
        return st.builds(
            lambda kind, start: [b.an_encounter(kind, start=start.isoformat(), id=name)],
            st.sampled_from(["EMER", "IMP"]),
            dates(SIGNED_ON + timedelta(days=1), TODAY),
        )
    return st.builds(
        lambda kind, start: [b.an_encounter(kind, start=start.isoformat(), id=name)],
        st.sampled_from(["EMER", "IMP", "AMB"]),
        dates(date(2024, 1, 1), TODAY),
    )


SECTIONS = ("conditions", "medications", "allergies", "equipment", "care_team", "encounters")


@st.composite
def records(
    draw, prefix: str, *, active_only: bool = False, sections=SECTIONS, max_items: int = 3
) -> Resources:
    record: Resources = {}
    for section in sections:
        count = draw(st.integers(0, max_items))
        record[section] = [
            r
            for n in range(count)
            for r in draw(one_item(section, f"{prefix}{section[:3]}{n}", active_only=active_only))
        ]
    return record


def merged(*parts: Resources) -> Resources:
    return {key: [r for part in parts for r in part.get(key, [])] for key in SECTIONS}


def summary(record: Resources) -> MedicalSummary:
    sections = {key: tuple(resources) for key, resources in record.items()}
    roles = [r for r in sections.get("care_team", ()) if r["resourceType"] == "PractitionerRole"]
    if roles:
        team = b.a_care_team(*(b.a_participant(role) for role in roles), id="team")
        sections["care_team"] = (team, *sections["care_team"])
    return summarize(b.a_record(**sections), today=TODAY)


def diff(before: Resources, now: Resources):
    return changes_since(
        snapshot_of(summary(before)), summary(now), signed_on=SIGNED_ON, plan=NO_PLAN, today=TODAY
    )


def item_keys(record: Resources) -> set[str]:
    return {
        f"{r['resourceType']}/{r['id']}"
        for resources in record.values()
        for r in resources
        if r["resourceType"] != "Practitioner"
    }


@FAST
@given(records("b"))
def test_nothing_changed_means_no_events(record):
    assert diff(record, record) == ()


@FAST
@given(records("b"), records("x", active_only=True))
def test_every_added_item_is_reported_exactly_once_and_nothing_else_is(base, added):
    events = diff(base, merged(base, added))
    assert Counter(e.key for e in events) == Counter(item_keys(added))


@FAST
@given(records("b"), records("x", active_only=True, sections=MIRRORED_SECTIONS))
def test_removing_then_re_adding_is_symmetric(base, extra):
    with_extra = merged(base, extra)
    removed = {(e.kind, e.key) for e in diff(with_extra, base)}
    re_added = {(ADDED_AND_REMOVED[e.kind], e.key) for e in diff(base, with_extra)}
    assert removed == re_added
    assert {key for _, key in removed} == item_keys(extra)


@FAST
@given(records("b"), records("n"), records("b"))
def test_no_item_is_reported_twice_whatever_changed(before, added, now_base):
    events = diff(before, merged(now_base, added))
    assert all(count == 1 for count in Counter(e.key for e in events).values())


@FAST
@given(records("b"), records("n"))
def test_a_snapshot_read_back_from_json_finds_the_same_changes(before, now):
    snapshot = snapshot_of(summary(before))
    read_back = snapshot_from_json(snapshot_to_json(snapshot))
    assert read_back == snapshot
    today = summary(merged(before, now))
    assert changes_since(read_back, today, signed_on=SIGNED_ON, plan=NO_PLAN, today=TODAY) == changes_since(
        snapshot, today, signed_on=SIGNED_ON, plan=NO_PLAN, today=TODAY
    )
