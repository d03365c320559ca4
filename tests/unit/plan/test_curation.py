"""The coordinator's curation rules: hide with a reason, annotate, add what the EHR lacks."""

from datetime import UTC, datetime

import pytest

from smart_app.plan import curation as c

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_hiding_needs_a_reason_and_keeps_the_note():
    noted = c.annotate(None, "Condition/1", "  confirm with   neurology ", by="Jordan Lee", at=NOW)
    hidden = c.hide(noted, "Condition/1", "duplicate entry", by="Jordan Lee", at=NOW)
    assert noted.note == "confirm with neurology"
    assert hidden.hidden and hidden.hidden_reason == "duplicate entry" and hidden.note == noted.note
    with pytest.raises(c.CurationError, match="reason"):
        c.hide(None, "Condition/1", "   ", by="x", at=NOW)


def test_showing_again_clears_the_reason_but_not_the_note():
    hidden = c.hide(c.annotate(None, "Device/2", "family owns it", by="a", at=NOW), "Device/2", "old", by="a", at=NOW)
    shown = c.unhide(hidden, "Device/2", by="b", at=NOW)
    assert not shown.hidden and shown.hidden_reason == "" and shown.note == "family owns it" and shown.by == "b"


def test_added_items_only_in_sections_the_ehr_does_not_hold_well():
    item = c.new_added_item("id1", "equipment", "Feeding pump backpack", "Acme DME 555-0100", "", by="J", at=NOW)
    assert item.section == "equipment" and item.contact == "Acme DME 555-0100"
    with pytest.raises(c.CurationError):
        c.new_added_item("id2", "medications", "Something", "", "", by="J", at=NOW)
    with pytest.raises(c.CurationError, match="name"):
        c.new_added_item("id3", "services", "  ", "", "", by="J", at=NOW)


def test_overlong_text_is_refused_not_truncated():
    with pytest.raises(c.CurationError, match="too long"):
        c.annotate(None, "Condition/1", "x" * 501, by="J", at=NOW)


@pytest.mark.parametrize("ref,ok", [("Condition/1", True), ("CareTeam/t1|dr smith", True), ("", False),
                                    (None, False), ("x" * 301, False), ("Condition/1\n", False)])
def test_item_refs_are_bounded_printable_strings(ref, ok):
    assert c.is_item_ref(ref) is ok
