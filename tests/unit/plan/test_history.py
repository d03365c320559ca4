"""The plan's history grouped by revision, each headed by how it stands, each save's changes in words."""

from datetime import timedelta

from smart_app.plan import negotiation as n
from smart_app.plan.history import history
from smart_app.plan.model import Plan, PlanState, PlanVersion, Role
from tests.plan_builders import CLINICIAN, COORDINATOR, NOW, a_goal, a_plan, a_signoff

DAY = timedelta(days=1)


def saved(plans_and_notes):
    return [PlanVersion("p1", number, plan, "Jordan Lee", NOW + number * DAY, note)
            for number, (plan, note) in enumerate(plans_and_notes, start=1)]


def two_revisions():
    started = Plan()
    drafted = n.add_goal(started, COORDINATOR, NOW, goal_id="g1", text="Sleep through the night")
    in_review = n.submit_for_review(drafted, COORDINATOR, NOW)
    half = n.sign(in_review, COORDINATOR, NOW)
    signed = n.sign(half, CLINICIAN, NOW + 2 * DAY)
    reopened = n.open_revision(signed, COORDINATOR, NOW + 3 * DAY)
    edited = n.edit_goal(reopened, COORDINATOR, NOW, "g1", text="Sleep most nights")
    return saved([(started, "started the plan"), (drafted, "added a goal"), (in_review, "sent for review"),
                  (half, "signed"), (signed, "signed"), (reopened, "opened a new revision"),
                  (edited, "edited a goal")])


def test_history_is_grouped_by_revision_newest_first_with_each_save_folded_under_it():
    revision_2, revision_1 = history(two_revisions())
    assert (revision_2.revision, revision_2.state, revision_2.headline) == (2, PlanState.DRAFT, "Revision 2 · draft")
    assert [s.version for s in revision_2.steps] == [7, 6]
    assert [s.version for s in revision_1.steps] == [5, 4, 3, 2, 1]
    assert revision_1.headline == ("Revision 1 · signed 3 Jun 2026 by Jordan Lee (Care coordinator) and "
                                   "Dr Sam Ortiz (Primary care clinician)")
    assert revision_1.state is PlanState.SIGNED


def test_each_save_says_what_it_changed():
    revision_2, revision_1 = history(two_revisions())
    edited, reopened = revision_2.steps
    assert edited.changes == ("Goal reworded from 'Sleep through the night' to 'Sleep most nights'",)
    assert reopened.changes == ("Revision 2 opened", "Next review date cleared (was 3 Dec 2026)")  # no sign-offs
    assert (reopened.note, reopened.saved_by, reopened.saved_at) == ("opened a new revision", "Jordan Lee",
                                                                     NOW + 6 * DAY)
    by_version = {s.version: s.changes for s in revision_1.steps}
    assert by_version[1] == ()
    assert by_version[2] == ("Goal added: 'Sleep through the night'",)
    assert by_version[4] == ("Signed by Jordan Lee (Care coordinator)",)
    assert "Plan signed" in by_version[5]


def test_the_headline_of_a_revision_in_review_and_of_an_older_signed_one():
    (in_review,) = history(saved([(a_plan(a_goal(), state=PlanState.IN_REVIEW, revision=3), "")]))
    assert in_review.headline == "Revision 3 · in review"
    (old,) = history(saved([(a_plan(a_goal(), a_signoff(Role.CLINICIAN), state=PlanState.SIGNED), "")]))
    assert old.headline == "Revision 1 · signed by Dr Sam Ortiz (Primary care clinician)"
    (bare,) = history(saved([(a_plan(a_goal(), state=PlanState.SIGNED, signed_at=NOW), "")]))
    assert bare.headline == "Revision 1 · signed 1 Jun 2026"


def test_versions_are_read_in_version_order_whatever_order_they_come_in():
    versions = two_revisions()
    assert history(reversed(versions)) == history(versions)
    assert history([]) == ()
