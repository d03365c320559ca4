"""Two saves made on the same version: both land when they touch different fields; the fields both
changed are shown side by side (base / theirs / mine), and "keep mine" changes exactly those.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

The grain is that of plan.diff: goals and actions field by field, plan-level fields one by one,
positions and resolutions per (item, party), sign-offs per signer. A reorder of goals (or actions)
by one side is kept, with the other side's new items at the end; two reorders that disagree conflict.
The order of positions, resolutions and sign-offs is bookkeeping: theirs stands, never a conflict.

`merge(base, mine, theirs)` merges data and knows no negotiation rule; `keep_mine` takes the user's
value at exactly the conflicting fields. The app saves only plans the commands made, so the service
uses `rebase`, which re-runs the command:

How the service saves a change the user made on version `base` when the latest is `latest`
-----------------------------------------------------------------------------------------
The change is the pure command the form asked for, `change(plan) -> plan` (actor and time bound),
built from only the fields the user changed (`negotiation.edited_fields`).
1. latest is base: save change(base) with compare-and-swap on base's version.
2. Otherwise `outcome = rebase(base, latest, change)`:
   - it runs change(base): what the user changed and what they acted on (a NegotiationError here is
     the user's mistake: show it, 400);
   - it compares that with diff(base, latest), what the others changed since;
   - no conflict: `outcome.plan` is change(latest), the command RE-RUN on the latest version. Save it
     with compare-and-swap on latest's version; when that fails, repeat 2 with the new latest. A
     NegotiationError from the re-run (the action was removed meanwhile, the plan got signed) is
     shown on the conflict page with `outcome`'s their changes.
   - conflicts: the conflict page shows `conflict_rows(outcome.conflicts)` and the others' changes.
     "Keep mine" re-posts the same form with base = latest's version and asks to keep mine: the
     service saves change(latest) (compare-and-swap on latest). As the command holds only the
     fields the user changed, that changes those fields and leaves the others' work alone.
     "Keep theirs" saves nothing.
Re-running the command instead of saving merged data keeps the rules in one place: agreements and
sign-offs given to wording the change alters are cleared, a person signs once, who may do what
holds on the plan as it is now.

What counts as a conflict for `rebase`: a field both changed to different values, counting only
what the user did (not what the rules cleared as a consequence: sign-offs, other parties' agreement);
and what the user acted on that others changed meanwhile: a position or resolution on an item whose
negotiated fields changed or that was removed, a party's position replaced before it was resolved or
accepted, a signature on content that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .diff import (
    ORDER_FIELDS,
    Change,
    ChangeKind,
    Entity,
    apply,
    diff,
    field_name,
    item_labels,
    items_by_key,
    shown,
)
from .model import Goal, NegotiatedAction, Plan, PlanState, Position, Resolution, SignOff, Stance
from .negotiation import NEGOTIATED_ACTION_FIELDS, NEGOTIATED_GOAL_FIELDS
from .people import person_label

Slot = tuple[Entity, str, str]  # (entity, key, field); field "" is the whole item, position or sign-off

# Plan-level order fields nobody negotiates: theirs stands.
BOOKKEEPING_ORDERS = frozenset({"position_order", "resolution_order", "signoff_order"})
# What a signature was given to: a change to any of these since the base makes it stale.
CONTENT_PLAN_FIELDS = frozenset({"family_priority", "goal_order", "action_order"})
_NEGOTIATED = {Entity.GOAL: NEGOTIATED_GOAL_FIELDS, Entity.ACTION: NEGOTIATED_ACTION_FIELDS}


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """A field (or whole item) where theirs and mine disagree. Values are as in each version; a whole
    item that is not there is None. `acted_on`: the user did not change it, but took a position or
    signed on the base's value, which the others changed."""

    entity: Entity
    key: str
    field: str
    label: str
    base: object
    theirs: object
    mine: object
    acted_on: bool = False

    @property
    def slot(self) -> Slot:
        return (self.entity, self.key, self.field)


@dataclass(frozen=True, slots=True)
class Merged:
    plan: Plan  # every change of both sides; at a conflict, theirs
    conflicts: tuple[FieldConflict, ...]


@dataclass(frozen=True, slots=True)
class Rebased:
    plan: Plan | None  # the change re-run on the latest version, to save; None when there are conflicts
    conflicts: tuple[FieldConflict, ...]
    their_changes: tuple[Change, ...]  # what the others changed since the base


# ---------------------------------------------------------------------------------------------------
# The data: merge and keep mine
# ---------------------------------------------------------------------------------------------------


def merge(base: Plan, mine: Plan, theirs: Plan) -> Merged:
    """Theirs with every change of mine that touches no field they changed; the fields both changed
    to different values are the conflicts (theirs kept in the plan)."""
    my, their = diff(base, mine), diff(base, theirs)
    taken = [m for m in my if not any(overlap(m, t) for t in their)]
    conflicts = _write_conflicts(my, their, base, mine, theirs)
    return Merged(apply(theirs, taken), conflicts)


