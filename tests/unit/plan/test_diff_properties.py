"""Properties of plan diffs over generated plans: a diff with itself is empty, and applying the
diff of a to b rebuilds b exactly, including reordered goals, actions, positions and sign-offs."""

from hypothesis import HealthCheck, given, settings

from smart_app.plan.diff import ChangeKind, Entity, apply, changed_keys, describe, diff
from tests.plan_builders import plans

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(plans())
def test_a_plan_has_no_differences_with_itself(plan):
    assert diff(plan, plan) == ()


@settings(PROPERTY_SETTINGS, max_examples=120)
@given(plans(), plans())
def test_applying_the_diff_of_a_to_b_yields_b(a, b):
    assert apply(a, diff(a, b)) == b


@PROPERTY_SETTINGS
@given(plans(), plans())
def test_changes_are_empty_only_for_equal_plans_never_repeat_a_field_and_read_as_sentences(a, b):
    changes = diff(a, b)
    assert (changes == ()) == (a == b)
    keyed = [(c.entity, c.key, c.field) for c in changes if c.entity is not Entity.PLAN]
    assert len(keyed) == len(set(keyed))
    assert all(c.field == "" for c in changes if c.kind is not ChangeKind.CHANGED)
    assert all(describe(c) for c in changes)
    assert changed_keys(changes) <= {g.goal_id for g in b.goals} | {x.action_id for x in b.actions}
