"""The negotiation rules: who may change what, positions, sign-off, the frozen signed plan, revisions."""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from smart_app.plan import negotiation as n
from smart_app.plan.model import (
    Achievement,
    ActionStatus,
    Goal,
    GoalKind,
    GoalLifecycle,
    NegotiatedAction,
    Owner,
    PlanState,
    Role,
    Stance,
)
from tests.plan_builders import (
    CLINICIAN,
    COMMUNITY,
    COORDINATOR,
    NOW,
    SPECIALIST,
    a_goal,
    a_plan,
    a_plan_in_review,
    a_position,
    a_resolution,
    a_signoff,
    an_action,
)

LATER = NOW + timedelta(hours=2)


def drafted():
    """Two goals, three actions, as the coordinator drafts them."""
    return a_plan(
        a_goal("g1", "Sleep through the night without pump alarms", kind=GoalKind.FAMILY),
        a_goal("g2", "Keep weight on the growth curve"),
        an_action("a1", "Arrange feeding-pump replacement", goal_id="g1", due=date(2026, 7, 15)),
        an_action("a2", "Weekly physical therapy at home", owner=Owner(Role.COMMUNITY, "Home Health Co"),
                  goal_id="g2"),
        an_action("a3", "Review feeds at next visit", owner=Role.CLINICIAN, goal_id="g2"),
    )


def signed_plan():
    plan = n.submit_for_review(drafted(), COORDINATOR, NOW)
    return n.sign(n.sign(plan, COORDINATOR, NOW), CLINICIAN, LATER)


# ---------------------------------------------------------------------------------------------------
# Goals and actions
# ---------------------------------------------------------------------------------------------------


def test_the_coordinator_adds_a_goal_at_the_end_with_the_given_id():
    plan = n.add_goal(drafted(), COORDINATOR, NOW, goal_id="g3", text="  Go to school  three days a week ",
                      kind=GoalKind.FAMILY, expressed_by="Ana Rivera (mother)", target_date=date(2026, 12, 1))
    assert [g.goal_id for g in plan.goals] == ["g1", "g2", "g3"]
    goal = plan.goal("g3")
    assert goal.text == "Go to school three days a week"
    assert (goal.kind, goal.expressed_by, goal.target_date) == (GoalKind.FAMILY, "Ana Rivera (mother)",
                                                                 date(2026, 12, 1))


def test_a_new_item_needs_wording_and_an_unused_id():
    with pytest.raises(n.NegotiationError, match="Write the goal"):
        n.add_goal(drafted(), COORDINATOR, NOW, goal_id="g9", text="   ")
    with pytest.raises(n.NegotiationError, match="already exists"):
        n.add_goal(drafted(), COORDINATOR, NOW, goal_id="a1", text="Same id as an action")
    with pytest.raises(n.NegotiationError, match="already exists"):
        n.add_action(drafted(), COORDINATOR, NOW, action_id="g2", text="x", owner=Owner(Role.FAMILY))


def test_overlong_wording_is_refused_not_truncated():
    with pytest.raises(n.NegotiationError, match="too long"):
        n.add_goal(drafted(), COORDINATOR, NOW, goal_id="g9", text="x" * (n.MAX_TEXT + 1))


def test_only_the_coordinator_adds_edits_removes_and_reorders_goals():
    plan = drafted()
    for actor in (CLINICIAN, SPECIALIST, COMMUNITY):
        with pytest.raises(n.NegotiationError, match="Only the care coordinator can add goals"):
            n.add_goal(plan, actor, NOW, goal_id="g9", text="A goal")
        with pytest.raises(n.NegotiationError, match="care coordinator"):
            n.edit_goal(plan, actor, NOW, "g1", text="Changed")
        with pytest.raises(n.NegotiationError, match="care coordinator"):
            n.remove_goal(plan, actor, NOW, "g1")
        with pytest.raises(n.NegotiationError, match="care coordinator"):
            n.move_goal(plan, actor, NOW, "g2", n.Direction.UP)


def test_editing_a_goal_changes_only_the_fields_given():
    plan = n.edit_goal(drafted(), COORDINATOR, NOW, "g2", target_date=date(2026, 9, 1),
                       achievement=Achievement.IMPROVING, condition_refs=["Condition/gtube"])
    goal = plan.goal("g2")
    assert goal.text == "Keep weight on the growth curve"
    assert (goal.target_date, goal.achievement, goal.condition_refs) == (
        date(2026, 9, 1), Achievement.IMPROVING, ("Condition/gtube",))


def test_a_target_date_can_be_cleared():
    plan = n.edit_goal(a_plan(a_goal("g1", target_date=date(2026, 9, 1))), COORDINATOR, NOW, "g1", target_date=None)
    assert plan.goal("g1").target_date is None


def test_removing_a_goal_keeps_its_actions_unlinked_and_drops_positions_on_it():
    plan = drafted()
    plan = n.take_position(plan, CLINICIAN, NOW, "g2", Stance.AGREE)
    plan = n.remove_goal(plan, COORDINATOR, NOW, "g2")
    assert [g.goal_id for g in plan.goals] == ["g1"]
    assert [(a.action_id, a.goal_id) for a in plan.actions] == [("a1", "g1"), ("a2", None), ("a3", None)]
    assert plan.positions == ()


def test_moving_a_goal_swaps_it_with_its_neighbour_and_stops_at_the_ends():
    plan = drafted()
    up = n.move_goal(plan, COORDINATOR, NOW, "g2", n.Direction.UP)
    assert [g.goal_id for g in up.goals] == ["g2", "g1"]
    assert n.move_goal(up, COORDINATOR, NOW, "g2", n.Direction.UP) == up
    assert n.move_goal(plan, COORDINATOR, NOW, "g2", n.Direction.DOWN) == plan


def test_moving_an_action_stays_among_the_actions_of_its_goal():
    plan = drafted()  # a1 under g1; a2, a3 under g2
    down = n.move_action(plan, COORDINATOR, NOW, "a2", n.Direction.DOWN)
    assert [a.action_id for a in down.actions] == ["a1", "a3", "a2"]
    assert n.move_action(plan, COORDINATOR, NOW, "a2", n.Direction.UP) == plan  # a1 belongs to another goal


def test_an_action_can_only_be_linked_to_a_goal_in_the_plan():
    with pytest.raises(n.NegotiationError, match="no longer in the plan"):
        n.add_action(drafted(), COORDINATOR, NOW, action_id="a9", text="x", owner=Owner(Role.FAMILY), goal_id="g9")
    with pytest.raises(n.NegotiationError, match="no longer in the plan"):
        n.edit_action(drafted(), COORDINATOR, NOW, "a1", goal_id="g9")


def test_the_coordinator_assigns_owner_and_due_date():
    plan = n.edit_action(drafted(), COORDINATOR, NOW, "a1", owner=Owner(Role.FAMILY, " Ana  Rivera "),
                         due=date(2026, 8, 1))
    action = plan.action("a1")
    assert (action.owner, action.due) == (Owner(Role.FAMILY, "Ana Rivera"), date(2026, 8, 1))


def test_an_owner_may_update_their_own_action_but_not_someone_elses():
    plan = n.edit_action(drafted(), COMMUNITY, NOW, "a2", status=ActionStatus.IN_PROGRESS, due=date(2026, 7, 1))
    assert plan.action("a2").status is ActionStatus.IN_PROGRESS
    with pytest.raises(n.NegotiationError, match="your role is responsible for"):
        n.edit_action(drafted(), COMMUNITY, NOW, "a1", status=ActionStatus.DONE)
    with pytest.raises(n.NegotiationError, match="your role is responsible for"):
        n.edit_action(drafted(), CLINICIAN, NOW, "a2", text="Twice-weekly physical therapy")


