"""The family service: the family's page, their acts on the plan (one more writer, merged like the
others), their requests to the care team, and the care team's answers."""

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from sandbox.data.characters import CHILD_ID
from smart_app.errors import InvalidInput
from smart_app.plan import negotiation as n
from smart_app.plan.model import ActionStatus, GoalKind, Owner, PlanState, Role, Stance
from smart_app.plan.review_cycle import ReviewState
from smart_app.services.planning import Conflict
from smart_app.store.schema import audit_events
from tests.support import TODAY
from tests.unit.services.conftest import ISS, a_launch
from tests.unit.services.test_planning_service import save

MOTHER = f"{ISS}/RelatedPerson/sofia-rivera-mother"


def family_launch(user: str = MOTHER, name: str = "Ana Lucía Rivera (mother)", patient: str = CHILD_ID):
    return replace(a_launch(None, role=None, patient=patient, launch_id=f"family-{name}"), fhir_user=user,
                   audience="family", person_name=name, scope="launch/patient openid fhirUser patient/*.rs")


@pytest.fixture
def mother():
    return family_launch()


@pytest.fixture
def signed(services, coordinator, clinician, tenant):
    """A signed plan with a family goal, an action for the coordinator and two for the family."""
    v = save(services, coordinator, tenant, None, n.add_goal, goal_id="g1", text="Sleep through the night",
             kind=GoalKind.FAMILY, expressed_by="Ana Lucía Rivera (mother)")
    v = save(services, coordinator, tenant, v.version, n.add_action, action_id="a1", text="Replace the pump",
             owner=Owner(Role.COORDINATOR, "Jordan Lee"), goal_id="g1", due=TODAY + timedelta(days=30))
    v = save(services, coordinator, tenant, v.version, n.add_action, action_id="a2", text="Keep a sleep diary",
             owner=Owner(Role.FAMILY, "Ana Lucía Rivera"), goal_id="g1", due=TODAY + timedelta(days=14))
    v = save(services, coordinator, tenant, v.version, n.add_action, action_id="a3", text="Bring the diary to clinic",
             owner=Owner(Role.FAMILY, "Ana Lucía Rivera"), goal_id="g1", due=TODAY + timedelta(days=40))
    v = save(services, coordinator, tenant, v.version, n.submit_for_review)
    v = save(services, coordinator, tenant, v.version, n.sign)
    return save(services, clinician, tenant, v.version, n.sign)


def audit_actions(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_events.c.action).order_by(audit_events.c.id)).scalars())


def test_before_anything_is_signed_the_family_sees_no_draft(services, coordinator, mother, tenant):
    save(services, coordinator, tenant, None, n.add_goal, goal_id="g1", text="Draft wording not shared yet")
    page = services.family.page(mother, tenant, None)
    assert page.copy is None and page.signed is None


def test_the_family_sees_the_signed_wording_not_a_revision_in_progress(services, coordinator, mother, tenant, signed):
    opened = save(services, coordinator, tenant, signed.version, n.open_revision)
    save(services, coordinator, tenant, opened.version, n.edit_goal, "g1", text="Reworded, not shared yet")
    page = services.family.page(mother, tenant, "es")
    assert [g.text for g in page.copy.goals] == ["Sleep through the night"]
    assert page.copy.lang == "es"
    assert [(x.action_id, x.family_owned) for x in page.copy.goals[0].actions] == [
        ("a1", False), ("a2", True), ("a3", True)]


def test_a_family_act_on_a_signed_plan_opens_the_next_revision_and_never_changes_the_signed_one(
        services, coordinator, mother, tenant, signed):
    saved = services.family.take_position(mother, tenant, "a1", "agree", "", base_version=signed.version)
    assert saved.plan.state is PlanState.DRAFT and saved.plan.revision == signed.plan.revision + 1
    [position] = saved.plan.positions
    assert (position.party, position.stance, position.by, position.by_user) == (
        Role.FAMILY, Stance.AGREE, "Ana Lucía Rivera (mother)", "RelatedPerson/sofia-rivera-mother")
    kept = services.planning.version(signed.plan_id, signed.version)
    assert kept == signed and services.planning.latest_signed(coordinator) == signed


