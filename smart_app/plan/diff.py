"""Differences between two plan versions, as data: what was added, removed or changed, field by field.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

`diff(a, b)` lists the changes and `apply(a, diff(a, b)) == b`. Goals and actions are compared field
by field and keyed by id; positions and resolutions are keyed by (item, party) and sign-offs by the
signer's identity (their role when an older sign-off has none), each compared as a whole. Plan-level
fields (state, family priority, next review, revision, signing time) and the order of goals,
actions, positions, resolutions and sign-offs are changes of the entity PLAN, key "plan". Order changes
are reported only when the order differs from "old order, removed ones dropped, added ones at the
end", so adding a goal is not also a reorder.

The same changes drive the history page (`describe`), the "changed since last version" markers
(`changed_keys`) and the conflict view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any

from . import i18n
from .model import ROLE_LABELS, Owner, Plan, PlanState, Position, ProgressNote, Resolution, Role, SignOff, Stance
from .people import owner_label, person_label

PLAN_KEY = "plan"
PLAN_FIELDS = ("state", "family_priority", "next_review", "revision", "signed_at")
# Order fields a history page need not show: positions, resolutions and sign-offs are shown per item
# and person.
BOOKKEEPING_FIELDS = frozenset({"position_order", "resolution_order", "signoff_order", "signed_at"})


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Entity(StrEnum):
    GOAL = "goal"
    ACTION = "action"
    POSITION = "position"
    RESOLUTION = "resolution"
    SIGNOFF = "signoff"
    PLAN = "plan"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference. `label` is the item's wording (for goals, actions, positions), for describing it."""

    kind: ChangeKind
    entity: Entity
    key: str
    field: str = ""  # for goals, actions and the plan; "" when the whole value was added/removed/replaced
    before: object = None
    after: object = None
    label: str = ""


class StaleChange(ValueError):
    """A change names an item the plan does not have (it was diffed against another version)."""


@dataclass(frozen=True, slots=True)
class _Collection:
    entity: Entity
    attr: str  # the Plan field holding the items
    order_field: str
    key: Callable[[Any], str]
    field_by_field: bool
    id_field: str = ""


def position_key(position: Position | Resolution) -> str:
    """The key of a position (and of its resolution) in changes: 'item id|party'."""
    return f"{position.subject_id}|{position.party.value}"


def signoff_key(signoff: SignOff) -> str:
    """The key of a sign-off in changes: the signer's identity; the role for a sign-off without one."""
    return signoff.user or signoff.role.value


_COLLECTIONS = (
    _Collection(Entity.GOAL, "goals", "goal_order", lambda g: g.goal_id, True, "goal_id"),
    _Collection(Entity.ACTION, "actions", "action_order", lambda a: a.action_id, True, "action_id"),
    _Collection(Entity.POSITION, "positions", "position_order", position_key, False),
    _Collection(Entity.RESOLUTION, "resolutions", "resolution_order", position_key, False),
    _Collection(Entity.SIGNOFF, "signoffs", "signoff_order", signoff_key, False),
)
_BY_ENTITY = {c.entity: c for c in _COLLECTIONS}
# The plan-level "field" holding each collection's order, and the entity it orders.
ORDER_FIELDS: dict[str, Entity] = {c.order_field: c.entity for c in _COLLECTIONS}


def items_by_key(plan: Plan, entity: Entity) -> dict[str, Any]:
    """The plan's goals, actions, positions, resolutions or sign-offs by their key in changes, in order."""
    collection = _BY_ENTITY[entity]
    return {collection.key(x): x for x in getattr(plan, collection.attr)}


# ---------------------------------------------------------------------------------------------------
# diff and apply
# ---------------------------------------------------------------------------------------------------


def diff(a: Plan, b: Plan) -> tuple[Change, ...]:
    """What changed from `a` to `b`: goals, actions, positions, resolutions, sign-offs, then plan-level
    fields."""
    labels = {**item_labels(a), **item_labels(b)}
    changes: list[Change] = []
    for collection in _COLLECTIONS:
        changes += _diff_collection(collection, getattr(a, collection.attr), getattr(b, collection.attr), labels)
    changes += [
        Change(ChangeKind.CHANGED, Entity.PLAN, PLAN_KEY, name, getattr(a, name), getattr(b, name))
        for name in PLAN_FIELDS
        if getattr(a, name) != getattr(b, name)
    ]
    return tuple(changes)


def apply(plan: Plan, changes: Iterable[Change]) -> Plan:
    """`plan` with the changes made. Raises StaleChange when a change names an item `plan` lacks."""
    changes = tuple(changes)
    plan_changes = {c.field: c.after for c in changes if c.entity is Entity.PLAN}
    updated: dict[str, Any] = {}
    for collection in _COLLECTIONS:
        own = [c for c in changes if c.entity is collection.entity]
        order = plan_changes.get(collection.order_field)
        items = getattr(plan, collection.attr)
        if own or order is not None:
            updated[collection.attr] = _apply_collection(collection, items, own, order)
    updated.update({name: value for name, value in plan_changes.items() if name in PLAN_FIELDS})
    return replace(plan, **updated)


