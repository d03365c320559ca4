"""Plan diffs: field by field, as data, and in plain words for the history and conflict pages."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from smart_app.plan import negotiation as n
from smart_app.plan.diff import (
    Change,
    ChangeKind,
    Entity,
    StaleChange,
    apply,
    changed_keys,
    describe,
    diff,
    field_name,
    items_by_key,
    shown,
    worth_showing,
)
from smart_app.plan.model import ActionStatus, GoalKind, Owner, PlanState, ProgressNote, Role, Stance
from tests.plan_builders import (
    CLINICIAN,
    COORDINATOR,
    NOW,
    a_goal,
    a_plan,
    a_position,
    a_resolution,
    a_signoff,
    an_action,
)

PUMP = "Arrange feeding-pump replacement"


def test_a_moved_due_date_is_one_change_of_the_field_due():
    before = a_plan(an_action("a1", PUMP, due=date(2026, 7, 15)))
    after = a_plan(an_action("a1", PUMP, due=date(2026, 8, 1)))
    assert diff(before, after) == (
        Change(ChangeKind.CHANGED, Entity.ACTION, "a1", "due", date(2026, 7, 15), date(2026, 8, 1), PUMP),
    )


def test_the_same_plan_has_no_differences():
    plan = a_plan(a_goal("g1"), an_action("a1"), a_position("a1"), a_signoff())
    assert diff(plan, plan) == ()


def test_added_and_removed_items_carry_the_whole_item():
    goal, action = a_goal("g1"), an_action("a1")
    assert diff(a_plan(goal), a_plan(action)) == (
        Change(ChangeKind.REMOVED, Entity.GOAL, "g1", before=goal, label=goal.text),
        Change(ChangeKind.ADDED, Entity.ACTION, "a1", after=action, label=action.text),
    )


def test_several_fields_of_one_goal_are_listed_separately():
    before = a_plan(a_goal("g1", "Sleep"))
    after = a_plan(a_goal("g1", "Sleep all night", kind=GoalKind.FAMILY))
    assert [(c.field, c.before, c.after) for c in diff(before, after)] == [
        ("text", "Sleep", "Sleep all night"),
        ("kind", GoalKind.CLINICAL, GoalKind.FAMILY),
    ]


def test_positions_are_keyed_by_item_and_party():
    agree = a_position("a1", Role.CLINICIAN, Stance.AGREE)
    decline = a_position("a1", Role.CLINICIAN, Stance.DECLINE, reason="Too soon")
    family = a_position("a1", Role.FAMILY, Stance.AGREE)
    changes = diff(a_plan(an_action("a1"), agree), a_plan(an_action("a1"), decline, family))
    assert [(c.kind, c.entity, c.key) for c in changes] == [
        (ChangeKind.CHANGED, Entity.POSITION, "a1|clinician"),
        (ChangeKind.ADDED, Entity.POSITION, "a1|family"),
    ]
    assert changes[0].before == agree and changes[0].after == decline


def test_plan_fields_and_sign_offs_are_reported():
    before = a_plan(a_goal("g1"), state=PlanState.IN_REVIEW)
    after = a_plan(a_goal("g1"), a_signoff(Role.CLINICIAN), state=PlanState.SIGNED, next_review=date(2026, 12, 1))
    assert [(c.entity, c.key, c.field) for c in diff(before, after)] == [
        (Entity.SIGNOFF, "clinician", ""),
        (Entity.PLAN, "plan", "state"),
        (Entity.PLAN, "plan", "next_review"),
    ]


def test_reordering_is_one_order_change_but_appending_is_not_a_reorder():
    g1, g2, g3 = a_goal("g1"), a_goal("g2"), a_goal("g3")
    assert diff(a_plan(g1, g2), a_plan(g2, g1)) == (
        Change(ChangeKind.CHANGED, Entity.PLAN, "plan", "goal_order", ("g1", "g2"), ("g2", "g1")),
    )
    assert [c.kind for c in diff(a_plan(g1, g2), a_plan(g1, g2, g3))] == [ChangeKind.ADDED]
    assert [c.kind for c in diff(a_plan(g1, g2, g3), a_plan(g1, g3))] == [ChangeKind.REMOVED]


def test_applying_a_diff_rebuilds_the_later_version():
    plan = a_plan(a_goal("g1"), a_goal("g2"), an_action("a1", goal_id="g1"), an_action("a2"))
    plan = n.submit_for_review(plan, COORDINATOR, NOW)
    later = n.take_position(plan, CLINICIAN, NOW, "a1", Stance.AMEND, proposed_change="Pump this week")
    later = n.accept_amendment(later, COORDINATOR, NOW, "a1", Role.CLINICIAN)
    later = n.move_goal(later, COORDINATOR, NOW, "g2", n.Direction.UP)
    later = n.remove_action(later, COORDINATOR, NOW, "a2")
    later = n.sign(n.sign(later, COORDINATOR, NOW), CLINICIAN, NOW + timedelta(hours=1))
    assert apply(plan, diff(plan, later)) == later


def test_a_change_to_an_item_the_plan_lacks_is_refused_not_dropped():
    change = Change(ChangeKind.CHANGED, Entity.ACTION, "a9", "due", None, date(2026, 8, 1))
    with pytest.raises(StaleChange, match="a9"):
        apply(a_plan(an_action("a1")), [change])


def test_changed_keys_are_the_goals_and_actions_added_or_changed():
    before = a_plan(a_goal("g1"), an_action("a1"), an_action("a2"))
    after = a_plan(a_goal("g1", "New words"), an_action("a2"), an_action("a3"), a_position("a2"))
    assert changed_keys(diff(before, after)) == frozenset({"g1", "a3"})


# ---------------------------------------------------------------------------------------------------
# In words
# ---------------------------------------------------------------------------------------------------


def words(before, after):
    return [describe(c) for c in diff(before, after)]


def test_a_due_date_change_reads_as_a_sentence():
    before = a_plan(an_action("a1", PUMP, due=date(2026, 7, 15)))
    after = a_plan(an_action("a1", PUMP, due=date(2026, 8, 1)))
    assert words(before, after) == [f"Due date of '{PUMP}' changed from 15 Jul 2026 to 1 Aug 2026"]


def test_items_added_removed_reworded_and_dates_set_or_cleared_read_plainly():
    before = a_plan(a_goal("g1", "Sleep", target_date=date(2026, 12, 1)), an_action("a1", "Old"))
    after = a_plan(a_goal("g1", "Sleep", target_date=None), an_action("a2", "New", due=date(2026, 9, 3)))
    assert words(before, after) == [
        "Target date of goal 'Sleep' cleared (was 1 Dec 2026)",
        "Action removed: 'Old'",
        "Action added: 'New'",
    ]
    assert words(a_plan(an_action("a1", "Old")), a_plan(an_action("a1", "Newer"))) == [
        "Action reworded from 'Old' to 'Newer'"]


def test_owner_status_and_progress_read_in_the_domains_words():
    before = a_plan(an_action("a1", PUMP))
    after = a_plan(an_action("a1", PUMP, owner=Owner(Role.COMMUNITY, "Acme DME"), status=ActionStatus.IN_PROGRESS,
                             progress=(ProgressNote("Vendor called", "Jordan Lee", NOW),)))
    assert words(before, after) == [
        f"Owner of '{PUMP}' changed from Care coordinator to Acme DME (Community provider)",
        f"Status of '{PUMP}' changed from not started to in progress",
        f"Progress noted on '{PUMP}': 'Vendor called' (Jordan Lee)",
    ]


def test_positions_read_as_who_did_what_to_which_item():
    before = a_plan(an_action("a1", PUMP), a_position("a1", Role.CLINICIAN, Stance.AGREE))
    after = a_plan(
        an_action("a1", PUMP),
        a_position("a1", Role.CLINICIAN, Stance.DECLINE, reason="Prescription first"),
        a_position("a1", Role.FAMILY, Stance.AMEND, proposed_change="Pump by June"),
    )
    assert words(before, after) == [
        f"Dr Sam Ortiz (Primary care clinician) declined '{PUMP}': Prescription first (before: agreed)",
        f"Family (recorded by Jordan Lee) proposed a change to '{PUMP}': proposed 'Pump by June'",
    ]
    assert words(after, a_plan(an_action("a1", PUMP))) == [
        f"Dr Sam Ortiz (Primary care clinician)'s position on '{PUMP}' was cleared",
        f"Family (recorded by Jordan Lee)'s position on '{PUMP}' was cleared",
    ]


def test_signing_and_plan_fields_read_plainly():
    before = a_plan(a_goal("g1"), a_goal("g2"), state=PlanState.IN_REVIEW, family_priority="")
    after = a_plan(a_goal("g2"), a_goal("g1"), a_signoff(Role.CLINICIAN), state=PlanState.SIGNED,
                   family_priority="Fewer hospital stays", next_review=date(2026, 12, 1), signed_at=NOW)
    assert [describe(c) for c in worth_showing(diff(before, after))] == [
        "Goals reordered",
        "Signed by Dr Sam Ortiz (Primary care clinician)",
        "Plan signed",
        "The family's priority set to 'Fewer hospital stays'",
        "Next review date set to 1 Dec 2026",
    ]
    in_review = a_plan(a_goal("g1"), state=PlanState.IN_REVIEW)
    assert words(a_plan(a_goal("g1")), in_review) == ["Plan status changed from draft to in review"]
    assert words(in_review, a_plan(a_goal("g1"), revision=2)) == [
        "Plan status changed from in review to draft", "Revision 2 opened"]


def test_every_change_can_be_described():
    before = a_plan(a_goal("g1"), an_action("a1", goal_id="g1"), a_position("g1"), a_signoff())
    after = a_plan(a_goal("g1", condition_refs=("Condition/1",)), an_action("a1"), a_position("g1", by="Dr X"),
                   signed_at=NOW)
    assert all(describe(c) for c in diff(before, after))
    assert "'Arrange feeding-pump replacement' unlinked from its goal" in words(before, after)


def test_whose_words_a_goal_is_in_reads_plainly():
    before = a_plan(a_goal("g1", "Sleep"))
    after = a_plan(a_goal("g1", "Sleep", expressed_by="Ana Rivera (mother)"))
    assert words(before, after) == ["Goal 'Sleep' now in the words of 'Ana Rivera (mother)'"]
    assert words(after, before) == ["Goal 'Sleep' no longer says whose words it is in"]


# ---------------------------------------------------------------------------------------------------
# Sign-offs by person, resolutions by the resolver (issue 16)
# ---------------------------------------------------------------------------------------------------


def test_sign_offs_are_keyed_by_who_signed_and_older_ones_by_role():
    ortiz = a_signoff(Role.CLINICIAN, user="Practitioner/sam-ortiz")
    locum = a_signoff(Role.CLINICIAN, "Dr Locum", user="Practitioner/locum")
    assert [(c.kind, c.key) for c in diff(a_plan(ortiz), a_plan(locum))] == [
        (ChangeKind.REMOVED, "Practitioner/sam-ortiz"), (ChangeKind.ADDED, "Practitioner/locum")]
    assert [c.key for c in diff(a_plan(), a_plan(a_signoff(Role.CLINICIAN)))] == ["clinician"]
    assert items_by_key(a_plan(ortiz, a_signoff(Role.COORDINATOR)), Entity.SIGNOFF) == {
        "Practitioner/sam-ortiz": ortiz, "coordinator": a_signoff(Role.COORDINATOR)}


def test_a_cleared_sign_off_reads_plainly():
    assert words(a_plan(a_goal("g1"), a_signoff(Role.CLINICIAN)), a_plan(a_goal("g1"))) == [
        "Sign-off by Dr Sam Ortiz (Primary care clinician) cleared"]


def test_a_resolution_reads_as_the_resolvers_own_words():
    declined = a_plan(an_action("a1", PUMP), a_position("a1", Role.CLINICIAN, Stance.DECLINE))
    resolved = replace(declined, resolutions=(a_resolution("a1", Role.CLINICIAN, note="Agreed to wait"),))
    assert diff(declined, resolved) == (
        Change(ChangeKind.ADDED, Entity.RESOLUTION, "a1|clinician", after=resolved.resolutions[0], label=PUMP),)
    assert words(declined, resolved) == [
        f"Jordan Lee (Care coordinator) resolved the primary care clinician's position on '{PUMP}': Agreed to wait"]
    assert words(resolved, declined) == [
        f"The resolution of the primary care clinician's position on '{PUMP}' no longer applies"]
    assert apply(declined, diff(declined, resolved)) == resolved


def test_a_change_without_its_value_is_still_described():
    for entity, expected in ((Entity.POSITION, "Position on 'Sleep' added"),
                             (Entity.RESOLUTION, "Resolution on 'Sleep' added"),
                             (Entity.SIGNOFF, "Sign-off added")):
        assert describe(Change(ChangeKind.ADDED, entity, "g1|clinician", label="Sleep")) == expected


def test_times_and_plan_fields_read_in_the_one_date_format():
    assert words(a_plan(), a_plan(signed_at=NOW)) == ["Signing time set to 1 Jun 2026 09:30"]
    assert field_name(Entity.PLAN, "goal_order") == "Order of the goals"
    assert field_name(Entity.ACTION, "due") == "Due date" and field_name(Entity.GOAL, "odd_one") == "Odd one"
    assert worth_showing(diff(a_plan(), a_plan(signed_at=NOW))) == ()


# ---------------------------------------------------------------------------------------------------
# Sentences the mutation tests found unpinned
# ---------------------------------------------------------------------------------------------------


def test_a_change_without_an_item_to_name_has_no_label():
    signoff = a_signoff(Role.CLINICIAN)
    assert diff(a_plan(), a_plan(signoff)) == (Change(ChangeKind.ADDED, Entity.SIGNOFF, "clinician", after=signoff),)
    orphan = a_position("x9", Role.FAMILY, Stance.COMMENT)
    assert diff(a_plan(), a_plan(orphan)) == (Change(ChangeKind.ADDED, Entity.POSITION, "x9|family", after=orphan),)


def test_progress_notes_read_as_added_replaced_or_removed():
    one, two, three = (ProgressNote(t, "Jordan Lee", NOW) for t in ("Vendor called", "Order placed", "Delivered"))
    def notes(*progress):
        return a_plan(an_action("a1", PUMP, progress=progress))

    assert words(notes(one), notes(one, two, three)) == [
        f"Progress noted on '{PUMP}': 'Order placed' (Jordan Lee); 'Delivered' (Jordan Lee)"]
    assert words(notes(one), notes(two, three)) == [
        f"Progress notes of '{PUMP}' changed from 'Vendor called' (Jordan Lee) to 'Order placed' (Jordan Lee), "
        "'Delivered' (Jordan Lee)"]
    assert words(notes(one, two), notes(one)) == [
        f"Progress notes of '{PUMP}' changed from 'Vendor called' (Jordan Lee), 'Order placed' (Jordan Lee) to "
        "'Vendor called' (Jordan Lee)"]


def test_an_action_moved_to_another_goal_reads_plainly():
    before = a_plan(a_goal("g1"), a_goal("g2"), an_action("a1", PUMP, goal_id="g1"))
    after = a_plan(a_goal("g1"), a_goal("g2"), an_action("a1", PUMP, goal_id="g2"))
    assert words(before, after) == [f"'{PUMP}' linked to another goal"]


def test_comments_read_with_their_words_and_a_same_stance_change_names_no_earlier_stance():
    before = a_plan(an_action("a1", PUMP), a_position("a1", Role.CLINICIAN, Stance.DECLINE, reason="Too soon"))
    after = a_plan(an_action("a1", PUMP), a_position("a1", Role.CLINICIAN, Stance.DECLINE, reason="Needs a script"),
                   a_position("a1", Role.SPECIALIST, Stance.COMMENT, comment="Model X fits", by="Dr Nair"))
    assert words(before, after) == [
        f"Dr Sam Ortiz (Primary care clinician) declined '{PUMP}': Needs a script",
        f"Dr Nair (Specialist) commented on '{PUMP}': Model X fits",
    ]


@pytest.mark.parametrize("field,sentence", [
    ("goal_order", "Goals reordered"), ("action_order", "Actions reordered"),
    ("position_order", "Positions re-listed"), ("resolution_order", "Resolutions re-listed"),
    ("signoff_order", "Sign-offs re-listed"),
])
def test_orders_read_as_reordered_or_re_listed(field, sentence):
    assert describe(Change(ChangeKind.CHANGED, Entity.PLAN, "plan", field, ("a", "b"), ("b", "a"))) == sentence


def test_values_read_as_a_person_writes_them():
    assert shown(()) == "none" and shown(("Condition/1", "Condition/2")) == "'Condition/1', 'Condition/2'"
    assert shown(3) == "3" and shown(date(2026, 3, 4)) == "4 Mar 2026"
    assert shown(ActionStatus.NOT_STARTED) == "not started"