def test_the_family_asks_for_a_change_in_their_words_and_marks_only_their_own_actions_done(
        services, mother, tenant, signed):
    v = services.family.take_position(mother, tenant, "a1", "amend", "Replace it before the holidays",
                                      base_version=signed.version)
    v = services.family.mark_done(mother, tenant, "a2", base_version=v.version)
    assert v.plan.action("a2").status is ActionStatus.DONE
    assert n.disagreements(v.plan)[0].party is Role.FAMILY
    with pytest.raises(InvalidInput, match="responsible for"):
        services.family.mark_done(mother, tenant, "a1", base_version=v.version)
    with pytest.raises(InvalidInput, match="agree, ask for a change, or disagree"):
        services.family.take_position(mother, tenant, "a1", "comment", "Hi", base_version=v.version)
    with pytest.raises(InvalidInput, match="could not be found"):
        services.family.take_position(mother, tenant, "nope", "agree", "", base_version=v.version)


def test_three_writers_at_once_lose_nothing(services, coordinator, clinician, mother, tenant, signed):
    """The coordinator, the clinician and the family each act on the same version they loaded."""
    opened = save(services, coordinator, tenant, signed.version, n.open_revision)
    base = opened.version
    save(services, coordinator, tenant, base, n.edit_action, "a1", due=TODAY + timedelta(days=10))
    save(services, clinician, tenant, base, n.take_position, "g1", Stance.AGREE)
    services.family.take_position(mother, tenant, "a3", "decline", "We cannot get there that week",
                                  base_version=base)
    services.family.mark_done(mother, tenant, "a2", base_version=base)
    plan = services.planning.current(coordinator).plan
    assert plan.action("a1").due == TODAY + timedelta(days=10)
    assert plan.action("a2").status is ActionStatus.DONE
    stances = {(p.subject_id, p.party): p.stance for p in plan.positions}
    assert stances == {("g1", Role.CLINICIAN): Stance.AGREE, ("a3", Role.FAMILY): Stance.DECLINE}
    assert plan.state is PlanState.DRAFT and plan.revision == signed.plan.revision + 1


def test_a_family_answer_on_wording_changed_meanwhile_is_a_conflict_not_a_silent_agreement(
        services, coordinator, mother, tenant, signed):
    opened = save(services, coordinator, tenant, signed.version, n.open_revision)
    save(services, coordinator, tenant, opened.version, n.edit_action, "a1", text="Replace the pump and its charger")
    outcome = services.family.take_position(mother, tenant, "a1", "agree", "", base_version=opened.version)
    assert isinstance(outcome, Conflict)
    assert not services.planning.current(coordinator).plan.positions


def test_questions_help_and_about_us_proposals_reach_the_care_team(services, coordinator, mother, tenant, signed,
                                                                     engine):
    services.family.ask(mother, "question", "", "Can we talk about school?", request_id="r1")
    services.family.ask(mother, "need-help", "a2", "The diary app does not work", request_id="r2")
    services.family.ask(mother, "about-change", "strengths", "Sofia sings every morning", request_id="r3")
    with pytest.raises(InvalidInput, match="your own actions"):
        services.family.ask(mother, "need-help", "a1", "Help", request_id="r4")
    with pytest.raises(InvalidInput, match="Write your message"):
        services.family.ask(mother, "question", "", "   ", request_id="r5")
    assert [r.request_id for r in services.family.open_requests(coordinator)] == ["r1", "r2", "r3"]

    services.family.close(coordinator, tenant, "r3", "accepted", "")
    services.family.close(coordinator, tenant, "r1", "answered", "Yes, at the next visit")
    with pytest.raises(InvalidInput, match="already answered"):
        services.family.close(coordinator, tenant, "r1", "answered", "Again")
    with pytest.raises(InvalidInput, match="does not fit"):
        services.family.close(coordinator, tenant, "r2", "accepted", "")
    with pytest.raises(InvalidInput, match="Only the care team"):
        services.family.close(mother, tenant, "r2", "answered", "")
    assert services.about_us.intake_answers(coordinator).get("strengths") == "Sofia sings every morning"
    assert [r.request_id for r in services.family.open_requests(coordinator)] == ["r2"]
    actions = audit_actions(engine)
    assert ["family-question", "family-need-help", "family-about-change"] == [
        a for a in actions if a.startswith("family-") and a != "family-request-closed"]
    assert actions.count("family-request-closed") == 2