def test_an_owner_may_not_hand_the_action_to_someone_else():
    with pytest.raises(n.NegotiationError, match="reassign"):
        n.edit_action(drafted(), CLINICIAN, NOW, "a3", owner=Owner(Role.FAMILY))


def test_removing_an_action_drops_the_positions_on_it():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.DECLINE, reason="Not needed")
    plan = n.remove_action(plan, COORDINATOR, NOW, "a1")
    assert plan.action("a1") is None and plan.positions == ()


def test_editing_an_item_that_is_gone_says_so():
    with pytest.raises(n.NegotiationError, match="no longer in the plan"):
        n.edit_action(drafted(), COORDINATOR, NOW, "a9", text="x")
    with pytest.raises(n.NegotiationError, match="no longer in the plan"):
        n.take_position(drafted(), CLINICIAN, NOW, "g9", Stance.AGREE)


def test_progress_notes_carry_author_and_time():
    plan = n.add_progress_note(drafted(), COORDINATOR, NOW, "a1", "DME vendor contacted; awaiting prior auth")
    plan = n.add_progress_note(plan, CLINICIAN, LATER, "a1", "Prescription sent")
    notes = plan.action("a1").progress
    assert [(x.text, x.author, x.at) for x in notes] == [
        ("DME vendor contacted; awaiting prior auth", COORDINATOR.name, NOW),
        ("Prescription sent", CLINICIAN.name, LATER),
    ]


def test_a_specialist_notes_progress_only_on_actions_they_own():
    plan = a_plan(an_action("a1", owner=Role.SPECIALIST), an_action("a2", owner=Role.COORDINATOR))
    assert n.add_progress_note(plan, SPECIALIST, NOW, "a1", "Seen in clinic").action("a1").progress
    with pytest.raises(n.NegotiationError, match="responsible for"):
        n.add_progress_note(plan, SPECIALIST, NOW, "a2", "Seen in clinic")


FAMILY_COMMANDS = {n.Command.TAKE_POSITION, n.Command.EDIT_ACTION, n.Command.OPEN_REVISION}


def test_the_family_takes_its_own_positions_and_marks_its_own_actions_done_and_nothing_else():
    family = n.Actor(Role.FAMILY, "Ana Rivera", user="RelatedPerson/mother")
    for command in set(n.Command) - FAMILY_COMMANDS:
        assert not n.allowed(Role.FAMILY, command, drafted()), command
    plan = a_plan(an_action("a1", owner=Role.FAMILY), an_action("a2", owner=Role.COORDINATOR))
    agreed = n.take_position(plan, family, NOW, "a1", Stance.AGREE)
    assert [(p.party, p.by, p.by_user) for p in agreed.positions] == [(Role.FAMILY, "Ana Rivera", "RelatedPerson/mother")]
    assert n.edit_action(plan, family, NOW, "a1", status=ActionStatus.DONE).action("a1").status is ActionStatus.DONE
    with pytest.raises(n.NegotiationError, match="responsible for"):
        n.edit_action(plan, family, NOW, "a2", status=ActionStatus.DONE)
    with pytest.raises(n.NegotiationError, match="ask the care coordinator"):
        n.edit_action(plan, family, NOW, "a1", text="Something else")
    with pytest.raises(n.NegotiationError, match="your own role"):
        n.take_position(plan, family, NOW, "a1", Stance.AGREE, party=Role.CLINICIAN)
    with pytest.raises(n.NegotiationError, match="questions"):
        n.take_position(plan, family, NOW, "a1", Stance.COMMENT, comment="Why?")


def test_a_family_act_on_a_signed_plan_needs_a_new_revision():
    family = n.Actor(Role.FAMILY, "Ana Rivera", user="RelatedPerson/mother")
    signed = replace(drafted(), state=PlanState.SIGNED)
    with pytest.raises(n.NegotiationError, match="signed"):
        n.take_position(signed, family, NOW, "a1", Stance.AGREE)
    reopened = n.open_revision(signed, family, NOW)
    assert reopened.state is PlanState.DRAFT and reopened.revision == signed.revision + 1


def test_every_command_has_a_permission_entry():
    assert set(n.PERMISSIONS) == set(n.Command)


# ---------------------------------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------------------------------


def test_a_party_has_one_current_position_per_item():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.DECLINE, reason="Prescription first")
    plan = n.take_position(plan, CLINICIAN, LATER, "a1", Stance.AGREE)
    assert [(p.party, p.stance, p.at) for p in plan.positions] == [(Role.CLINICIAN, Stance.AGREE, LATER)]


def test_the_coordinator_records_the_familys_position_on_their_behalf():
    plan = n.take_position(drafted(), COORDINATOR, NOW, "g1", Stance.AMEND, party=Role.FAMILY,
                           proposed_change="Sleep through most nights without alarms")
    (position,) = plan.positions
    assert (position.party, position.by, position.stance) == (Role.FAMILY, COORDINATOR.name, Stance.AMEND)


def test_nobody_records_another_professionals_position():
    with pytest.raises(n.NegotiationError, match="your own role"):
        n.take_position(drafted(), COORDINATOR, NOW, "g1", Stance.AGREE, party=Role.CLINICIAN)
    with pytest.raises(n.NegotiationError, match="your own role"):
        n.take_position(drafted(), CLINICIAN, NOW, "g1", Stance.AGREE, party=Role.FAMILY)


def test_the_coordinator_comments_rather_than_agreeing_with_their_own_wording():
    with pytest.raises(n.NegotiationError, match="add a comment"):
        n.take_position(drafted(), COORDINATOR, NOW, "g1", Stance.AGREE)
    plan = n.take_position(drafted(), COORDINATOR, NOW, "g1", Stance.COMMENT, comment="Family asked for this")
    assert plan.positions[0].comment == "Family asked for this"


def test_an_amendment_needs_new_wording_and_a_decline_needs_a_reason():
    with pytest.raises(n.NegotiationError, match="proposed wording"):
        n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.AMEND)
    with pytest.raises(n.NegotiationError, match="same as the current"):
        n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.AMEND,
                        proposed_change=" Arrange feeding-pump  replacement")
    with pytest.raises(n.NegotiationError, match="reason"):
        n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.DECLINE, reason="  ")
    with pytest.raises(n.NegotiationError, match="comment"):
        n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.COMMENT)


def test_fields_that_do_not_belong_to_the_stance_are_not_kept():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.AGREE, reason="stale", proposed_change="stale",
                           comment="Fine by me")
    (position,) = plan.positions
    assert (position.reason, position.proposed_change, position.comment) == ("", "", "Fine by me")


def test_accepting_an_amendment_applies_the_wording_and_turns_it_into_agreement():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.AMEND,
                           proposed_change="Arrange feeding-pump replacement this week")
    plan = n.take_position(plan, COORDINATOR, NOW, "a1", Stance.AGREE, party=Role.FAMILY)
    plan = n.take_position(plan, SPECIALIST, NOW, "a1", Stance.COMMENT, comment="Pump model X preferred")
    plan = n.accept_amendment(plan, COORDINATOR, LATER, "a1", Role.CLINICIAN)
    assert plan.action("a1").text == "Arrange feeding-pump replacement this week"
    assert {(p.party, p.stance) for p in plan.positions} == {
        (Role.CLINICIAN, Stance.AGREE),
        (Role.SPECIALIST, Stance.COMMENT),  # comments stay; the family agreed to the old wording
    }
    assert n.disagreements(plan) == ()


def test_only_an_amendment_can_be_accepted():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.DECLINE, reason="No")
    with pytest.raises(n.NegotiationError, match="no proposed change"):
        n.accept_amendment(plan, COORDINATOR, NOW, "a1", Role.CLINICIAN)
    with pytest.raises(n.NegotiationError, match="care coordinator"):
        n.accept_amendment(plan, CLINICIAN, NOW, "a1", Role.CLINICIAN)


