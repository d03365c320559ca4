"""Properties of the three-way merge over generated edits: for two edit sets made on one base, the
merge keeps every change of either side that touches no field the other changed, reports exactly the
fields both changed to different values, and "keep mine" changes those fields and no other."""

from dataclasses import fields, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_app.plan.diff import ORDER_FIELDS, PLAN_FIELDS, Entity, diff, items_by_key
from smart_app.plan.merge import BOOKKEEPING_ORDERS, keep_mine, merge, overlap, value_at
from smart_app.plan.model import Goal, Plan, PlanState, Role
from tests.plan_builders import (
    POSITION_KEYS,
    actions,
    dates,
    goals,
    moments,
    plans,
    positions,
    resolutions,
    signoffs,
    texts,
)

PROPERTY_SETTINGS = settings(max_examples=80, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NEW_GOALS, NEW_ACTIONS = ("g8", "g9"), ("a8", "a9")  # both sides may add the same id
ITEMS = {Entity.GOAL: ("goals", goals, NEW_GOALS), Entity.ACTION: ("actions", actions, NEW_ACTIONS)}
WHOLES = {Entity.POSITION: ("positions", positions, POSITION_KEYS),
          Entity.RESOLUTION: ("resolutions", resolutions, POSITION_KEYS[:4]),
          Entity.SIGNOFF: ("signoffs", signoffs, tuple(Role)[:3])}
rarely = st.sampled_from((False, False, False, True))


@st.composite
def edited(draw: st.DrawFn, base: Plan) -> Plan:
    """The base with some fields of some goals and actions changed, items removed and added, positions,
    resolutions and sign-offs replaced or removed, plan fields set, goals and actions reordered."""
    changes: dict[str, object] = {}
    for attr, build, new_ids in ITEMS.values():
        items = []
        for item in getattr(base, attr):
            if draw(rarely):
                continue  # removed
            other = draw(build(_id(item)))
            items.append(replace(item, **{f.name: getattr(other, f.name) for f in fields(item) if draw(rarely)}))
        items += [draw(build(i)) for i in new_ids if draw(rarely)]
        changes[attr] = tuple(draw(st.permutations(items)) if draw(rarely) else items)
    for attr, build, keys in WHOLES.values():
        by_key = {_whole_key(x): x for x in getattr(base, attr) if not draw(rarely)}  # some removed
        for key in keys:
            if draw(rarely):  # replaced or added
                x = draw(build(*key) if isinstance(key, tuple) else build(key))
                by_key[_whole_key(x)] = x
        changes[attr] = tuple(by_key.values())
    plan_fields = {"state": st.sampled_from(PlanState), "family_priority": texts, "next_review": st.none() | dates,
                   "revision": st.integers(1, 4), "signed_at": st.none() | moments}
    changes.update({name: draw(strategy) for name, strategy in plan_fields.items() if draw(rarely)})
    return replace(base, **changes)


def _id(item) -> str:
    return item.goal_id if isinstance(item, Goal) else item.action_id


def _whole_key(x) -> object:
    return (x.subject_id, x.party) if hasattr(x, "subject_id") else (x.user or x.role)


def slots_of(plan: Plan, *others: Plan):
    """Every field slot of every goal and action, every whole item, position, resolution and sign-off,
    and every plan-level field of the plans."""
    found = set()
    for entity in (Entity.GOAL, Entity.ACTION, *WHOLES):
        for p in (plan, *others):
            for key, item in items_by_key(p, entity).items():
                found.add((entity, key, ""))
                if entity in ITEMS:
                    found |= {(entity, key, f.name) for f in fields(item)}
    return found | {(Entity.PLAN, "plan", name) for name in PLAN_FIELDS}


def agrees(slot, a, b) -> bool:
    """Same value; for an order, the items both hold are in the same order."""
    if slot[2] in ORDER_FIELDS:
        return [k for k in a if k in b] == [k for k in b if k in a]
    return a == b


def changed(base: Plan, plan: Plan, slot) -> bool:
    return value_at(base, slot) != value_at(plan, slot)


@PROPERTY_SETTINGS
@given(plans(), st.data())
def test_a_change_nobody_else_touched_is_in_the_merge(base, data):
    mine, theirs = data.draw(edited(base)), data.draw(edited(base))
    merged = merge(base, mine, theirs)
    my, their = diff(base, mine), diff(base, theirs)
    for side, own, other in ((mine, my, their), (theirs, their, my)):
        for change in own:
            if not any(overlap(change, o) for o in other):
                slot = (change.entity, change.key, change.field)
                assert agrees(slot, value_at(merged.plan, slot), value_at(side, slot)), change


@PROPERTY_SETTINGS
@given(plans(), st.data())
def test_the_conflicts_are_exactly_the_fields_both_changed_to_different_values(base, data):
    mine, theirs = data.draw(edited(base)), data.draw(edited(base))
    merged = merge(base, mine, theirs)
    reported = {c.slot for c in merged.conflicts}
    for conflict in merged.conflicts:
        slot = conflict.slot
        assert slot[2] not in BOOKKEEPING_ORDERS
        assert (conflict.base, conflict.theirs, conflict.mine) == (
            value_at(base, slot), value_at(theirs, slot), value_at(mine, slot))
        assert not agrees(slot, conflict.mine, conflict.theirs)
        if slot[2] not in ORDER_FIELDS:
            assert changed(base, mine, slot) and changed(base, theirs, slot)
        assert agrees(slot, value_at(merged.plan, slot), conflict.theirs)  # theirs stands until the user chooses
    for slot in slots_of(base, mine, theirs):
        entity, key, field = slot
        both = changed(base, mine, slot) and changed(base, theirs, slot) and not agrees(
            slot, value_at(mine, slot), value_at(theirs, slot))
        if not both:
            continue
        if entity in ITEMS and not field:
            # the whole item differs on both sides: a conflict when one side added or removed it
            added_or_removed = any((value_at(p, slot) is None) != (value_at(base, slot) is None)
                                   for p in (mine, theirs))
            assert not added_or_removed or slot in reported, slot
        else:
            assert slot in reported or (entity, key, "") in reported, slot


@PROPERTY_SETTINGS
@given(plans(), st.data())
def test_keeping_mine_changes_exactly_the_conflicting_fields(base, data):
    mine, theirs = data.draw(edited(base)), data.draw(edited(base))
    merged = merge(base, mine, theirs)
    kept = keep_mine(merged)
    reported = {c.slot for c in merged.conflicts}
    for change in diff(merged.plan, kept):
        slot = (change.entity, change.key, change.field)
        covered = slot in reported or (change.entity, change.key, "") in reported
        bookkeeping = change.entity is Entity.PLAN and change.field in BOOKKEEPING_ORDERS
        assert covered or bookkeeping, change
    for conflict in merged.conflicts:
        assert agrees(conflict.slot, value_at(kept, conflict.slot), conflict.mine), conflict
    if not merged.conflicts:
        assert kept == merged.plan