def test_every_family_act_on_the_plan_is_audited(services, mother, tenant, signed, engine):
    v = services.family.take_position(mother, tenant, "a1", "agree", "", base_version=signed.version)
    services.family.mark_done(mother, tenant, "a2", base_version=v.version)
    actions = audit_actions(engine)
    assert "plan-family-position-agree" in actions and "plan-family-action-done" in actions


def test_an_open_family_request_makes_the_review_due(services, coordinator, mother, tenant, signed):
    picture = services.tracking.review(coordinator, tenant, services.tracking.current_summary(coordinator, tenant))
    assert picture.status.state is ReviewState.NOT_DUE
    services.family.ask(mother, "question", "", "Can we talk about school?", request_id="r1")
    picture = services.tracking.review(coordinator, tenant, services.tracking.current_summary(coordinator, tenant))
    assert picture.status.state is ReviewState.DUE and "family" in picture.status.reason


def test_the_next_visit_says_what_changed_in_the_shared_plan(services, coordinator, clinician, mother, tenant,
                                                              signed):
    first = services.family.page(mother, tenant, None)
    assert first.changes is None  # a first visit
    assert services.family.page(mother, tenant, None).changes == ()
    v = save(services, coordinator, tenant, signed.version, n.open_revision)
    v = save(services, coordinator, tenant, v.version, n.add_action, action_id="a9", text="See the sleep specialist",
             owner=Owner(Role.COORDINATOR, "Jordan Lee"), goal_id="g1")
    v = save(services, coordinator, tenant, v.version, n.submit_for_review)
    v = save(services, coordinator, tenant, v.version, n.sign)
    save(services, clinician, tenant, v.version, n.sign)
    changes = services.family.page(mother, tenant, None).changes
    assert [(c.kind, c.text) for c in changes] == [("new-action", "See the sleep specialist")]


def test_a_professional_launch_is_not_the_family(services, coordinator, tenant, signed):
    with pytest.raises(InvalidInput, match="Only the family"):
        services.family.take_position(coordinator, tenant, "a1", "agree", "", base_version=signed.version)


def test_the_family_answers_on_the_signed_wording_they_read(services, coordinator, mother, tenant, signed):
    """An item reworded in the revision in progress is a conflict (their answer was to other words); the rest
    of their answers land in that revision."""
    opened = save(services, coordinator, tenant, signed.version, n.open_revision)
    save(services, coordinator, tenant, opened.version, n.edit_action, "a1", text="Replace the pump and its charger")
    page = services.family.page(mother, tenant, None)
    assert [x.text for x in page.copy.goals[0].actions][0] == "Replace the pump"
    outcome = services.family.take_position(mother, tenant, "a1", "agree", "", base_version=page.base_version)
    assert isinstance(outcome, Conflict) and "changing this part" in outcome.reason
    landed = services.family.take_position(mother, tenant, "a3", "agree", "", base_version=page.base_version)
    assert landed.plan.revision == opened.plan.revision and landed.version == opened.version + 2
    assert [(p.subject_id, p.stance) for p in landed.plan.positions] == [("a3", Stance.AGREE)]
    assert landed.plan.action("a1").text == "Replace the pump and its charger"


def test_the_family_may_change_its_mind(services, mother, tenant, signed):
    page = services.family.page(mother, tenant, None)
    services.family.take_position(mother, tenant, "a1", "agree", "", base_version=page.base_version)
    page = services.family.page(mother, tenant, None)
    changed = services.family.take_position(mother, tenant, "a1", "decline", "Not that week",
                                            base_version=page.base_version)
    assert [(p.subject_id, p.stance, p.reason) for p in changed.plan.positions] == [
        ("a1", Stance.DECLINE, "Not that week")]