def test_the_coordinator_resolves_a_decline_beside_it_and_the_clinicians_words_stay_hers():
    declined = n.take_position(drafted(), CLINICIAN, NOW, "a2", Stance.DECLINE, reason="PT twice weekly is needed")
    with pytest.raises(n.NegotiationError, match="how it was resolved"):
        n.resolve_position(declined, COORDINATOR, LATER, "a2", Role.CLINICIAN, " ")
    plan = n.resolve_position(declined, COORDINATOR, LATER, "a2", Role.CLINICIAN, "Agreed on the phone: keep weekly")
    assert plan.positions == declined.positions  # stance, reason, author: untouched
    (resolution,) = plan.resolutions
    assert (resolution.subject_id, resolution.party, resolution.position_at) == ("a2", Role.CLINICIAN, NOW)
    assert (resolution.note, resolution.by, resolution.by_user, resolution.at) == (
        "Agreed on the phone: keep weekly", COORDINATOR.name, COORDINATOR.user, LATER)
    assert n.disagreements(plan) == () and n.resolution_of(plan, plan.positions[0]) == resolution
    assert not n.is_open(plan, plan.positions[0]) and n.is_open(declined, declined.positions[0])
    with pytest.raises(n.NegotiationError, match="no open disagreement"):
        n.resolve_position(plan, COORDINATOR, LATER, "a2", Role.CLINICIAN, "Again")


def test_nothing_to_resolve_when_the_party_agreed():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a2", Stance.AGREE)
    with pytest.raises(n.NegotiationError, match="no open disagreement"):
        n.resolve_position(plan, COORDINATOR, LATER, "a2", Role.CLINICIAN, "done")


# ---------------------------------------------------------------------------------------------------
# Changes clear agreements and sign-offs
# ---------------------------------------------------------------------------------------------------


def test_rewording_an_item_clears_other_parties_agreement_but_keeps_comments_and_objections():
    plan = a_plan(
        a_goal("g1"),
        an_action("a1", goal_id="g1"),
        a_position("a1", Role.CLINICIAN, Stance.AGREE),
        a_position("a1", Role.FAMILY, Stance.COMMENT),
        a_position("a1", Role.SPECIALIST, Stance.DECLINE),
        a_position("g1", Role.CLINICIAN, Stance.AGREE),
    )
    plan = n.edit_action(plan, COORDINATOR, LATER, "a1", text="Replace the feeding pump by July")
    assert {(p.subject_id, p.party, p.stance) for p in plan.positions} == {
        ("a1", Role.FAMILY, Stance.COMMENT),
        ("a1", Role.SPECIALIST, Stance.DECLINE),
        ("g1", Role.CLINICIAN, Stance.AGREE),  # another item: untouched
    }


@pytest.mark.parametrize("change", [
    {"owner": Owner(Role.FAMILY)}, {"due": date(2026, 8, 1)}, {"goal_id": None}, {"condition_refs": ("C/1",)},
])
def test_any_negotiated_change_to_an_action_clears_agreements_on_it_and_all_sign_offs(change):
    plan = a_plan_in_review(a_goal("g1"), an_action("a1", goal_id="g1"), a_position("a1", Role.CLINICIAN),
                            a_signoff(Role.COORDINATOR))
    edited = n.edit_action(plan, COORDINATOR, LATER, "a1", **change)
    assert edited.positions == () and edited.signoffs == ()
    assert edited.state is PlanState.IN_REVIEW


def test_tracking_an_action_keeps_agreements_and_sign_offs():
    plan = a_plan_in_review(an_action("a1"), a_position("a1", Role.CLINICIAN), a_signoff(Role.COORDINATOR))
    tracked = n.edit_action(plan, COORDINATOR, LATER, "a1", status=ActionStatus.IN_PROGRESS)
    tracked = n.add_progress_note(tracked, COORDINATOR, LATER, "a1", "Vendor called")
    assert tracked.positions == plan.positions and tracked.signoffs == plan.signoffs


def test_a_goals_lifecycle_is_tracking_but_its_target_date_was_negotiated():
    plan = a_plan_in_review(a_goal("g1"), a_position("g1", Role.CLINICIAN), a_signoff(Role.COORDINATOR))
    tracked = n.edit_goal(plan, COORDINATOR, LATER, "g1", lifecycle=GoalLifecycle.ACTIVE)
    assert tracked.positions == plan.positions and tracked.signoffs == plan.signoffs
    moved = n.edit_goal(plan, COORDINATOR, LATER, "g1", target_date=date(2027, 1, 1))
    assert moved.positions == () and moved.signoffs == ()


def test_an_owner_editing_their_action_keeps_their_own_agreement():
    plan = a_plan(an_action("a3", owner=Role.CLINICIAN), a_position("a3", Role.CLINICIAN),
                  a_position("a3", Role.FAMILY))
    plan = n.edit_action(plan, CLINICIAN, LATER, "a3", text="Review feeds and weight at next visit")
    assert [(p.party, p.stance) for p in plan.positions] == [(Role.CLINICIAN, Stance.AGREE)]


def test_an_edit_that_changes_nothing_clears_nothing():
    plan = a_plan_in_review(an_action("a1"), a_position("a1", Role.CLINICIAN), a_signoff(Role.COORDINATOR))
    assert n.edit_action(plan, COORDINATOR, LATER, "a1", text=" Arrange feeding-pump  replacement ") == plan


@pytest.mark.parametrize("command", [
    lambda p: n.add_goal(p, COORDINATOR, LATER, goal_id="g9", text="New goal"),
    lambda p: n.remove_action(p, COORDINATOR, LATER, "a1"),
    lambda p: n.move_goal(p, COORDINATOR, LATER, "g2", n.Direction.UP),
    lambda p: n.set_family_priority(p, COORDINATOR, LATER, "Fewer nights in hospital"),
])
def test_adding_removing_reordering_and_a_new_family_priority_clear_sign_offs(command):
    plan = n.sign(n.submit_for_review(drafted(), COORDINATOR, NOW), COORDINATOR, NOW)
    assert plan.signoffs
    assert command(plan).signoffs == ()


def test_a_new_position_does_not_clear_sign_offs():
    plan = n.sign(n.submit_for_review(drafted(), COORDINATOR, NOW), COORDINATOR, NOW)
    assert n.take_position(plan, CLINICIAN, LATER, "a1", Stance.AGREE).signoffs == plan.signoffs


# ---------------------------------------------------------------------------------------------------
# Review, sign-off, frozen plan, revisions
# ---------------------------------------------------------------------------------------------------


def test_only_the_coordinator_sends_a_draft_with_goals_for_review():
    with pytest.raises(n.NegotiationError, match="Only the care coordinator can send the plan for review"):
        n.submit_for_review(drafted(), CLINICIAN, NOW)
    with pytest.raises(n.NegotiationError, match="at least one goal"):
        n.submit_for_review(a_plan(an_action("a1")), COORDINATOR, NOW)
    plan = n.submit_for_review(drafted(), COORDINATOR, NOW)
    assert plan.state is PlanState.IN_REVIEW
    with pytest.raises(n.NegotiationError, match="already in review"):
        n.submit_for_review(plan, COORDINATOR, NOW)


def test_a_draft_cannot_be_signed():
    with pytest.raises(n.NegotiationError, match="for review before signing"):
        n.sign(drafted(), COORDINATOR, NOW)


def test_signing_with_an_open_disagreement_is_refused_and_names_the_item():
    plan = n.submit_for_review(drafted(), COORDINATOR, NOW)
    plan = n.take_position(plan, CLINICIAN, NOW, "a2", Stance.DECLINE, reason="Twice weekly needed")
    with pytest.raises(n.NegotiationError, match="open disagreements.*'Weekly physical therapy at home'"):
        n.sign(plan, COORDINATOR, LATER)
    with pytest.raises(n.NegotiationError, match="open disagreements"):
        n.sign(plan, CLINICIAN, LATER)