def changed_keys(changes: Iterable[Change]) -> frozenset[str]:
    """Ids of the goals and actions added or changed, for "changed since the last version" markers."""
    return frozenset(
        c.key for c in changes if c.entity in (Entity.GOAL, Entity.ACTION) and c.kind is not ChangeKind.REMOVED
    )


def worth_showing(changes: Iterable[Change]) -> tuple[Change, ...]:
    """The changes a person would want listed (not re-listing of positions or sign-off times)."""
    return tuple(c for c in changes if not (c.entity is Entity.PLAN and c.field in BOOKKEEPING_FIELDS))


def _diff_collection(
    collection: _Collection, a: Sequence[Any], b: Sequence[Any], labels: dict[str, str]
) -> list[Change]:
    old = {collection.key(x): x for x in a}
    new = {collection.key(x): x for x in b}
    entity = collection.entity

    def label(item: Any) -> str:
        """The wording of the goal or action: its own, or the one a position or resolution is on."""
        on_an_item = entity in (Entity.POSITION, Entity.RESOLUTION)
        return labels.get(item.subject_id if on_an_item else collection.key(item), "")

    changes = [
        Change(ChangeKind.REMOVED, entity, k, before=v, label=label(v)) for k, v in old.items() if k not in new
    ]
    for key, after in new.items():
        before = old.get(key)
        if before is None or before == after:
            continue
        if collection.field_by_field:
            changes += [
                Change(ChangeKind.CHANGED, entity, key, f.name, getattr(before, f.name), getattr(after, f.name),
                       label(after))
                for f in fields(after)
                if f.name != collection.id_field and getattr(before, f.name) != getattr(after, f.name)
            ]
        else:
            changes.append(Change(ChangeKind.CHANGED, entity, key, before=before, after=after, label=label(after)))
    changes += [Change(ChangeKind.ADDED, entity, k, after=v, label=label(v)) for k, v in new.items() if k not in old]
    natural = [k for k in old if k in new] + [k for k in new if k not in old]
    if natural != list(new):
        changes.append(Change(ChangeKind.CHANGED, Entity.PLAN, PLAN_KEY, collection.order_field,
                              tuple(old), tuple(new)))
    return changes


def _apply_collection(collection: _Collection, items: Sequence[Any], changes: list[Change],
                      order: tuple[str, ...] | None) -> tuple[Any, ...]:
    by_key = {collection.key(x): x for x in items}
    for change in changes:
        if change.kind is ChangeKind.ADDED:
            by_key[change.key] = change.after
            continue
        if change.key not in by_key:
            raise StaleChange(f"The {change.entity.value} {change.key!r} is not in this version.")
        if change.kind is ChangeKind.REMOVED:
            del by_key[change.key]
        elif change.field:
            by_key[change.key] = replace(by_key[change.key], **{change.field: change.after})
        else:
            by_key[change.key] = change.after
    if order is None:
        return tuple(by_key.values())
    rank = {key: i for i, key in enumerate(order)}
    return tuple(sorted(by_key.values(), key=lambda x: rank.get(collection.key(x), len(rank))))


def item_labels(plan: Plan) -> dict[str, str]:
    """The wording of each goal and action, by id."""
    return {**{g.goal_id: g.text for g in plan.goals}, **{a.action_id: a.text for a in plan.actions}}


# ---------------------------------------------------------------------------------------------------
# In words
# ---------------------------------------------------------------------------------------------------

_FIELD_NAMES = {
    "text": "Wording",
    "kind": "Kind",
    "expressed_by": "Expressed by",
    "target_date": "Target date",
    "lifecycle": "Status",
    "achievement": "Progress",
    "condition_refs": "Linked conditions",
    "owner": "Owner",
    "goal_id": "Goal",
    "due": "Due date",
    "status": "Status",
    "progress": "Progress notes",
}

_PLAN_FIELD_NAMES = {
    "state": "Plan status",
    "family_priority": "The family's priority",
    "next_review": "Next review date",
    "revision": "Revision",
    "signed_at": "Signing time",
    "goal_order": "Order of the goals",
    "action_order": "Order of the actions",
}

_STANCE_VERBS = {
    Stance.AGREE: "agreed to",
    Stance.AMEND: "proposed a change to",
    Stance.DECLINE: "declined",
    Stance.COMMENT: "commented on",
}


def describe(change: Change) -> str:
    """The change in plain language, e.g. "Due date of 'Arrange pump' changed from 15 Jul 2026 to 1 Aug 2026"."""
    if change.entity is Entity.PLAN:
        return _describe_plan(change)
    if change.entity is Entity.POSITION:
        return _describe_position(change)
    if change.entity is Entity.RESOLUTION:
        return _describe_resolution(change)
    if change.entity is Entity.SIGNOFF:
        return _describe_signoff(change)
    return _describe_item(change)


