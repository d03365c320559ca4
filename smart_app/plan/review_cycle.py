"""The living document: what changed in the record since the plan was signed, when the plan is due
for review, and who owes which action by when.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. No clock: callers pass
`today`.

At sign-off the plan stores a `SummarySnapshot`: per tracked section, each item's stable key
(`item_key`) and the few fields whose change matters. On a later launch `changes_since` diffs that
snapshot against today's summary. Rules the diff follows:
- a section that failed to load, then or now, reports nothing (we cannot tell what changed);
- removals (stopped, no longer listed) are only reported when today's section is complete, because an
  incomplete list (capped paging) leaves items out that are still there;
- ED visits and admissions count when they started after the signing day and were not in the
  snapshot; the snapshot keeps only those two kinds of encounter, to stay small. With
  `inclusive_signing_day` (the snapshot was taken at the signing, as the app always does) a stay that
  started on the signing day counts too: had it been recorded before the signing, the snapshot would
  hold it.

Where the EHR can say which resources changed since the signing (`_lastUpdated`), `updated_in_ehr`
turns that list into events for today's items whose change the snapshot diff cannot see (a note, a
severity, an order re-issued with the same dose): reported once, and never enough to make the review due.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from smart_app.plan.dates import add_months
from smart_app.plan.model import (
    ActionStatus,
    GoalLifecycle,
    NegotiatedAction,
    Owner,
    Plan,
)
from smart_app.plan.people import PersonKey, owner_identity, owner_label
from smart_app.plan.record import SectionState
from smart_app.plan.summary import (
    AllergyItem,
    CareTeamMember,
    ConditionItem,
    EncounterItem,
    EncounterKind,
    EquipmentItem,
    MedicalSummary,
    MedicationItem,
    SummaryItem,
    SummarySection,
    item_key,
)

SNAPSHOT_SCHEMA = 1
DEFAULT_REVIEW_MONTHS = 6
DUE_SOON_DAYS = 30

# The summary sections whose changes are health events, in the order events are listed.
TRACKED_SECTIONS: tuple[str, ...] = (
    "encounters",
    "conditions",
    "medications",
    "allergies",
    "equipment",
    "care_team",
)
HOSPITAL_KINDS = frozenset({EncounterKind.EMERGENCY.value, EncounterKind.INPATIENT.value})
# A condition the EHR files as a one-visit diagnosis is not a new chronic condition.
NOT_CHRONIC_CATEGORIES = frozenset({"encounter diagnosis", "encounter-diagnosis"})

# ---------------------------------------------------------------------------------------------------
# The snapshot stored with a signed version
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotItem:
    """One summary item as it stood at sign-off: its key and the fields whose change matters."""

    key: str
    label: str
    status: str = ""
    active: bool = True
    category: str = ""  # conditions: "Problem list", "Encounter diagnosis"...
    dose_text: str = ""  # medications
    kind: str = ""  # equipment (device, in use, ordered) and encounters (emergency, inpatient)
    start: date | None = None  # encounters
    specialty: str = ""  # care team members


@dataclass(frozen=True, slots=True)
class SnapshotSection:
    key: str
    items: tuple[SnapshotItem, ...] = ()
    state: SectionState = SectionState.COMPLETE

    def by_key(self) -> dict[str, SnapshotItem]:
        return {item.key: item for item in self.items}


@dataclass(frozen=True, slots=True)
class SummarySnapshot:
    sections: tuple[SnapshotSection, ...] = ()

    def section(self, key: str) -> SnapshotSection:
        # A section the snapshot does not hold is unknown, not empty: treat it as failed.
        return next(
            (s for s in self.sections if s.key == key), SnapshotSection(key, state=SectionState.FAILED)
        )


def snapshot_of(summary: MedicalSummary) -> SummarySnapshot:
    """The compact picture of the summary the plan keeps with a signed version."""
    return SummarySnapshot(
        sections=tuple(_snapshot_section(summary.section(key)) for key in TRACKED_SECTIONS)
    )


def _snapshot_section(section: SummarySection) -> SnapshotSection:
    placed = [(item, True) for item in section.active] + [(item, False) for item in section.inactive]
    items: dict[str, SnapshotItem] = {}
    for item, active in placed:
        snapped = _snapshot_item(item, active)
        if snapped is not None:
            items.setdefault(snapped.key, snapped)  # the active copy wins: it comes first
    return SnapshotSection(key=section.key, items=tuple(items.values()), state=section.state)


def _snapshot_item(item: SummaryItem, active: bool) -> SnapshotItem | None:
    """What the snapshot keeps of an item; nothing of what the app filed itself (its CareTeam read back
    is not news on the care team)."""
    source = getattr(item, "source", None)
    if source is not None and source.by_this_app:
        return None
    key = item_key(item)
    if isinstance(item, ConditionItem):
        return SnapshotItem(key, item.label, item.status.value, active, category=item.category)
    if isinstance(item, MedicationItem):
        return SnapshotItem(key, item.label, item.status, active, dose_text=item.dose_text)
    if isinstance(item, AllergyItem):
        return SnapshotItem(key, item.label, item.status, active)
    if isinstance(item, EquipmentItem):
        return SnapshotItem(key, item.label, item.status, active, kind=item.kind.value)
    if isinstance(item, EncounterItem):
        if item.kind.value not in HOSPITAL_KINDS:
            return None
        return SnapshotItem(key, item.label, item.status, active, kind=item.kind.value, start=item.start)
    if isinstance(item, CareTeamMember):
        return SnapshotItem(key, item.name, "", active, specialty=item.specialty)
    return None


_ITEM_DEFAULTS = SnapshotItem(key="", label="")


def snapshot_to_json(snapshot: SummarySnapshot) -> dict[str, Any]:
    """Plain JSON for the store; fields at their default are left out to keep it small."""
    return {
        "schema": SNAPSHOT_SCHEMA,
        "sections": [
            {"key": s.key, "state": s.state.value, "items": [_item_to_json(i) for i in s.items]}
            for s in snapshot.sections
        ],
    }


def _item_to_json(item: SnapshotItem) -> dict[str, Any]:
    data: dict[str, Any] = {"key": item.key, "label": item.label}
    for name in ("status", "active", "category", "dose_text", "kind", "specialty"):
        value = getattr(item, name)
        if value != getattr(_ITEM_DEFAULTS, name):
            data[name] = value
    if item.start is not None:
        data["start"] = item.start.isoformat()
    return data


def snapshot_from_json(data: Mapping[str, Any]) -> SummarySnapshot:
    """A snapshot from `snapshot_to_json`; unknown keys are ignored so older code reads newer data."""
    return SummarySnapshot(
        sections=tuple(
            SnapshotSection(
                key=str(s["key"]),
                items=tuple(_item_from_json(i) for i in s.get("items", ())),
                state=SectionState(s.get("state", SectionState.COMPLETE.value)),
            )
            for s in data.get("sections", ())
        )
    )


def _item_from_json(data: Mapping[str, Any]) -> SnapshotItem:
    start = data.get("start")
    return SnapshotItem(
        key=str(data["key"]),
        label=str(data.get("label", "")),
        status=str(data.get("status", "")),
        active=bool(data.get("active", True)),
        category=str(data.get("category", "")),
        dose_text=str(data.get("dose_text", "")),
        kind=str(data.get("kind", "")),
        start=date.fromisoformat(start) if start else None,
        specialty=str(data.get("specialty", "")),
    )


# ---------------------------------------------------------------------------------------------------
# What changed since the plan was signed
# ---------------------------------------------------------------------------------------------------


class EventKind(StrEnum):
    ED_VISIT = "ed-visit"
    ADMISSION = "admission"
    CONDITION_NEW = "condition-new"
    CONDITION_CHANGED = "condition-changed"
    CONDITION_RESOLVED = "condition-resolved"
    CONDITION_REMOVED = "condition-removed"  # no longer in the EHR's list at all
    MEDICATION_STARTED = "medication-started"
    MEDICATION_STOPPED = "medication-stopped"
    MEDICATION_CHANGED = "medication-changed"
    ALLERGY_NEW = "allergy-new"
    ALLERGY_REMOVED = "allergy-removed"
    EQUIPMENT_NEW = "equipment-new"
    EQUIPMENT_REMOVED = "equipment-removed"
    NEW_SPECIALIST = "new-specialist"
    GOAL_PAST_TARGET = "goal-past-target"
    UPDATED_IN_EHR = "updated-in-ehr"  # changed in the EHR in a way the snapshot does not keep


EVENT_TITLES: Mapping[EventKind, str] = {
    EventKind.ED_VISIT: "Emergency department visit",
    EventKind.ADMISSION: "Hospital admission",
    EventKind.CONDITION_NEW: "New condition",
    EventKind.CONDITION_CHANGED: "Condition changed",
    EventKind.CONDITION_RESOLVED: "Condition resolved",
    EventKind.CONDITION_REMOVED: "Condition no longer listed",
    EventKind.MEDICATION_STARTED: "Medication started",
    EventKind.MEDICATION_STOPPED: "Medication stopped",
    EventKind.MEDICATION_CHANGED: "Medication changed",
    EventKind.ALLERGY_NEW: "New allergy",
    EventKind.ALLERGY_REMOVED: "Allergy no longer listed",
    EventKind.EQUIPMENT_NEW: "New equipment",
    EventKind.EQUIPMENT_REMOVED: "Equipment no longer in use",
    EventKind.NEW_SPECIALIST: "New on the care team",
    EventKind.GOAL_PAST_TARGET: "Goal past its target date",
    EventKind.UPDATED_IN_EHR: "Record updated in the EHR",
}


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """One thing that happened since the plan was signed. `key` is the summary item's key (or the
    plan goal's id); `significant` events make the review due now."""

    kind: EventKind
    key: str
    label: str
    detail: str = ""
    significant: bool = False
    on: date | None = None  # when it happened, where the record says

    @property
    def title(self) -> str:
        return EVENT_TITLES[self.kind]

    @property
    def event_id(self) -> str:
        """A stable id for "mark reviewed" and "add an action for this"."""
        return f"{self.kind.value}:{self.key}"