def test_a_familys_amendment_also_blocks_signing():
    plan = n.submit_for_review(drafted(), COORDINATOR, NOW)
    plan = n.take_position(plan, COORDINATOR, NOW, "g1", Stance.AMEND, party=Role.FAMILY,
                           proposed_change="Sleep through most nights")
    assert not n.allowed(Role.CLINICIAN, n.Command.SIGN, plan)


def test_only_required_roles_sign_each_once_for_their_own_role():
    plan = n.submit_for_review(drafted(), COORDINATOR, NOW)
    with pytest.raises(n.NegotiationError, match="Only the care coordinator or primary care clinician can sign"):
        n.sign(plan, SPECIALIST, NOW)
    once = n.sign(plan, CLINICIAN, NOW)
    assert [(s.role, s.name, s.at) for s in once.signoffs] == [(Role.CLINICIAN, CLINICIAN.name, NOW)]
    assert once.state is PlanState.IN_REVIEW and n.missing_signers(once) == (Role.COORDINATOR,)
    with pytest.raises(n.NegotiationError, match="^The primary care clinician has already signed this revision.$"):
        n.sign(once, n.Actor(Role.CLINICIAN, "Another clinician", "Practitioner/locum"), LATER)


def test_when_every_required_role_has_signed_the_plan_is_signed_with_a_review_in_six_months():
    plan = signed_plan()
    assert plan.state is PlanState.SIGNED
    assert plan.signed_at == LATER
    assert plan.next_review == date(2026, 12, 1)
    assert {s.role for s in plan.signoffs} == set(n.REQUIRED_SIGNERS)


def test_the_review_interval_can_be_set_and_a_chosen_review_date_is_kept():
    plan = n.submit_for_review(drafted(), COORDINATOR, NOW)
    three = n.sign(n.sign(plan, COORDINATOR, NOW, review_months=3), CLINICIAN, NOW, review_months=3)
    assert three.next_review == date(2026, 9, 1)
    chosen = n.sign(n.sign(replace(plan, next_review=date(2026, 10, 10)), COORDINATOR, NOW), CLINICIAN, NOW)
    assert chosen.next_review == date(2026, 10, 10)


@pytest.mark.parametrize("command", [
    lambda p: n.add_goal(p, COORDINATOR, LATER, goal_id="g9", text="New goal"),
    lambda p: n.edit_goal(p, COORDINATOR, LATER, "g1", text="Changed"),
    lambda p: n.remove_goal(p, COORDINATOR, LATER, "g1"),
    lambda p: n.edit_action(p, COORDINATOR, LATER, "a1", status=ActionStatus.DONE),
    lambda p: n.add_progress_note(p, COORDINATOR, LATER, "a1", "Done"),
    lambda p: n.take_position(p, CLINICIAN, LATER, "a1", Stance.AGREE),
    lambda p: n.set_family_priority(p, COORDINATOR, LATER, "Something else"),
    lambda p: n.sign(p, CLINICIAN, LATER),
    lambda p: n.submit_for_review(p, COORDINATOR, LATER),
])
def test_a_signed_plan_is_frozen(command):
    with pytest.raises(n.NegotiationError, match="This plan is signed. Open a new revision to change it."):
        command(signed_plan())


def test_opening_a_revision_keeps_content_and_clears_positions_and_sign_offs():
    plan = signed_plan()
    reopened = n.open_revision(plan, COORDINATOR, LATER, next_review=date(2027, 1, 1))
    assert (reopened.state, reopened.revision, reopened.signoffs, reopened.positions, reopened.signed_at) == (
        PlanState.DRAFT, plan.revision + 1, (), (), None)
    assert (reopened.goals, reopened.actions) == (plan.goals, plan.actions)
    assert reopened.next_review == date(2027, 1, 1)
    assert n.add_goal(reopened, COORDINATOR, LATER, goal_id="g9", text="New goal").goal("g9")


def test_only_a_signed_plan_is_reopened_and_not_by_a_specialist():
    with pytest.raises(n.NegotiationError, match="Only a signed plan"):
        n.open_revision(drafted(), COORDINATOR, NOW)
    with pytest.raises(n.NegotiationError, match="Only the care coordinator, primary care clinician or family"):
        n.open_revision(signed_plan(), SPECIALIST, NOW)


def test_why_not_and_allowed_agree():
    plan = drafted()
    assert n.why_not(Role.COORDINATOR, n.Command.ADD_GOAL, plan) is None and n.allowed(Role.COORDINATOR,
                                                                                         n.Command.ADD_GOAL, plan)
    assert n.why_not(Role.COMMUNITY, n.Command.EDIT_ACTION, plan, "a1") == (
        "You can only update actions your role is responsible for.")
    assert n.allowed(Role.COMMUNITY, n.Command.EDIT_ACTION, plan, "a2")
    assert not n.allowed(Role.COMMUNITY, n.Command.EDIT_ACTION, plan, "a1")
    assert n.allowed(COMMUNITY, n.Command.ADD_PROGRESS_NOTE, plan, "a2")
    assert not n.allowed(COMMUNITY, n.Command.ADD_PROGRESS_NOTE, plan, "a1")


# ---------------------------------------------------------------------------------------------------
# What the review page shows
# ---------------------------------------------------------------------------------------------------


def test_disagreements_list_open_declines_and_amendments_in_page_order():
    plan = a_plan(
        a_goal("g1", "Sleep"),
        an_action("a1", "Pump"),
        an_action("a2", "Therapy"),
        a_position("a2", Role.CLINICIAN, Stance.DECLINE, reason="Twice weekly"),
        a_position("a1", Role.FAMILY, Stance.AMEND, proposed_change="Pump by June"),
        a_position("a1", Role.CLINICIAN, Stance.AMEND, proposed_change="Pump by July"),
        a_position("g1", Role.CLINICIAN, Stance.AGREE),
        a_position("g1", Role.SPECIALIST, Stance.COMMENT),
    )
    assert [(d.subject_id, d.subject_text, d.party, d.detail) for d in n.disagreements(plan)] == [
        ("a1", "Pump", Role.CLINICIAN, "Pump by July"),
        ("a1", "Pump", Role.FAMILY, "Pump by June"),
        ("a2", "Therapy", Role.CLINICIAN, "Twice weekly"),
    ]


def test_review_rows_put_each_goal_before_its_actions_and_unlinked_actions_last():
    plan = a_plan(
        a_goal("g1"), a_goal("g2"),
        an_action("a1", goal_id="g2"), an_action("a2"), an_action("a3", goal_id="g1"),
    )
    rows = n.review_rows(plan)
    assert [(r.subject_id, r.kind) for r in rows] == [
        ("g1", n.ItemKind.GOAL), ("a3", n.ItemKind.ACTION), ("g2", n.ItemKind.GOAL), ("a1", n.ItemKind.ACTION),
        ("a2", n.ItemKind.ACTION),
    ]


def test_review_rows_show_wording_positions_side_by_side_with_disagreements_and_changes_flagged():
    plan = a_plan(
        a_goal("g1", "Sleep through the night", target_date=date(2026, 12, 1)),
        an_action("a1", "Arrange pump", goal_id="g1", due=date(2026, 7, 15)),
        a_position("a1", Role.FAMILY, Stance.AGREE),
        a_position("a1", Role.CLINICIAN, Stance.AMEND, proposed_change="Arrange pump this week"),
    )
    goal_row, action_row = n.review_rows(plan, changed=frozenset({"a1"}))
    assert (goal_row.text, goal_row.due, goal_row.disagreement, goal_row.changed) == (
        "Sleep through the night", date(2026, 12, 1), False, False)
    assert (action_row.text, action_row.owner, action_row.due) == (
        "Arrange pump", Owner(Role.COORDINATOR), date(2026, 7, 15))
    assert [p.party for p in action_row.positions] == [Role.CLINICIAN, Role.FAMILY]
    assert action_row.position(Role.CLINICIAN).proposed_change == "Arrange pump this week"
    assert action_row.position(Role.SPECIALIST) is None
    assert action_row.disagreement and action_row.changed