def _describe_item(change: Change) -> str:
    noun = "Goal" if change.entity is Entity.GOAL else "Action"
    if change.kind is ChangeKind.ADDED:
        return f"{noun} added: '{change.label}'"
    if change.kind is ChangeKind.REMOVED:
        return f"{noun} removed: '{change.label}'"
    if change.field == "text":
        return f"{noun} reworded from '{change.before}' to '{change.after}'"
    if change.field == "progress" and _extends(change.before, change.after):
        added = change.after[len(change.before):]  # type: ignore[index]
        notes = "; ".join(shown(n) for n in added)
        return f"Progress noted on '{change.label}': {notes}"
    if change.field == "expressed_by":
        if not change.after:
            return f"Goal '{change.label}' no longer says whose words it is in"
        return f"Goal '{change.label}' now in the words of {shown(change.after)}"
    if change.field == "goal_id":
        return f"'{change.label}' " + ("unlinked from its goal" if change.after is None else "linked to another goal")
    what = field_name(change.entity, change.field)
    subject = f"goal '{change.label}'" if change.entity is Entity.GOAL else f"'{change.label}'"
    return _from_to(f"{what} of {subject}", change.before, change.after)


def _describe_position(change: Change) -> str:
    position = change.after if change.kind is not ChangeKind.REMOVED else change.before
    if not isinstance(position, Position):
        return f"Position on '{change.label}' {change.kind.value}"
    party = _party(position)
    if change.kind is ChangeKind.REMOVED:
        return f"{party}'s position on '{change.label}' was cleared"
    sentence = f"{party} {_STANCE_VERBS[position.stance]} '{change.label}'"
    if position.stance is Stance.AMEND:
        sentence += f": proposed '{position.proposed_change}'"
    elif position.stance is Stance.DECLINE:
        sentence += f": {position.reason}"
    elif position.stance is Stance.COMMENT:
        sentence += f": {position.comment}"
    before = change.before
    if change.kind is ChangeKind.CHANGED and isinstance(before, Position) and before.stance is not position.stance:
        sentence += f" (before: {_STANCE_VERBS[before.stance].split()[0]})"
    return sentence


def _describe_resolution(change: Change) -> str:
    resolution = change.after if change.kind is not ChangeKind.REMOVED else change.before
    if not isinstance(resolution, Resolution):
        return f"Resolution on '{change.label}' {change.kind.value}"
    whose = f"the {ROLE_LABELS[resolution.party].lower()}'s"
    if change.kind is ChangeKind.REMOVED:
        return f"The resolution of {whose} position on '{change.label}' no longer applies"
    who = person_label(resolution.by, Role.COORDINATOR)
    return f"{who} resolved {whose} position on '{change.label}': {resolution.note}"


def _describe_signoff(change: Change) -> str:
    signoff = change.after if change.kind is not ChangeKind.REMOVED else change.before
    if not isinstance(signoff, SignOff):
        return f"Sign-off {change.kind.value}"
    who = person_label(signoff.name, signoff.role)
    if change.kind is ChangeKind.REMOVED:
        return f"Sign-off by {who} cleared"
    return f"Signed by {who}"


_ORDER_WORDS = {
    "goal_order": "Goals reordered",
    "action_order": "Actions reordered",
    "position_order": "Positions re-listed",
    "resolution_order": "Resolutions re-listed",
    "signoff_order": "Sign-offs re-listed",
}


def _describe_plan(change: Change) -> str:
    if change.field in _ORDER_WORDS:
        return _ORDER_WORDS[change.field]
    if change.field == "state" and change.after is PlanState.SIGNED:
        return "Plan signed"
    if change.field == "revision":
        return f"Revision {change.after} opened"
    return _from_to(field_name(Entity.PLAN, change.field), change.before, change.after)


def field_name(entity: Entity, field: str) -> str:
    """A field as a person calls it: "Due date", "The family's priority"."""
    names = _FIELD_NAMES if entity in (Entity.GOAL, Entity.ACTION) else _PLAN_FIELD_NAMES
    return names.get(field, field.replace("_", " ").capitalize())


def _from_to(what: str, before: object, after: object) -> str:
    if _is_empty(before):
        return f"{what} set to {shown(after)}"
    if _is_empty(after):
        return f"{what} cleared (was {shown(before)})"
    return f"{what} changed from {shown(before)} to {shown(after)}"


def shown(value: object) -> str:
    """A value as a person reads it: '15 Jul 2026', 'in progress', 'Community provider (Acme)'."""
    if isinstance(value, datetime):
        return f"{i18n.format_date(value.date(), short=True)} {value:%H:%M}"
    if isinstance(value, date):
        return i18n.format_date(value, short=True)
    if isinstance(value, Owner):
        return owner_label(value)
    if isinstance(value, ProgressNote):
        return f"'{value.text}' ({value.author})"
    if isinstance(value, Enum):
        return str(value.value).replace("-", " ")
    if isinstance(value, tuple):
        return ", ".join(shown(v) for v in value) or "none"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == ()


def _extends(before: object, after: object) -> bool:
    return isinstance(before, tuple) and isinstance(after, tuple) and after[: len(before)] == before and \
        len(after) > len(before)


def _party(position: Position) -> str:
    label = ROLE_LABELS[position.party]
    if position.party is Role.FAMILY and position.by:
        # The coordinator records the family's positions: say who wrote it down.
        return f"{label} (recorded by {position.by})"
    return person_label(position.by, position.party)