def changes_since(
    before: SummarySnapshot,
    now: SummarySnapshot | MedicalSummary,
    *,
    signed_on: date,
    plan: Plan,
    today: date,
    inclusive_signing_day: bool = False,
) -> tuple[HealthEvent, ...]:
    """Health events between the signed version's snapshot and today's record, most serious first.

    ED visits and admissions count from the day after `signed_on`, or from `signed_on` itself with
    `inclusive_signing_day`: pass it when `before` was taken at the signing, so that a stay it lacks,
    even one on that day, was recorded after it."""
    current = now if isinstance(now, SummarySnapshot) else snapshot_of(now)
    stays_from = signed_on if inclusive_signing_day else signed_on + timedelta(days=1)
    events: list[HealthEvent] = []
    for key in TRACKED_SECTIONS:
        was, is_now = before.section(key), current.section(key)
        if {was.state, is_now.state} & {SectionState.FAILED, SectionState.NOT_OFFERED}:
            continue  # not known then or now: see unchecked_sections
        events += _DIFFS[key](was, is_now, stays_from, today)
    events += goals_past_target(plan, today)
    return tuple(sorted(events, key=lambda e: not e.significant))


def unchecked_sections(before: SummarySnapshot, now: MedicalSummary | SummarySnapshot
                       ) -> tuple[tuple[str, SectionState, bool], ...]:
    """The tracked sections whose changes are not (fully) known: (key, state, at_signing), where
    `at_signing` says the gap was in the record kept at signing rather than in today's."""
    current = now if isinstance(now, SummarySnapshot) else snapshot_of(now)
    found = []
    for key in TRACKED_SECTIONS:
        was, is_now = before.section(key), current.section(key)
        if is_now.state is not SectionState.COMPLETE:
            found.append((key, is_now.state, False))
        elif was.state is not SectionState.COMPLETE:
            found.append((key, was.state, True))
    return tuple(found)