def test_the_whole_negotiation_from_draft_to_signed():
    plan = drafted()
    plan = n.set_family_priority(plan, COORDINATOR, NOW, "Sleep, so we can all work")
    plan = n.submit_for_review(plan, COORDINATOR, NOW)
    plan = n.take_position(plan, CLINICIAN, NOW, "a1", Stance.AMEND, proposed_change="Replace pump by 1 July")
    plan = n.take_position(plan, CLINICIAN, NOW, "a2", Stance.DECLINE, reason="Needs twice weekly")
    assert len(n.disagreements(plan)) == 2
    plan = n.accept_amendment(plan, COORDINATOR, LATER, "a1", Role.CLINICIAN)
    plan = n.edit_action(plan, COORDINATOR, LATER, "a2", text="Twice-weekly physical therapy at home")
    assert [d.subject_id for d in n.disagreements(plan)] == ["a2"]  # the clinician re-reads it
    plan = n.take_position(plan, CLINICIAN, LATER, "a2", Stance.AGREE)
    plan = n.sign(plan, COORDINATOR, LATER)
    plan = n.sign(plan, CLINICIAN, LATER + timedelta(minutes=5))
    assert plan.state is PlanState.SIGNED and plan.family_priority == "Sleep, so we can all work"
    assert plan.action("a1").text == "Replace pump by 1 July"


def test_datetimes_in_positions_are_the_ones_passed_in():
    moment = datetime(2030, 1, 2, 3, 4)
    plan = n.take_position(drafted(), CLINICIAN, moment, "a1", Stance.AGREE)
    assert plan.positions[0].at == moment


def test_rewording_an_item_exactly_as_proposed_settles_that_proposal():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.AMEND, proposed_change="Replace the pump by July")
    plan = n.take_position(plan, COORDINATOR, NOW, "a1", Stance.AMEND, party=Role.FAMILY,
                           proposed_change="Replace the pump this week")
    plan = n.edit_action(plan, COORDINATOR, LATER, "a1", text="Replace the pump by July")
    assert {(p.party, p.stance) for p in plan.positions} == {(Role.CLINICIAN, Stance.AGREE),
                                                             (Role.FAMILY, Stance.AMEND)}


# ---------------------------------------------------------------------------------------------------
# A signature is a person (issue 16)
# ---------------------------------------------------------------------------------------------------


def in_review():
    return n.submit_for_review(drafted(), COORDINATOR, NOW)


@pytest.mark.parametrize("first,second", [
    (Role.COORDINATOR, Role.CLINICIAN),
    (Role.CLINICIAN, Role.COORDINATOR),
    (Role.CLINICIAN, Role.SPECIALIST),
])
def test_the_same_person_cannot_sign_twice_in_one_revision_whatever_roles_they_choose(first, second):
    signers = (Role.COORDINATOR, Role.CLINICIAN, Role.SPECIALIST)
    person = "Practitioner/jordan-lee"
    once = n.sign(in_review(), n.Actor(first, "Jordan Lee", person), NOW, signers=signers)
    assert [(s.role, s.user) for s in once.signoffs] == [(first, person)]
    with pytest.raises(n.NegotiationError, match="already signed this revision as the .*each person signs once"):
        n.sign(once, n.Actor(second, "Jordan Lee RN", person), LATER, signers=signers)
    assert not n.allowed(n.Actor(second, "Jordan Lee", person), n.Command.SIGN, once, signers=signers)
    assert n.allowed(second, n.Command.SIGN, once, signers=signers)  # the role alone could still sign


def test_two_people_sign_and_each_signature_names_its_signer():
    plan = n.sign(n.sign(in_review(), COORDINATOR, NOW), CLINICIAN, LATER)
    assert plan.state is PlanState.SIGNED
    assert [(s.role, s.name, s.user) for s in plan.signoffs] == [
        (Role.COORDINATOR, COORDINATOR.name, COORDINATOR.user), (Role.CLINICIAN, CLINICIAN.name, CLINICIAN.user)]


@pytest.mark.parametrize("user", ["RelatedPerson/ana-rivera", "Patient/sofia-rivera",
                                  "https://ehr.example/fhir/RelatedPerson/4"])
def test_a_patient_or_family_member_cannot_sign_as_a_professional(user):
    for role in (Role.CLINICIAN, Role.COORDINATOR):
        with pytest.raises(n.NegotiationError, match="signed in as a (patient|family member)"):
            n.sign(in_review(), n.Actor(role, "Ana Rivera", user), NOW)


def test_the_clinician_signs_as_a_practitioner_and_the_coordinator_may_be_another_kind_of_user():
    assert n.sign(in_review(), n.Actor(Role.CLINICIAN, "Dr Ortiz", "PractitionerRole/9"), NOW).signoffs
    with pytest.raises(n.NegotiationError, match="signs as a practitioner"):
        n.sign(in_review(), n.Actor(Role.CLINICIAN, "Dr Ortiz", "Person/9"), NOW)
    assert n.sign(in_review(), n.Actor(Role.COORDINATOR, "Jordan Lee", "Person/7"), NOW).signoffs


def test_nobody_signs_without_an_identity():
    for role in (Role.COORDINATOR, Role.CLINICIAN):
        with pytest.raises(n.NegotiationError, match="did not say who you are"):
            n.sign(in_review(), n.Actor(role, "Jordan Lee"), NOW)
        with pytest.raises(n.NegotiationError, match="did not say who you are"):
            n.sign(in_review(), n.Actor(role, "Jordan Lee", "  "), NOW)


def test_the_role_chosen_is_checked_against_what_the_ehr_says_the_person_is():
    nurse = n.Actor(Role.CLINICIAN, "Jordan Lee", "Practitioner/jordan-lee", ehr_roles=frozenset({Role.COORDINATOR}))
    with pytest.raises(n.NegotiationError, match="The EHR lists you as care coordinator, not as the primary care"):
        n.sign(in_review(), nurse, NOW)
    with pytest.raises(n.NegotiationError, match="EHR lists you as"):
        n.take_position(in_review(), nurse, NOW, "a1", Stance.AGREE)
    as_coordinator = replace(nurse, role=Role.COORDINATOR)
    assert n.sign(in_review(), as_coordinator, NOW).signoffs[0].role is Role.COORDINATOR


def test_a_family_identity_cannot_work_in_a_professional_role():
    ana = n.Actor(Role.COORDINATOR, "Ana Rivera", "RelatedPerson/ana-rivera")
    with pytest.raises(n.NegotiationError, match="signed in as a family member"):
        n.add_goal(drafted(), ana, NOW, goal_id="g9", text="A goal")
    assert n.why_not(ana, n.Command.ADD_GOAL, drafted()).startswith("You are signed in as a family member")
    assert n.why_not(Role.COORDINATOR, n.Command.ADD_GOAL, drafted()) is None