def keep_mine(merged: Merged) -> Plan:
    """The merged plan with the user's value at exactly the conflicting fields."""
    return apply(merged.plan, [_mine_at(c) for c in merged.conflicts])


def overlap(a: Change, b: Change) -> bool:
    """Whether two changes touch the same field: the same field of the same item, or the whole item."""
    return a.entity is b.entity and a.key == b.key and (a.field == b.field or not a.field or not b.field)


def value_at(plan: Plan, slot: Slot) -> object:
    """The plan's value at a slot: a field, a whole item (None when absent) or an order (the keys)."""
    entity, key, field = slot
    if entity is Entity.PLAN:
        return tuple(items_by_key(plan, ORDER_FIELDS[field])) if field in ORDER_FIELDS else getattr(plan, field)
    item = items_by_key(plan, entity).get(key)
    return getattr(item, field) if field and item is not None else item


def _write_conflicts(my: Iterable[Change], their: tuple[Change, ...], base: Plan, mine: Plan,
                     theirs: Plan) -> tuple[FieldConflict, ...]:
    """The slots both changed, to values that differ."""
    found: dict[Slot, FieldConflict] = {}
    for m in my:
        if m.entity is Entity.PLAN and m.field in BOOKKEEPING_ORDERS:
            continue
        for t in (t for t in their if overlap(m, t)):
            slot = (m.entity, m.key, m.field if m.field == t.field else "")
            ours, others = value_at(mine, slot), value_at(theirs, slot)
            if slot not in found and not _same(slot, ours, others):
                found[slot] = FieldConflict(*slot, _label(base, slot, m, t), value_at(base, slot), others, ours)
    return tuple(found.values())


def _label(base: Plan, slot: Slot, *changes: Change) -> str:
    """The wording of the item as both sides saw it (the base's), else as a change names it."""
    entity, key, _ = slot
    subject = key.split("|")[0] if entity in (Entity.POSITION, Entity.RESOLUTION) else key
    return item_labels(base).get(subject) or next((c.label for c in changes if c.label), "")


def _same(slot: Slot, a: object, b: object) -> bool:
    """Equal values; for an order, the same order of the items both have."""
    if slot[2] in ORDER_FIELDS:
        common_a = [k for k in a if k in b]  # type: ignore[union-attr,operator]
        common_b = [k for k in b if k in a]  # type: ignore[union-attr,operator]
        return common_a == common_b
    return a == b


def _mine_at(conflict: FieldConflict) -> Change:
    entity, key, field = conflict.slot
    if entity is Entity.PLAN or field:
        return Change(ChangeKind.CHANGED, entity, key, field, conflict.theirs, conflict.mine)
    if conflict.mine is None:
        return Change(ChangeKind.REMOVED, entity, key, before=conflict.theirs)
    if conflict.theirs is None:
        return Change(ChangeKind.ADDED, entity, key, after=conflict.mine)
    return Change(ChangeKind.CHANGED, entity, key, before=conflict.theirs, after=conflict.mine)


# ---------------------------------------------------------------------------------------------------
# The service's path: rebase a command onto the latest version
# ---------------------------------------------------------------------------------------------------


def rebase(base: Plan, latest: Plan, change: Callable[[Plan], Plan]) -> Rebased:
    """The user's change, made on `base`, re-run on `latest` when nothing it did or acted on was
    changed by others since; otherwise the conflicts (see the module docstring). Raises the command's
    NegotiationError (from the base: the user's mistake; from the latest: the plan moved on)."""
    mine = change(base)
    their = diff(base, latest)
    conflicts = rebase_conflicts(base, mine, latest)
    if conflicts:
        return Rebased(None, conflicts, their)
    return Rebased(change(latest), (), their)


def rebase_conflicts(base: Plan, mine: Plan, latest: Plan) -> tuple[FieldConflict, ...]:
    """What the user did (mine, made on base) that collides with what others did since (latest)."""
    my, their = diff(base, mine), diff(base, latest)
    done = [c for c in my if _done_by_user(c, my, mine)]
    conflicts = list(_write_conflicts(done, their, base, mine, latest))
    seen = {c.slot for c in conflicts}
    for t in their:
        slot = (t.entity, t.key, t.field)
        if slot not in seen and any(_acted_on(m, t, mine) for m in my):
            seen.add(slot)
            conflicts.append(FieldConflict(*slot, _label(base, slot, t), value_at(base, slot), value_at(latest, slot),
                                           value_at(mine, slot), acted_on=True))
    return tuple(conflicts)