def without_reviewed(events: Iterable[HealthEvent], reviewed: Collection[str]) -> tuple[HealthEvent, ...]:
    """The events not yet marked reviewed (`reviewed` holds their `event_id`s)."""
    return tuple(e for e in events if e.event_id not in reviewed)


def _removals_known(section: SnapshotSection) -> bool:
    return section.state is SectionState.COMPLETE


def _hospital_stays(
    was: SnapshotSection, now: SnapshotSection, stays_from: date, today: date
) -> list[HealthEvent]:
    known = was.by_key()
    events = []
    for stay in now.items:
        if stay.key in known or stay.start is None or not stays_from <= stay.start <= today:
            continue
        kind = EventKind.ED_VISIT if stay.kind == EncounterKind.EMERGENCY.value else EventKind.ADMISSION
        events.append(
            HealthEvent(kind, stay.key, stay.label, f"on {stay.start.isoformat()}", True, stay.start)
        )
    return sorted(events, key=lambda e: e.on or date.min)


def _conditions(
    was: SnapshotSection, now: SnapshotSection, stays_from: date, today: date
) -> list[HealthEvent]:
    known, current = was.by_key(), now.by_key()
    events = []
    for key, item in current.items():
        old = known.get(key)
        if old is None:
            chronic = item.active and item.category.casefold() not in NOT_CHRONIC_CATEGORIES
            events.append(
                HealthEvent(EventKind.CONDITION_NEW, key, item.label, _status_detail(item), chronic)
            )
        elif old.active and not item.active:
            events.append(HealthEvent(EventKind.CONDITION_RESOLVED, key, item.label, f"now {item.status}"))
        elif (old.label, old.status) != (item.label, item.status):
            events.append(
                HealthEvent(EventKind.CONDITION_CHANGED, key, item.label, _was_now(old, item, "status"))
            )
    if _removals_known(now):
        events += [
            HealthEvent(EventKind.CONDITION_REMOVED, key, old.label, "no longer in the EHR's list")
            for key, old in known.items()
            if key not in current
        ]
    return events