def test_a_site_chooses_which_roles_must_sign():
    signers = (Role.COORDINATOR, Role.CLINICIAN, Role.SPECIALIST)
    plan = n.sign(n.sign(in_review(), COORDINATOR, NOW, signers=signers), CLINICIAN, NOW, signers=signers)
    assert plan.state is PlanState.IN_REVIEW and n.missing_signers(plan, signers) == (Role.SPECIALIST,)
    assert n.missing_signers(plan) == ()
    plan = n.sign(plan, SPECIALIST, LATER, signers=signers)
    assert plan.state is PlanState.SIGNED and plan.signed_at == LATER
    only_clinician = n.sign(in_review(), CLINICIAN, NOW, signers=(Role.CLINICIAN,))
    assert only_clinician.state is PlanState.SIGNED
    with pytest.raises(n.NegotiationError, match="Only the primary care clinician can sign"):
        n.sign(in_review(), COORDINATOR, NOW, signers=(Role.CLINICIAN,))
    with pytest.raises(n.NegotiationError, match="Only the care coordinator or primary care clinician can sign"):
        n.sign(in_review(), SPECIALIST, NOW)


# ---------------------------------------------------------------------------------------------------
# Rules the mutation tests found unpinned
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    lambda p: n.add_action(p, COORDINATOR, LATER, action_id="a9", text="New action", owner=Owner(Role.FAMILY)),
    lambda p: n.move_action(p, COORDINATOR, LATER, "a3", n.Direction.UP),
    lambda p: n.remove_goal(p, COORDINATOR, LATER, "g1"),
    lambda p: n.edit_goal(p, COORDINATOR, LATER, "g1", text="Sleep through most nights"),
    lambda p: n.edit_action(p, COORDINATOR, LATER, "a1", text="Replace the pump"),
])
def test_every_content_change_clears_the_sign_offs(command):
    plan = n.sign(in_review(), COORDINATOR, NOW)
    changed = command(plan)
    assert plan.signoffs and changed.signoffs == ()
    assert changed.state is PlanState.IN_REVIEW


def test_accepting_an_amendment_clears_the_sign_offs_and_the_other_agreements():
    plan = n.sign(in_review(), COORDINATOR, NOW)
    plan = n.take_position(plan, CLINICIAN, NOW, "g1", Stance.AMEND, proposed_change="Sleep most nights")
    plan = n.take_position(plan, COORDINATOR, NOW, "g1", Stance.AGREE, party=Role.FAMILY)
    accepted = n.accept_amendment(plan, COORDINATOR, LATER, "g1", Role.CLINICIAN)
    assert accepted.goal("g1").text == "Sleep most nights"
    assert [g.text for g in accepted.goals[1:]] == [g.text for g in plan.goals[1:]]  # other goals unchanged
    assert [(p.party, p.stance, p.proposed_change) for p in accepted.positions] == [(Role.CLINICIAN, Stance.AGREE, "")]
    assert accepted.signoffs == ()


def test_editing_one_goal_leaves_the_other_goals_alone():
    plan = drafted()
    edited = n.edit_goal(plan, COORDINATOR, LATER, "g2", text="Gain weight steadily", lifecycle=GoalLifecycle.ACTIVE)
    assert edited.goals[0] == plan.goals[0]
    assert (edited.goals[1].text, edited.goals[1].lifecycle) == ("Gain weight steadily", GoalLifecycle.ACTIVE)
    tracked = n.edit_goal(plan, COORDINATOR, LATER, "g2", achievement=Achievement.IMPROVING)
    assert tracked.goals[0] == plan.goals[0] and tracked.goals[1].achievement is Achievement.IMPROVING


def test_a_new_revision_starts_without_the_old_positions_resolutions_or_sign_offs():
    plan = n.take_position(in_review(), CLINICIAN, NOW, "a2", Stance.DECLINE, reason="Twice weekly")
    plan = n.take_position(plan, CLINICIAN, NOW, "a1", Stance.AGREE)
    plan = n.resolve_position(plan, COORDINATOR, NOW, "a2", Role.CLINICIAN, "Agreed to try weekly")
    plan = n.sign(n.sign(plan, COORDINATOR, NOW), CLINICIAN, LATER)
    assert plan.state is PlanState.SIGNED and plan.positions and plan.resolutions
    reopened = n.open_revision(plan, CLINICIAN, LATER)
    assert (reopened.positions, reopened.resolutions, reopened.signoffs) == ((), (), ())
    assert (reopened.revision, reopened.next_review) == (plan.revision + 1, None)


def test_the_review_row_flags_only_open_disagreements():
    plan = a_plan(
        a_goal("g1"), an_action("a1", goal_id="g1"), an_action("a2", goal_id="g1"), an_action("a3", goal_id="g1"),
        a_position("g1", Role.CLINICIAN, Stance.AGREE), a_position("g1", Role.FAMILY, Stance.COMMENT),
        a_position("a1", Role.CLINICIAN, Stance.DECLINE), a_position("a1", Role.FAMILY, Stance.AGREE),
        a_position("a2", Role.FAMILY, Stance.AMEND),
        a_position("a3", Role.CLINICIAN, Stance.DECLINE), a_resolution("a3", Role.CLINICIAN),
    )
    rows = {r.subject_id: r for r in n.review_rows(plan)}
    assert {k: r.disagreement for k, r in rows.items()} == {"g1": False, "a1": True, "a2": True, "a3": False}
    assert rows["a3"].resolution(Role.CLINICIAN) == plan.resolutions[0]
    assert rows["a1"].resolutions == () and rows["a1"].resolution(Role.CLINICIAN) is None


# ---------------------------------------------------------------------------------------------------
# Resolutions stay with the position they resolve
# ---------------------------------------------------------------------------------------------------


def resolved():
    plan = n.take_position(in_review(), CLINICIAN, NOW, "a2", Stance.DECLINE, reason="Twice weekly")
    return n.resolve_position(plan, COORDINATOR, NOW, "a2", Role.CLINICIAN, "Weekly for now")


def test_a_new_position_from_the_party_is_not_covered_by_the_old_resolution():
    plan = n.take_position(resolved(), CLINICIAN, NOW, "a2", Stance.DECLINE, reason="Still twice weekly")
    assert plan.resolutions == () and [d.detail for d in n.disagreements(plan)] == ["Still twice weekly"]


def test_a_resolution_survives_a_rewording_and_goes_with_its_item():
    reworded = n.edit_action(resolved(), COORDINATOR, LATER, "a2", text="Weekly physical therapy, reviewed in May")
    assert reworded.resolutions == resolved().resolutions and n.disagreements(reworded) == ()
    assert n.remove_action(resolved(), COORDINATOR, LATER, "a2").resolutions == ()
    assert n.remove_goal(resolved(), COORDINATOR, LATER, "g2").resolutions == resolved().resolutions  # a2 stays
    on_goal = n.take_position(resolved(), CLINICIAN, NOW, "g2", Stance.DECLINE, reason="Not measurable")
    on_goal = n.resolve_position(on_goal, COORDINATOR, NOW, "g2", Role.CLINICIAN, "Measured monthly")
    assert n.remove_goal(on_goal, COORDINATOR, LATER, "g2").resolutions == resolved().resolutions


def test_a_resolution_no_longer_applies_once_its_position_is_no_longer_open():
    plan = n.take_position(in_review(), CLINICIAN, NOW, "a2", Stance.AMEND, proposed_change="Twice-weekly PT")
    plan = n.resolve_position(plan, COORDINATOR, NOW, "a2", Role.CLINICIAN, "Discussed")
    assert plan.resolutions
    settled = n.edit_action(plan, COORDINATOR, LATER, "a2", text="Twice-weekly PT")
    assert settled.positions[0].stance is Stance.AGREE and settled.resolutions == ()
    assert n.accept_amendment(plan, COORDINATOR, LATER, "a2", Role.CLINICIAN).resolutions == ()


def test_positions_record_who_took_them():
    plan = n.take_position(in_review(), COORDINATOR, NOW, "g1", Stance.AGREE, party=Role.FAMILY)
    (position,) = plan.positions
    assert (position.party, position.by, position.by_user) == (Role.FAMILY, COORDINATOR.name, COORDINATOR.user)


# ---------------------------------------------------------------------------------------------------
# Forms post every field: only what the user changed is a change
# ---------------------------------------------------------------------------------------------------


