"""Saves made on the same version: field-level merge, conflicts side by side, "keep mine", and the
service's path that re-runs the command on the latest version (issue 16)."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from smart_app.plan import negotiation as n
from smart_app.plan.diff import Entity
from smart_app.plan.merge import (
    ConflictRow,
    FieldConflict,
    Merged,
    conflict_rows,
    keep_mine,
    merge,
    rebase,
    rebase_conflicts,
    value_at,
)
from smart_app.plan.model import ActionStatus, Owner, PlanState, Role, Stance
from tests.plan_builders import (
    CLINICIAN,
    COORDINATOR,
    NOW,
    a_goal,
    a_plan,
    a_plan_in_review,
    a_position,
    an_action,
)

LATER = NOW + timedelta(hours=1)
PUMP = "Arrange feeding-pump replacement"


def base_plan():
    return a_plan_in_review(
        a_goal("g1", "Sleep through the night"), a_goal("g2", "Keep weight on the growth curve"),
        an_action("a1", PUMP, goal_id="g1", due=date(2026, 7, 15)),
        an_action("a2", "Weekly physical therapy", owner=Owner(Role.COMMUNITY, "Home Health Co"), goal_id="g2"),
    )


def edit(action_id, **posted):
    """What the service builds from an edit form: only the fields changed from the version the user saw."""
    def change(plan):
        return n.edit_action(plan, COORDINATOR, NOW, action_id, **posted)
    return change


def form_edit(seen, action_id, actor=COORDINATOR, **posted):
    """An edit form posting every field, filtered against the item as the user saw it."""
    fields = n.edited_fields(seen.action(action_id), posted)
    return lambda plan: n.edit_action(plan, actor, NOW, action_id, **fields)


def full_form(action, **typed):
    """Every field the action edit form posts, as the user left or typed them."""
    return {"text": action.text, "owner": action.owner, "goal_id": action.goal_id, "due": action.due,
            "status": action.status, **typed}


# ---------------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------------


def test_saving_only_a_status_on_top_of_a_colleagues_rewording_keeps_her_words():
    base = base_plan()
    latest = n.edit_action(base, COORDINATOR, NOW, "a1", text="Replace the feeding pump by July")  # tab A
    change = form_edit(base, "a1", **full_form(base.action("a1"), status=ActionStatus.IN_PROGRESS))  # tab B
    outcome = rebase(base, latest, change)
    assert outcome.conflicts == ()
    assert (outcome.plan.action("a1").text, outcome.plan.action("a1").status) == (
        "Replace the feeding pump by July", ActionStatus.IN_PROGRESS)


def test_twenty_people_editing_different_items_all_land_without_a_conflict():
    actions = [an_action(f"a{i}", f"Action {i}", due=date(2026, 7, 1)) for i in range(20)]
    base = a_plan_in_review(a_goal("g1"), *actions)
    latest = base
    for i in range(20):  # each saw the base version; each saves after the others
        change = form_edit(base, f"a{i}", **full_form(base.action(f"a{i}"), due=date(2026, 8, i + 1)))
        outcome = rebase(base, latest, change)
        assert outcome.conflicts == ()
        latest = outcome.plan
    assert [a.due for a in latest.actions] == [date(2026, 8, i + 1) for i in range(20)]


def test_a_field_both_changed_is_a_conflict_and_keeping_mine_changes_only_that_field():
    base = base_plan()
    latest = n.edit_action(base, COORDINATOR, NOW, "a1", text="Pump by July", due=date(2026, 7, 1))
    change = form_edit(base, "a1", **full_form(base.action("a1"), text="Pump this week"))
    outcome = rebase(base, latest, change)
    assert outcome.plan is None
    assert outcome.conflicts == (
        FieldConflict(Entity.ACTION, "a1", "text", PUMP, PUMP, "Pump by July", "Pump this week"),)
    assert [c.field for c in outcome.their_changes if c.entity is Entity.ACTION] == ["text", "due"]
    kept = change(latest)  # "keep mine": the same command on the latest version
    assert (kept.action("a1").text, kept.action("a1").due) == ("Pump this week", date(2026, 7, 1))
    assert conflict_rows(outcome.conflicts) == (
        ConflictRow(f"Wording of action '{PUMP}'", f"'{PUMP}'", "'Pump by July'", "'Pump this week'", False),)


def test_the_rules_apply_to_the_latest_version_not_to_merged_data():
    base = a_plan_in_review(a_goal("g1"), an_action("a1", PUMP, goal_id="g1"), a_position("a1", Role.FAMILY))
    latest = n.take_position(base, CLINICIAN, NOW, "a1", Stance.AGREE)  # agreed to the old wording
    latest = n.take_position(latest, CLINICIAN, NOW, "g1", Stance.AGREE)
    outcome = rebase(base, latest, edit("a1", text="Replace the pump by July"))
    assert outcome.conflicts == ()
    assert {(p.subject_id, p.party) for p in outcome.plan.positions} == {("g1", Role.CLINICIAN)}


def test_what_the_rules_cleared_as_a_consequence_is_not_a_conflict():
    base = a_plan_in_review(an_action("a1", PUMP), a_position("a1", Role.CLINICIAN, Stance.AGREE))
    latest = n.take_position(base, CLINICIAN, LATER, "a1", Stance.DECLINE, reason="Prescription first")
    outcome = rebase(base, latest, edit("a1", text="Replace the pump by July"))  # clears the AGREE it saw
    assert outcome.conflicts == ()
    assert [(p.stance, p.reason) for p in outcome.plan.positions] == [(Stance.DECLINE, "Prescription first")]


# ---------------------------------------------------------------------------------------------------
# What the user acted on, changed since
# ---------------------------------------------------------------------------------------------------


def test_a_signature_on_content_that_changed_since_is_a_conflict():
    base = base_plan()
    latest = n.edit_action(base, COORDINATOR, NOW, "a2", text="Twice-weekly physical therapy")
    outcome = rebase(base, latest, lambda p: n.sign(p, CLINICIAN, LATER))
    assert [(c.entity, c.key, c.field, c.acted_on) for c in outcome.conflicts] == [
        (Entity.ACTION, "a2", "text", True)]
    for content in (lambda p: n.move_goal(p, COORDINATOR, NOW, "g2", n.Direction.UP),
                    lambda p: n.set_family_priority(p, COORDINATOR, NOW, "Sleep"),
                    lambda p: n.remove_action(p, COORDINATOR, NOW, "a1")):
        assert rebase_conflicts(base, n.sign(base, CLINICIAN, LATER), content(base)), content


def test_a_signature_lands_over_tracking_changes():
    base = base_plan()
    latest = n.edit_action(base, COORDINATOR, NOW, "a1", status=ActionStatus.IN_PROGRESS)
    latest = n.add_progress_note(latest, COORDINATOR, NOW, "a1", "Vendor called")
    outcome = rebase(base, latest, lambda p: n.sign(p, CLINICIAN, LATER))
    assert outcome.conflicts == () and [s.role for s in outcome.plan.signoffs] == [Role.CLINICIAN]


def test_one_person_signing_in_two_tabs_under_two_roles_is_caught():
    base = base_plan()
    person = "Practitioner/jordan-lee"
    latest = n.sign(base, n.Actor(Role.COORDINATOR, "Jordan Lee", person), NOW)
    second_tab = lambda p: n.sign(p, n.Actor(Role.CLINICIAN, "Jordan Lee", person), LATER)  # noqa: E731
    outcome = rebase(base, latest, second_tab)
    assert [(c.entity, c.key) for c in outcome.conflicts] == [(Entity.SIGNOFF, person)]
    with pytest.raises(n.NegotiationError, match="each person signs once"):
        second_tab(latest)  # and "keep mine" is refused by the rule


def test_a_position_on_an_item_reworded_since_is_a_conflict():
    base = base_plan()
    latest = n.edit_action(base, COORDINATOR, NOW, "a1", text="Replace the pump by July")
    outcome = rebase(base, latest, lambda p: n.take_position(p, CLINICIAN, LATER, "a1", Stance.AGREE))
    assert [(c.key, c.field, c.base, c.theirs, c.acted_on) for c in outcome.conflicts] == [
        ("a1", "text", PUMP, "Replace the pump by July", True)]
    tracked = n.edit_action(base, COORDINATOR, NOW, "a1", status=ActionStatus.DONE)
    assert rebase(base, tracked, lambda p: n.take_position(p, CLINICIAN, LATER, "a1", Stance.AGREE)).plan


def test_resolving_or_accepting_a_position_the_party_changed_since_is_a_conflict():
    base = n.take_position(base_plan(), CLINICIAN, NOW, "a1", Stance.AMEND, proposed_change="Pump by July")
    latest = n.take_position(base, CLINICIAN, LATER, "a1", Stance.AMEND, proposed_change="Pump by June")
    accept = rebase(base, latest, lambda p: n.accept_amendment(p, COORDINATOR, LATER, "a1", Role.CLINICIAN))
    assert [(c.entity, c.key, c.acted_on) for c in accept.conflicts] == [(Entity.POSITION, "a1|clinician", True)]
    resolve = rebase(base, latest, lambda p: n.resolve_position(p, COORDINATOR, LATER, "a1", Role.CLINICIAN, "Ok"))
    assert [(c.entity, c.key, c.acted_on) for c in resolve.conflicts] == [(Entity.POSITION, "a1|clinician", True)]
    other = n.take_position(base, COORDINATOR, LATER, "a2", Stance.COMMENT, comment="Check the schedule")
    assert rebase(base, other, lambda p: n.accept_amendment(p, COORDINATOR, LATER, "a1", Role.CLINICIAN)).plan


def test_an_action_removed_since_is_a_conflict_with_the_edit_and_a_removed_goal_is_refused():
    base = base_plan()
    latest = n.remove_action(base, COORDINATOR, NOW, "a1")
    outcome = rebase(base, latest, edit("a1", due=date(2026, 9, 1)))
    (conflict,) = outcome.conflicts
    assert (conflict.entity, conflict.key, conflict.field, conflict.theirs) == (Entity.ACTION, "a1", "", None)
    assert conflict.mine.due == date(2026, 9, 1)
    gone = n.remove_goal(base, COORDINATOR, NOW, "g1")
    with pytest.raises(n.NegotiationError, match="no longer in the plan"):
        rebase(base, gone, edit("a2", goal_id="g1"))


def test_removing_a_goal_does_not_count_the_unlinked_actions_as_the_users_edits():
    base = base_plan()
    latest = n.edit_action(base, COORDINATOR, NOW, "a2", goal_id="g1")  # someone moved a2 to the other goal
    outcome = rebase(base, latest, lambda p: n.remove_goal(p, COORDINATOR, NOW, "g2"))  # unlinks a2 on the base
    assert outcome.conflicts == ()
    assert [g.goal_id for g in outcome.plan.goals] == ["g1"] and outcome.plan.action("a2").goal_id == "g1"


# ---------------------------------------------------------------------------------------------------
# merge and keep_mine on data
# ---------------------------------------------------------------------------------------------------


def test_merge_takes_both_sides_fields_and_keeps_theirs_where_both_changed():
    base = base_plan()
    mine = replace(base, actions=(replace(base.actions[0], text="Mine", due=date(2026, 9, 1)), base.actions[1]))
    theirs = replace(base, actions=(replace(base.actions[0], text="Theirs", status=ActionStatus.DONE),
                                    base.actions[1]), family_priority="Sleep")
    merged = merge(base, mine, theirs)
    action = merged.plan.action("a1")
    assert (action.text, action.due, action.status, merged.plan.family_priority) == (
        "Theirs", date(2026, 9, 1), ActionStatus.DONE, "Sleep")
    assert [(c.key, c.field, c.base, c.theirs, c.mine) for c in merged.conflicts] == [
        ("a1", "text", PUMP, "Theirs", "Mine")]
    kept = keep_mine(merged)
    assert kept == replace(merged.plan, actions=(replace(action, text="Mine"), base.actions[1]))


def test_a_reorder_by_one_side_keeps_the_other_sides_new_items_at_the_end():
    base = base_plan()
    mine = n.move_goal(base, COORDINATOR, NOW, "g2", n.Direction.UP)
    theirs = n.add_goal(base, COORDINATOR, NOW, goal_id="g3", text="Go to school")
    merged = merge(base, mine, theirs)
    assert [g.goal_id for g in merged.plan.goals] == ["g2", "g1", "g3"] and merged.conflicts == ()


def test_two_different_reorders_conflict_and_keep_mine_takes_my_order():
    base = a_plan(a_goal("g1", "One"), a_goal("g2", "Two"), a_goal("g3", "Three"))
    mine = replace(base, goals=(base.goals[2], base.goals[0], base.goals[1]))
    theirs = replace(base, goals=(base.goals[1], base.goals[0], base.goals[2]))
    merged = merge(base, mine, theirs)
    assert [(c.field, c.mine) for c in merged.conflicts] == [("goal_order", ("g3", "g1", "g2"))]
    assert merged.plan.goals == theirs.goals and keep_mine(merged).goals == mine.goals
    (row,) = conflict_rows(merged.conflicts, base, theirs, mine)
    assert (row.what, row.mine) == ("Order of the goals", "'Three', 'One', 'Two'")
    same = replace(base, goals=(base.goals[2], base.goals[0], base.goals[1]))
    assert merge(base, mine, same).conflicts == ()


def test_removed_by_me_changed_by_them_is_one_whole_item_conflict():
    base = base_plan()
    mine = n.remove_action(base, COORDINATOR, NOW, "a2")
    theirs = n.edit_action(base, COORDINATOR, NOW, "a2", text="Twice weekly", due=date(2026, 9, 1))
    merged = merge(base, mine, theirs)
    (conflict,) = merged.conflicts
    assert (conflict.entity, conflict.key, conflict.field, conflict.mine) == (Entity.ACTION, "a2", "", None)
    assert merged.plan.action("a2").text == "Twice weekly" and keep_mine(merged).action("a2") is None
    assert keep_mine(merge(base, theirs, mine)).action("a2") == theirs.action("a2")
    (row,) = conflict_rows(merged.conflicts)
    assert (row.what, row.theirs, row.mine) == ("Action 'Weekly physical therapy'", "'Twice weekly'", "(not there)")


def test_positions_sign_offs_and_plan_fields_conflict_as_wholes():
    base = a_plan_in_review(an_action("a1", PUMP), a_position("a1", Role.CLINICIAN, Stance.AGREE))
    mine = n.take_position(base, CLINICIAN, LATER, "a1", Stance.DECLINE, reason="Prescription first")
    mine = n.set_family_priority(mine, COORDINATOR, NOW, "Sleep")
    theirs = n.take_position(base, CLINICIAN, LATER, "a1", Stance.AMEND, proposed_change="Pump by June")
    theirs = n.set_family_priority(theirs, COORDINATOR, NOW, "School")
    merged = merge(base, mine, theirs)
    assert [(c.entity, c.key, c.field) for c in merged.conflicts] == [
        (Entity.POSITION, "a1|clinician", ""), (Entity.PLAN, "plan", "family_priority")]
    assert keep_mine(merged) == mine
    rows = conflict_rows(merged.conflicts)
    assert [(r.what, r.base, r.theirs, r.mine) for r in rows] == [
        (f"Position on '{PUMP}'", "Dr Sam Ortiz (Primary care clinician): agree",
         "Dr Sam Ortiz (Primary care clinician): amend, 'Pump by June'",
         "Dr Sam Ortiz (Primary care clinician): decline, 'Prescription first'"),
        ("The family's priority", "(none)", "'School'", "'Sleep'"),
    ]


def test_the_same_change_on_both_sides_is_not_a_conflict():
    base = base_plan()
    both = n.edit_action(base, COORDINATOR, NOW, "a1", due=date(2026, 9, 1))
    assert merge(base, both, both) == Merged(both, ())
    assert value_at(both, (Entity.ACTION, "a1", "due")) == date(2026, 9, 1)
    assert value_at(both, (Entity.ACTION, "a9", "due")) is None
    assert value_at(both, (Entity.PLAN, "plan", "state")) is PlanState.IN_REVIEW