def _done_by_user(change: Change, changes: tuple[Change, ...], mine: Plan) -> bool:
    """A change the user made, not one the rules made as its consequence (sign-offs and agreements
    cleared, actions unlinked from a removed goal, the plan signed by the last signature)."""
    if change.entity is Entity.ACTION and change.field == "goal_id" and change.after is None:
        return not any(c.entity is Entity.GOAL and c.kind is ChangeKind.REMOVED and c.key == change.before
                       for c in changes)
    if change.entity in (Entity.GOAL, Entity.ACTION):
        return True
    if change.entity is Entity.POSITION:
        return change.kind is not ChangeKind.REMOVED and not _settled(change, mine)
    if change.entity in (Entity.RESOLUTION, Entity.SIGNOFF):
        return change.kind is not ChangeKind.REMOVED
    if change.field in ("state", "next_review"):  # as the last signature sets them, a consequence
        return not any(c.entity is Entity.PLAN and c.field == "state" and c.after is PlanState.SIGNED
                       for c in changes)
    return change.field in ("family_priority", "revision", "goal_order", "action_order")


def _settled(change: Change, mine: Plan) -> bool:
    """An amendment that became agreement because the item now reads as proposed."""
    before, after = change.before, change.after
    return (isinstance(before, Position) and isinstance(after, Position) and before.stance is Stance.AMEND
            and after.stance is Stance.AGREE and before.proposed_change == _wording(mine, before.subject_id))


def _acted_on(m: Change, t: Change, mine: Plan) -> bool:
    """Whether my change `m` was made on something their change `t` altered: a position or resolution
    on an item they reworded (or removed), a position they replaced, a signature on changed content."""
    if m.entity in (Entity.POSITION, Entity.RESOLUTION) and m.kind is not ChangeKind.REMOVED:
        subject = m.key.split("|")[0]
        if t.entity in _NEGOTIATED and t.key == subject and (not t.field or t.field in _NEGOTIATED[t.entity]):
            return True
        settled = m.entity is Entity.POSITION and _settled(m, mine)
        return (m.entity is Entity.RESOLUTION or settled) and t.entity is Entity.POSITION and t.key == m.key
    if m.entity is Entity.SIGNOFF and m.kind is not ChangeKind.REMOVED:
        if t.entity in _NEGOTIATED:
            return not t.field or t.field in _NEGOTIATED[t.entity]
        return t.entity is Entity.PLAN and t.field in CONTENT_PLAN_FIELDS
    return False


def _wording(plan: Plan, subject_id: str) -> str | None:
    item = plan.goal(subject_id) or plan.action(subject_id)
    return item.text if item is not None else None


# ---------------------------------------------------------------------------------------------------
# The conflict page
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConflictRow:
    what: str  # "Wording of 'Arrange pump'", "Goal 'Sleep'"
    base: str
    theirs: str
    mine: str
    acted_on: bool  # the user did not change it but acted on the base's value


def conflict_rows(conflicts: Iterable[FieldConflict], *plans: Plan) -> tuple[ConflictRow, ...]:
    """The conflicts in words; `plans` (base, theirs, mine) name the goals and actions of an order."""
    labels = {k: v for plan in plans for k, v in item_labels(plan).items()}

    def row(c: FieldConflict) -> ConflictRow:
        absent = "(not there)" if c.entity is not Entity.PLAN and not c.field else "(none)"
        base, theirs, mine = (absent if v is None else _value(v, labels) for v in (c.base, c.theirs, c.mine))
        return ConflictRow(_what(c), base, theirs, mine, c.acted_on)

    return tuple(row(c) for c in conflicts)



def _what(conflict: FieldConflict) -> str:
    entity, key, field = conflict.slot
    if entity is Entity.PLAN:
        return field_name(entity, field)
    noun = {Entity.GOAL: "Goal", Entity.ACTION: "Action", Entity.POSITION: "Position on",
            Entity.RESOLUTION: "Resolution on", Entity.SIGNOFF: "Sign-off"}[entity]
    subject = f"{noun} '{conflict.label}'" if conflict.label else noun
    if not field:
        return subject
    return f"{field_name(entity, field)} of {subject[0].lower()}{subject[1:]}"


def _value(value: object, labels: dict[str, str]) -> str:
    if value == "" or value == ():
        return "(none)"
    if isinstance(value, (Goal, NegotiatedAction)):
        return f"'{value.text}'"
    if isinstance(value, Position):
        detail = value.proposed_change or value.reason or value.comment
        return f"{person_label(value.by, value.party)}: {value.stance.value}" + (f", '{detail}'" if detail else "")
    if isinstance(value, Resolution):
        return f"Resolved by {value.by}: '{value.note}'"
    if isinstance(value, SignOff):
        return f"Signed by {person_label(value.name, value.role)}"
    if isinstance(value, tuple) and value and all(isinstance(v, str) and v in labels for v in value):
        return ", ".join(f"'{labels[v]}'" for v in value)  # an order of goals or actions
    return shown(value)