def _medications(
    was: SnapshotSection, now: SnapshotSection, stays_from: date, today: date
) -> list[HealthEvent]:
    known, current = was.by_key(), now.by_key()
    events = []
    for key, item in current.items():
        old = known.get(key)
        if old is None:
            detail = item.dose_text if item.active else f"{item.dose_text} (now {item.status})".strip()
            events.append(HealthEvent(EventKind.MEDICATION_STARTED, key, item.label, detail))
        elif old.active and not item.active:
            events.append(HealthEvent(EventKind.MEDICATION_STOPPED, key, item.label, f"now {item.status}"))
        elif not old.active and item.active:
            events.append(
                HealthEvent(EventKind.MEDICATION_STARTED, key, item.label, f"restarted: {item.dose_text}")
            )
        elif (old.label, old.dose_text) != (item.label, item.dose_text):
            events.append(
                HealthEvent(EventKind.MEDICATION_CHANGED, key, item.label, _was_now(old, item, "dose_text"))
            )
    if _removals_known(now):
        events += [
            HealthEvent(EventKind.MEDICATION_STOPPED, key, old.label, "no longer in the EHR's list")
            for key, old in known.items()
            if key not in current and old.active
        ]
    return events


def _allergies(was: SnapshotSection, now: SnapshotSection, stays_from: date, today: date) -> list[HealthEvent]:
    return _added_or_removed(was, now, EventKind.ALLERGY_NEW, EventKind.ALLERGY_REMOVED)


def _equipment(was: SnapshotSection, now: SnapshotSection, stays_from: date, today: date) -> list[HealthEvent]:
    return _added_or_removed(was, now, EventKind.EQUIPMENT_NEW, EventKind.EQUIPMENT_REMOVED)


def _added_or_removed(
    was: SnapshotSection, now: SnapshotSection, added: EventKind, removed: EventKind
) -> list[HealthEvent]:
    """Items that appeared (in use now), and items in use then that stopped or are gone."""
    known, current = was.by_key(), now.by_key()
    events = [
        HealthEvent(added, key, item.label, item.kind or _status_detail(item))
        for key, item in current.items()
        if key not in known and item.active
    ]
    for key, old in known.items():
        item = current.get(key)
        if not old.active:
            continue
        if item is not None and not item.active:
            events.append(HealthEvent(removed, key, old.label, f"now {item.status}"))
        elif item is None and _removals_known(now):
            events.append(HealthEvent(removed, key, old.label, "no longer in the EHR's list"))
    return events


