"""View-models: curation applied to a section; nothing but strings and tuples reaches templates."""

from dataclasses import fields
from datetime import UTC, date, datetime

from smart_app.plan import summary as s
from smart_app.plan.curation import AddedItem, ItemCuration
from smart_app.plan.record import SectionFetch
from smart_app.views import summary_models as pages
from tests.builders import a_condition, a_device

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def conditions_section():
    fetch = SectionFetch("conditions", (a_condition("Epilepsy", id="c1"), a_condition("Scoliosis", id="c2")))
    return s.summarize_section(fetch, today=TODAY)


def test_a_hidden_item_leaves_the_list_and_shows_its_reason_apart():
    view = pages.section_view(conditions_section(), read_on=TODAY, curations={
        "Condition/c1": ItemCuration("Condition/c1", hidden=True, hidden_reason="duplicate", by="J", at=NOW)})
    assert [i.label for i in view.items] == ["Scoliosis"] and view.count == 1
    assert [(i.label, i.hidden_reason) for i in view.hidden] == [("Epilepsy", "duplicate")]


def test_a_note_is_attached_to_its_item():
    view = pages.section_view(conditions_section(), read_on=TODAY, curations={
        "Condition/c2": ItemCuration("Condition/c2", note="brace at night", by="J", at=NOW)})
    assert {i.label: i.note for i in view.items} == {"Epilepsy": "", "Scoliosis": "brace at night"}


def test_added_items_follow_the_ehrs_and_count():
    section = s.summarize_section(SectionFetch("equipment", (a_device("Suction machine", id="d1"),)), today=TODAY)
    added = [AddedItem("a1", "equipment", "Feeding pump backpack", contact="Acme DME", by="Jordan Lee", at=NOW),
             AddedItem("a2", "services", "School nurse", by="Jordan Lee", at=NOW)]
    view = pages.section_view(section, read_on=TODAY, added=added)
    assert [i.label for i in view.items][-1] == "Feeding pump backpack" and view.count == 2
    assert view.items[-1].added_by == "Jordan Lee" and view.add_label


def test_view_models_hold_only_plain_values():
    view = pages.section_view(conditions_section(), read_on=TODAY)
    for item in view.items:
        for f in fields(item):
            assert isinstance(getattr(item, f.name), (str, tuple))


def test_an_item_the_app_filed_says_so_in_its_provenance_line():
    ours = s.Source("Goal", "Goal/1", date(2026, 3, 16), "", by_this_app=True)
    theirs = s.Source("Goal", "Goal/2", date(2026, 3, 16), "Dr. Amara Okafor")
    assert pages.source_text(ours) == "Goal · recorded 16 Mar 2026 · filed by this app"
    assert "filed by this app" not in pages.source_text(theirs)