def test_an_edit_form_keeps_the_fields_the_user_left_as_they_were():
    action = an_action("a1", "Arrange feeding-pump replacement", owner=Owner(Role.COMMUNITY, "Home Health Co"),
                       due=date(2026, 7, 15), condition_refs=("Condition/gtube",))
    posted = {"text": " Arrange feeding-pump  replacement", "owner": Owner(Role.COMMUNITY, "Home  Health Co"),
              "goal_id": None, "due": date(2026, 7, 15), "status": ActionStatus.IN_PROGRESS,
              "condition_refs": ["Condition/gtube"]}
    assert n.edited_fields(action, posted) == {"text": n.KEEP, "owner": n.KEEP, "goal_id": n.KEEP, "due": n.KEEP,
                                               "status": ActionStatus.IN_PROGRESS, "condition_refs": n.KEEP}
    goal = a_goal("g1", "Sleep", kind=GoalKind.FAMILY)
    assert n.edited_fields(goal, {"text": "Sleep well", "kind": GoalKind.FAMILY, "expressed_by": ""}) == {
        "text": "Sleep well", "kind": n.KEEP, "expressed_by": n.KEEP}


def test_an_edit_form_cannot_change_an_id_or_the_progress_notes():
    with pytest.raises(ValueError, match="action_id"):
        n.edited_fields(an_action("a1"), {"action_id": "a2"})
    with pytest.raises(ValueError, match="goal_id, progress"):
        n.edited_fields(a_goal("g1"), {"goal_id": "g2", "progress": ()})
    with pytest.raises(ValueError, match="^Not editable here: progress.$"):
        n.edited_fields(an_action("a1"), {"progress": (), "status": ActionStatus.DONE})


def test_a_resolution_resolves_only_the_position_it_was_written_for():
    later_decline = a_position("a1", Role.CLINICIAN, Stance.DECLINE, at=LATER, reason="Not yet")
    plan = a_plan(an_action("a1"), later_decline, a_resolution("a1", Role.CLINICIAN, position_at=NOW))
    assert n.resolution_of(plan, later_decline) is None and n.is_open(plan, later_decline)
    assert [d.detail for d in n.disagreements(plan)] == ["Not yet"]


# ---------------------------------------------------------------------------------------------------
# What each command stores and says: details the mutation tests found unpinned
# ---------------------------------------------------------------------------------------------------


def refused(command, *args, **kwargs) -> str:
    with pytest.raises(n.NegotiationError) as raised:
        command(*args, **kwargs)
    return str(raised.value)


def test_a_new_goal_keeps_every_field_given_and_defaults_the_rest():
    plan = n.add_goal(drafted(), COORDINATOR, NOW, goal_id="g3", text="Go to school", lifecycle=GoalLifecycle.ACTIVE,
                      condition_refs=["Condition/cp"])
    assert plan.goal("g3") == Goal("g3", "Go to school", lifecycle=GoalLifecycle.ACTIVE,
                                   condition_refs=("Condition/cp",))
    plain = n.add_goal(drafted(), COORDINATOR, NOW, goal_id="g3", text="Go to school").goal("g3")
    assert plain == Goal("g3", "Go to school")


def test_a_new_action_keeps_every_field_given():
    plan = n.add_action(drafted(), COORDINATOR, NOW, action_id="a9", text="Order a walker",
                        owner=Owner(Role.COMMUNITY, " Bright  Path "), goal_id="g2", due=date(2026, 9, 1),
                        condition_refs=["Condition/cp"])
    assert plan.action("a9") == NegotiatedAction("a9", "Order a walker", Owner(Role.COMMUNITY, "Bright Path"),
                                                 goal_id="g2", due=date(2026, 9, 1), condition_refs=("Condition/cp",))


def test_editing_a_goal_changes_its_kind_and_whose_words_it_is_in():
    plan = n.edit_goal(drafted(), COORDINATOR, LATER, "g2", kind=GoalKind.FAMILY, expressed_by=" Ana  Rivera ")
    assert (plan.goal("g2").kind, plan.goal("g2").expressed_by) == (GoalKind.FAMILY, "Ana Rivera")
    assert n.edit_goal(plan, COORDINATOR, LATER, "g2", expressed_by="").goal("g2").expressed_by == ""


def test_an_edited_action_stores_its_linked_conditions_as_a_tuple():
    plan = n.edit_action(drafted(), COORDINATOR, LATER, "a1", condition_refs=["Condition/gtube"])
    assert plan.action("a1").condition_refs == ("Condition/gtube",)


def test_the_editors_own_agreement_stays_when_they_change_the_wording():
    plan = a_plan(a_goal("g1"), a_position("g1", Role.COORDINATOR, Stance.AGREE),
                  a_position("g1", Role.CLINICIAN, Stance.AGREE))
    edited = n.edit_goal(plan, COORDINATOR, LATER, "g1", text="Sleep most nights")
    assert [(p.party, p.stance) for p in edited.positions] == [(Role.COORDINATOR, Stance.AGREE)]


def test_a_settled_amendment_keeps_no_proposal():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.AMEND, proposed_change="Pump by July")
    for settled in (n.edit_action(plan, COORDINATOR, LATER, "a1", text="Pump by July"),
                    n.accept_amendment(plan, COORDINATOR, LATER, "a1", Role.CLINICIAN)):
        (position,) = settled.positions
        assert (position.stance, position.proposed_change, position.by, position.at) == (
            Stance.AGREE, "", CLINICIAN.name, NOW)


def test_blank_and_overlong_entries_are_refused_by_name():
    plan = drafted()
    assert refused(n.add_goal, plan, COORDINATOR, NOW, goal_id="g9", text=" ") == "Write the goal."
    assert refused(n.edit_goal, plan, COORDINATOR, NOW, "g1", text="") == "Write the goal."
    assert refused(n.add_action, plan, COORDINATOR, NOW, action_id="a9", text="", owner=Owner(Role.FAMILY)) == (
        "Write the action.")
    assert refused(n.edit_action, plan, COORDINATOR, NOW, "a1", text=" ") == "Write the action."
    assert refused(n.add_progress_note, plan, COORDINATOR, NOW, "a1", "") == "Write the progress note."
    assert refused(n.take_position, plan, CLINICIAN, NOW, "a1", Stance.AMEND) == "Write the proposed wording."
    assert refused(n.take_position, plan, CLINICIAN, NOW, "a1", Stance.DECLINE) == "Write the reason for declining."
    assert refused(n.take_position, plan, CLINICIAN, NOW, "a1", Stance.COMMENT) == "Write the comment."
    declined = n.take_position(plan, CLINICIAN, NOW, "a1", Stance.DECLINE, reason="No")
    assert refused(n.resolve_position, declined, COORDINATOR, NOW, "a1", Role.CLINICIAN, "") == (
        "Write the note on how it was resolved.")
    long = "x" * (n.MAX_TEXT + 1)
    assert refused(n.add_goal, plan, COORDINATOR, NOW, goal_id="g9", text="Sleep", expressed_by=long) == (
        f"The name is too long (at most {n.MAX_TEXT} characters).")
    assert refused(n.edit_goal, plan, COORDINATOR, NOW, "g1", expressed_by=long) == (
        f"The name is too long (at most {n.MAX_TEXT} characters).")
    assert refused(n.take_position, plan, CLINICIAN, NOW, "a1", Stance.AGREE, comment=long) == (
        f"The comment is too long (at most {n.MAX_TEXT} characters).")
    assert refused(n.set_family_priority, plan, COORDINATOR, NOW, long) == (
        f"The family's priority is too long (at most {n.MAX_TEXT} characters).")
    assert refused(n.edit_action, plan, COORDINATOR, NOW, "a1", owner=Owner(Role.FAMILY, long)) == (
        f"The owner's name is too long (at most {n.MAX_TEXT} characters).")
    assert n.add_goal(plan, COORDINATOR, NOW, goal_id="g9", text="x" * n.MAX_TEXT).goal("g9")  # the limit itself