def _care_team(was: SnapshotSection, now: SnapshotSection, stays_from: date, today: date) -> list[HealthEvent]:
    known = was.by_key()
    return [
        HealthEvent(EventKind.NEW_SPECIALIST, item.key, item.label, item.specialty)
        for item in now.items
        if item.key not in known and item.active
    ]


_DIFFS = {
    "encounters": _hospital_stays,
    "conditions": _conditions,
    "medications": _medications,
    "allergies": _allergies,
    "equipment": _equipment,
    "care_team": _care_team,
}


# What the record's items are called in an "updated in the EHR" event, by section.
UPDATED_ITEM_NOUNS: Mapping[str, str] = {
    "encounters": "hospital stay",
    "conditions": "condition",
    "medications": "medication order",
    "allergies": "allergy",
    "equipment": "equipment record",
    "care_team": "care team entry",
}


def updated_in_ehr(
    updated: Collection[str],
    now: SummarySnapshot | MedicalSummary,
    reported: Iterable[HealthEvent],
) -> tuple[HealthEvent, ...]:
    """Today's items whose resource the EHR says changed since the signing (`updated` holds "Type/id"
    references, from `_lastUpdated`) and that no event in `reported` already names: one event each,
    not significant. Items gone from today's summary are left to the snapshot diff."""
    current = now if isinstance(now, SummarySnapshot) else snapshot_of(now)
    named = {event.key for event in reported}
    events: dict[str, HealthEvent] = {}
    for key in TRACKED_SECTIONS:
        section = current.section(key)
        if section.state is SectionState.FAILED:
            continue
        for item in section.items:
            if item.key in updated and item.key not in named:
                detail = f"{UPDATED_ITEM_NOUNS[key]} changed since signing"
                events.setdefault(item.key, HealthEvent(EventKind.UPDATED_IN_EHR, item.key, item.label, detail))
    return tuple(events.values())


def goals_past_target(plan: Plan, today: date) -> list[HealthEvent]:
    """Plan goals whose target date has passed while still open."""
    closed = (GoalLifecycle.COMPLETED, GoalLifecycle.CANCELLED)
    return [
        HealthEvent(
            EventKind.GOAL_PAST_TARGET,
            goal.goal_id,
            goal.text,
            f"target was {goal.target_date.isoformat()}",
            on=goal.target_date,
        )
        for goal in plan.goals
        if goal.target_date is not None and goal.target_date < today and goal.lifecycle not in closed
    ]


def _status_detail(item: SnapshotItem) -> str:
    return "" if item.active or not item.status else item.status


def _was_now(old: SnapshotItem, new: SnapshotItem, field: str) -> str:
    if old.label != new.label:
        return f"was {old.label}"
    return f"was {getattr(old, field) or 'not given'}, now {getattr(new, field) or 'not given'}"


# ---------------------------------------------------------------------------------------------------
# When the plan is due for review
# ---------------------------------------------------------------------------------------------------


class ReviewState(StrEnum):
    NOT_SIGNED = "not-signed"
    NOT_DUE = "not-due"
    DUE_SOON = "due-soon"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    due_date: date | None
    state: ReviewState
    reason: str

    @property
    def needs_attention(self) -> bool:
        """Shown first on launch."""
        return self.state in (ReviewState.DUE, ReviewState.OVERDUE)


def next_review_date(signed_on: date, review_months: int = DEFAULT_REVIEW_MONTHS) -> date:
    return add_months(signed_on, review_months)


