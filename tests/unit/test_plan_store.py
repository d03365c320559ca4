"""Plan versions: immutable, and every save a compare-and-swap (no lost edits), on both backends."""

import pytest

from smart_app.plan.model import Goal, Plan, PlanState
from smart_app.store import create_engine
from smart_app.store.plans import PlanConflict, PlanStore
from tests.support import CLOCK

ISS, PID = "https://ehr.example/fhir", "p1"


@pytest.fixture
def store(database_url):
    engine = create_engine(database_url)
    yield PlanStore(engine)
    engine.dispose()


def test_each_save_is_a_new_version_and_old_versions_stay(store):
    first = store.save(ISS, PID, Plan(goals=(Goal("g1", "Walk with a walker"),)), base_version=None, saved_by="J", now=CLOCK.now())
    second = store.save(ISS, PID, Plan(goals=(Goal("g1", "Walk 10 m with a walker"),)), base_version=1, saved_by="J", now=CLOCK.now())
    assert (first.version, second.version) == (1, 2)
    assert store.version(first.plan_id, 1).plan.goals[0].text == "Walk with a walker"
    assert [v.version for v in store.history(first.plan_id)] == [1, 2]
    assert store.current(ISS, PID).plan.goals[0].text == "Walk 10 m with a walker"


def test_a_stale_save_is_refused_with_the_version_that_won(store):
    store.save(ISS, PID, Plan(), base_version=None, saved_by="J", now=CLOCK.now())
    store.save(ISS, PID, Plan(goals=(Goal("g1", "theirs"),)), base_version=1, saved_by="Dr O", now=CLOCK.now())
    with pytest.raises(PlanConflict) as conflict:
        store.save(ISS, PID, Plan(goals=(Goal("g1", "mine"),)), base_version=1, saved_by="J", now=CLOCK.now())
    assert conflict.value.latest.version == 2 and conflict.value.latest.plan.goals[0].text == "theirs"
    assert store.current(ISS, PID).version == 2


def test_two_first_saves_for_one_patient_do_not_both_land(store):
    store.save(ISS, PID, Plan(), base_version=None, saved_by="J", now=CLOCK.now())
    with pytest.raises(PlanConflict):
        store.save(ISS, PID, Plan(goals=(Goal("g", "x"),)), base_version=None, saved_by="K", now=CLOCK.now())


def test_latest_signed_and_the_same_patient_at_another_site_is_another_plan(store):
    store.save(ISS, PID, Plan(), base_version=None, saved_by="J", now=CLOCK.now())
    store.save(ISS, PID, Plan(state=PlanState.SIGNED), base_version=1, saved_by="J", now=CLOCK.now())
    store.save(ISS, PID, Plan(revision=2), base_version=2, saved_by="J", now=CLOCK.now())
    assert store.latest_signed(ISS, PID).version == 2
    assert store.current("https://other.example/fhir", PID) is None