def test_ids_and_missing_items_are_refused_with_a_plain_message():
    plan = drafted()
    assert refused(n.add_goal, plan, COORDINATOR, NOW, goal_id="  ", text="A goal") == (
        "A new goal or action needs an id.")
    assert refused(n.add_goal, plan, COORDINATOR, NOW, goal_id="", text="A goal") == (
        "A new goal or action needs an id.")
    assert refused(n.add_goal, plan, COORDINATOR, NOW, goal_id="g1", text="A goal") == (
        "That goal or action already exists; reload the plan.")
    assert refused(n.edit_goal, plan, COORDINATOR, NOW, "g9", text="x") == "That goal is no longer in the plan."
    assert refused(n.edit_action, plan, COORDINATOR, NOW, "a9", text="x") == "That action is no longer in the plan."
    assert refused(n.edit_action, plan, COORDINATOR, NOW, "a1", goal_id="g9") == "That goal is no longer in the plan."
    assert refused(n.take_position, plan, CLINICIAN, NOW, "x9", Stance.AGREE) == (
        "That goal or action is no longer in the plan.")
    assert refused(n.accept_amendment, plan, COORDINATOR, NOW, "x9", Role.CLINICIAN) == (
        "That goal or action is no longer in the plan.")


def test_who_may_not_do_what_is_said_plainly():
    plan = drafted()
    assert refused(n.take_position, plan, COORDINATOR, NOW, "g1", Stance.AGREE, party=Role.CLINICIAN) == (
        "You can record only your own role's position (the care coordinator also records the family's).")
    assert refused(n.take_position, plan, COORDINATOR, NOW, "g1", Stance.AGREE) == (
        "The care coordinator changes the wording directly; add a comment instead.")
    assert refused(n.edit_action, plan, CLINICIAN, NOW, "a3", owner=Owner(Role.FAMILY)) == (
        "Only the care coordinator can reassign an action or link it to another goal.")
    assert refused(n.take_position, plan, CLINICIAN, NOW, "a1", Stance.AMEND,
                   proposed_change="Arrange feeding-pump replacement") == (
        "The proposed wording is the same as the current one.")
    assert refused(n.accept_amendment, plan, COORDINATOR, NOW, "a1", Role.CLINICIAN) == (
        "There is no proposed change from the primary care clinician on this item.")
    assert refused(n.resolve_position, plan, COORDINATOR, NOW, "a1", Role.FAMILY, "Done") == (
        "The family has no open disagreement on this item.")


def test_the_plans_state_rules_are_said_plainly():
    assert refused(n.open_revision, drafted(), COORDINATOR, NOW) == (
        "Only a signed plan can be reopened as a new revision.")
    assert refused(n.submit_for_review, in_review(), COORDINATOR, NOW) == "This plan is already in review."
    assert refused(n.submit_for_review, a_plan(), COORDINATOR, NOW) == (
        "Add at least one goal before sending the plan for review.")
    assert refused(n.sign, drafted(), COORDINATOR, NOW) == "Send the plan for review before signing it."
    once = n.sign(in_review(), COORDINATOR, NOW)
    assert refused(n.sign, once, replace(CLINICIAN, user=COORDINATOR.user), NOW) == (
        "You have already signed this revision as the care coordinator; each person signs once.")


def test_signing_names_the_first_three_open_items_shortened():
    long_text = "Review the seizure rescue plan with neurology and the school nurse before term starts"
    items = [an_action(f"a{i}", text) for i, text in enumerate(["Pump", "Walker", long_text, "Braces"])]
    declines = [a_position(f"a{i}", Role.CLINICIAN, Stance.DECLINE) for i in range(4)]
    plan = a_plan_in_review(a_goal("g1"), *items, *declines)
    shortened = long_text[:59].rstrip() + "…"
    assert refused(n.sign, plan, CLINICIAN, NOW) == (
        f"Resolve the open disagreements before signing: 'Pump', 'Walker', '{shortened}' and more.")
    three = replace(plan, positions=plan.positions[:3])
    assert refused(n.sign, three, CLINICIAN, NOW) == (
        f"Resolve the open disagreements before signing: 'Pump', 'Walker', '{shortened}'.")
    exactly = "x" * 60
    assert refused(n.sign, a_plan_in_review(an_action("a0", exactly), declines[0]), CLINICIAN, NOW).endswith(
        f"'{exactly}'.")
    padded = "x" * 58 + " " + "y" * 10  # the cut falls just after a space, which is dropped
    assert refused(n.sign, a_plan_in_review(an_action("a0", padded), declines[0]), CLINICIAN, NOW).endswith(
        f"'{'x' * 58}…'.")


def test_disagreements_and_rows_carry_who_said_what_and_where_it_belongs():
    plan = a_plan(a_goal("g1", "Sleep"), an_action("a1", "Pump", goal_id="g1"), an_action("a2", "Walker"),
                  a_position("a1", Role.CLINICIAN, Stance.DECLINE, reason="Not yet"),
                  a_position("g1", Role.FAMILY, Stance.AMEND, proposed_change="Sleep most nights"))
    assert n.disagreements(plan) == (
        n.Disagreement("g1", "Sleep", Role.FAMILY, Stance.AMEND, "Sleep most nights", COORDINATOR.name),
        n.Disagreement("a1", "Pump", Role.CLINICIAN, Stance.DECLINE, "Not yet", CLINICIAN.name),
    )
    assert [(r.subject_id, r.goal_id) for r in n.review_rows(plan)] == [("g1", "g1"), ("a1", "g1"), ("a2", None)]


def test_without_an_identity_a_person_still_works_in_the_role_they_chose_but_cannot_sign():
    unknown = n.Actor(Role.COORDINATOR, "Jordan Lee")
    assert n.add_goal(drafted(), unknown, NOW, goal_id="g9", text="Go to school").goal("g9")
    other_kind = n.Actor(Role.CLINICIAN, "Dr Ortiz", "Person/9")  # may work as the clinician, not sign as one
    assert n.take_position(in_review(), other_kind, NOW, "a1", Stance.AGREE).positions[0].by_user == "Person/9"


def test_a_partys_new_position_replaces_only_their_own():
    plan = n.take_position(drafted(), CLINICIAN, NOW, "a1", Stance.DECLINE, reason="Not yet")
    plan = n.take_position(plan, COORDINATOR, NOW, "a1", Stance.AGREE, party=Role.FAMILY)
    plan = n.take_position(plan, CLINICIAN, LATER, "a1", Stance.AGREE)
    assert [(p.party, p.stance, p.at) for p in plan.positions] == [(Role.CLINICIAN, Stance.AGREE, LATER),
                                                                  (Role.FAMILY, Stance.AGREE, NOW)]


def test_accepting_an_amendment_keeps_the_coordinators_own_agreement():
    plan = a_plan(an_action("a1"), a_position("a1", Role.COORDINATOR, Stance.AGREE),
                  a_position("a1", Role.CLINICIAN, Stance.AMEND, proposed_change="Pump by July"))
    accepted = n.accept_amendment(plan, COORDINATOR, LATER, "a1", Role.CLINICIAN)
    assert [(p.party, p.stance) for p in accepted.positions] == [(Role.COORDINATOR, Stance.AGREE),
                                                                 (Role.CLINICIAN, Stance.AGREE)]


def test_overlong_wording_is_refused_by_name():
    assert refused(n.add_goal, drafted(), COORDINATOR, NOW, goal_id="g9", text="x" * (n.MAX_TEXT + 1)) == (
        f"The goal is too long (at most {n.MAX_TEXT} characters).")