def review_status(
    plan: Plan,
    *,
    signed_on: date | None,
    events: Iterable[HealthEvent],
    today: date,
    review_months: int = DEFAULT_REVIEW_MONTHS,
    family_asks: int = 0,
) -> ReviewStatus:
    """Due `review_months` after signing (the plan's own `next_review` when it set one), due soon in
    the last 30 days before, and due now whenever a significant health event happened since or the
    family is waiting on something (`family_asks`: plan.family.open_family_asks)."""
    signed = signed_on or (plan.signed_at.date() if plan.signed_at else None)
    if signed is None:
        return ReviewStatus(None, ReviewState.NOT_SIGNED, "The plan has not been signed yet.")
    due = plan.next_review or next_review_date(signed, review_months)
    significant = [e for e in events if e.significant]
    if today > due:
        return ReviewStatus(due, ReviewState.OVERDUE, f"The review was due on {due.isoformat()}.")
    if significant:
        return ReviewStatus(due, ReviewState.DUE, _because_of(significant, signed))
    if family_asks:
        noun = "request" if family_asks == 1 else "requests"
        return ReviewStatus(due, ReviewState.DUE, f"The family has {family_asks} open {noun} about the plan: "
                                                  "review it now.")
    if today == due:
        return ReviewStatus(due, ReviewState.DUE, f"The review is due today, {due.isoformat()}.")
    if today >= due - timedelta(days=DUE_SOON_DAYS):
        return ReviewStatus(due, ReviewState.DUE_SOON, f"The review is due on {due.isoformat()}.")
    return ReviewStatus(due, ReviewState.NOT_DUE, f"Next review on {due.isoformat()}.")


def _because_of(significant: list[HealthEvent], signed: date) -> str:
    count = len(significant)
    noun = "health event" if count == 1 else "health events"
    titles = ", ".join(dict.fromkeys(e.title.lower() for e in significant))
    return f"{count} new {noun} since the plan was signed on {signed.isoformat()} ({titles}): review it now."


# ---------------------------------------------------------------------------------------------------
# Who owes what, by when
# ---------------------------------------------------------------------------------------------------

CLOSED_ACTIONS = frozenset({ActionStatus.DONE, ActionStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class OwnerRow:
    """One person's (or an unnamed role's) open actions, overdue first, then soonest due (undated
    last), and how many are overdue. `owner` is the one the label names."""

    owner: Owner
    label: str
    actions: tuple[NegotiatedAction, ...]
    overdue: int


def is_open(action: NegotiatedAction) -> bool:
    return action.status not in CLOSED_ACTIONS


def is_overdue(action: NegotiatedAction, today: date) -> bool:
    return is_open(action) and action.due is not None and action.due < today


def overdue_actions(plan: Plan, today: date) -> tuple[OwnerRow, ...]:
    """The overdue actions (due before today, neither done nor cancelled), grouped by owner."""
    return _by_owner([a for a in plan.actions if is_overdue(a, today)], today)


def who_owes_what(plan: Plan, today: date) -> tuple[OwnerRow, ...]:
    """Every open action, grouped by person; people by their soonest due date (so those with overdue
    actions first), people with undated actions only last."""
    return _by_owner([a for a in plan.actions if is_open(a)], today)


def _by_owner(actions: Iterable[NegotiatedAction], today: date) -> tuple[OwnerRow, ...]:
    """One row per person: by FHIR reference, else by name (titles and credentials aside), else by
    role. An action owned by a role alone goes to the one person owning actions in that role, when
    there is exactly one."""
    groups: dict[PersonKey, list[NegotiatedAction]] = {}
    for action in actions:
        groups.setdefault(owner_identity(action.owner), []).append(action)
    for key in [k for k in groups if k.kind == "role"]:
        people = {k for k, owned in groups.items() if k.kind != "role" and any(a.owner.role.value == key.value
                                                                                for a in owned)}
        if len(people) == 1:
            groups[people.pop()].extend(groups.pop(key))
    rows = []
    for owned in groups.values():
        # Soonest due first, undated last: the overdue ones, due before today, come first.
        ordered = tuple(sorted(owned, key=lambda a: (a.due is None, a.due or date.max)))
        owner = _best_named(ordered)
        rows.append(OwnerRow(owner, owner_label(owner), ordered, sum(is_overdue(a, today) for a in ordered)))
    return tuple(sorted(rows, key=lambda r: (r.actions[0].due or date.max, r.label.casefold())))


def _best_named(actions: tuple[NegotiatedAction, ...]) -> Owner:
    """The owner to name a person's row by: the fullest name given, in the role they most often own."""
    named = [a.owner for a in actions if owner_identity(a.owner).kind != "role"]
    if not named:  # a role, no one in particular
        return Owner(actions[0].owner.role)
    roles = [o.role for o in named]
    role = max(dict.fromkeys(roles), key=roles.count)
    return max((o for o in named if o.role is role), key=lambda o: len(o.name.strip()))
