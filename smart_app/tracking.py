"""The living document as a service: the record's snapshot taken when a plan is signed, what changed
since, when the plan is due for review, and the outcome indicators.

Layer: shell services. Knows nothing of Flask: views pass the launch, its tenant and today. The rules
themselves live in plan.review_cycle and plan.indicators; this module loads, fetches and saves.

Where the EHR supports `_lastUpdated`, the review also asks which of the patient's resources changed
since the signing, to report changes the snapshot diff cannot see; when it cannot be asked, or fails,
the snapshot diff alone stands (it runs everywhere).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .audit import AuditTrail
from .ehr import EhrAccess
from .errors import SmartAppError
from .fhir.queries import UpdatedSince, fetch_updated_since
from .plan import negotiation as n
from .plan.indicators import (
    ActionsOnTime,
    GoalProgress,
    HospitalUseRates,
    actions_on_time,
    hospital_use_before_and_since,
    progress_by_goal,
)
from .plan.model import ROLE_LABELS, Owner, Plan, PlanState, PlanVersion, Role
from .plan.negotiation import Actor
from .plan.record import SectionFetch, SectionState, SourceRecord
from .plan.review_cycle import (
    DEFAULT_REVIEW_MONTHS,
    TRACKED_SECTIONS,
    EventKind,
    HealthEvent,
    ReviewState,
    ReviewStatus,
    changes_since,
    goals_past_target,
    review_status,
    snapshot_of,
    updated_in_ehr,
    without_reviewed,
)
from .plan.summary import MedicalSummary, summarize
from .planning import Conflict, change_plan
from .session import LaunchSession
from .store.plans import PlanStore
from .store.tracking import SigningSnapshot, TrackingStore
from .tenants import Tenant

log = logging.getLogger("smart_app.tracking")

FOLLOW_UP_DAYS = 14  # the due date of an action added for a health event; the coordinator may change it


@dataclass(frozen=True, slots=True)
class ReviewPicture:
    """Where the plan stands in its review cycle, for the progress page and the summary's banner."""

    current: PlanVersion | None
    signed: PlanVersion | None  # the latest signed version: the baseline of "what changed"
    signed_on: date | None
    baseline_known: bool  # False when no snapshot was kept at signing: only goals can be checked
    all_events: tuple[HealthEvent, ...]
    events: tuple[HealthEvent, ...]  # not marked reviewed yet
    status: ReviewStatus

    @property
    def revision_open(self) -> bool:
        """A new revision of the signed plan is being drafted."""
        return self.signed is not None and self.current is not None and self.current.version != self.signed.version

    @property
    def reviewed_count(self) -> int:
        return len(self.all_events) - len(self.events)

    @property
    def needs_attention(self) -> bool:
        """Shown first on launch: the review is due or overdue, or something new happened."""
        return self.signed is not None and (self.status.needs_attention or bool(self.events))

    def event(self, event_id: str) -> HealthEvent | None:
        return next((e for e in self.all_events if e.event_id == event_id), None)


@dataclass(frozen=True, slots=True)
class Indicators:
    plan_start: date | None  # the day the plan was first signed
    hospital_use: HospitalUseRates | None  # None before the first signing or when encounters failed
    hospital_use_complete: bool  # False when the encounter list was capped: counts are minimums
    goals: tuple[GoalProgress, ...]
    actions: ActionsOnTime | None


class Tracking:
    """`review_months` is the site's interval (Tenant.review_months); signing already wrote the next
    review date into the plan with it, so it only matters for a plan signed without one."""

    def __init__(self, plans: PlanStore, store: TrackingStore, ehr: EhrAccess, audit: AuditTrail, *,
                 review_months: int = DEFAULT_REVIEW_MONTHS) -> None:
        self.plans = plans
        self.store = store
        self.ehr = ehr
        self.audit = audit
        self.review_months = review_months

    # -- the record ---------------------------------------------------------------------------------

    def current_summary(self, launch: LaunchSession, tenant: Tenant, *, today: date,
                        fetched: Mapping[str, SectionFetch] | None = None) -> MedicalSummary:
        """Today's summary of the tracked sections; sections in `fetched` are not fetched again."""
        sections = {key: fetch for key, fetch in (fetched or {}).items() if key in TRACKED_SECTIONS}
        missing = tuple(key for key in TRACKED_SECTIONS if key not in sections)
        if missing:
            sections.update((f.key, f) for f in self.ehr.summary_sections(launch, tenant, today=today, keys=missing))
        return summarize(SourceRecord(launch.patient_id, sections), today=today)

    def record_signing(self, launch: LaunchSession, tenant: Tenant, version: PlanVersion, *,
                       today: date) -> SigningSnapshot | None:
        """Keep the record as it is now with the version just signed; None when the EHR could not be read
        (the plan stays signed; what changed since is then unknown and the page says so)."""
        try:
            summary = self.current_summary(launch, tenant, today=today)
        except SmartAppError as err:
            log.warning("signing_snapshot_failed kind=%s", type(err).__name__)
            return None
        signed_at = version.plan.signed_at or version.saved_at
        taken = SigningSnapshot(plan_id=version.plan_id, version=version.version, signed_on=signed_at.date(),
                                snapshot=snapshot_of(summary))
        self.store.save_snapshot(launch.iss, launch.patient_id, taken, at=datetime.now(UTC))
        return taken

    # -- the review cycle ---------------------------------------------------------------------------

    def review(self, launch: LaunchSession, summary: MedicalSummary, *, today: date,
               tenant: Tenant | None = None) -> ReviewPicture:
        """Where the plan stands. With `tenant`, the review also asks that EHR (`_lastUpdated`) what
        changed since the signing; without one it relies on the snapshot diff alone."""
        current = self.plans.current(launch.iss, launch.patient_id)
        signed = self.plans.latest_signed(launch.iss, launch.patient_id)
        if signed is None:
            plan = current.plan if current else Plan()
            status = review_status(plan, signed_on=None, events=(), today=today, review_months=self.review_months)
            return ReviewPicture(current, None, None, False, (), (), status)
        taken = self.store.snapshot(signed.plan_id, signed.version)
        signed_on = taken.signed_on if taken else _signed_on(signed)
        found = self._changes(launch, signed, taken, summary, today=today,
                              tenant=tenant)
        unreviewed = without_reviewed(found, self.store.reviewed(launch.iss, launch.patient_id, signed.version))
        status = review_status(signed.plan, signed_on=signed_on, events=unreviewed, today=today,
                               review_months=self.review_months)
        return ReviewPicture(current, signed, signed_on, taken is not None, found, unreviewed, status)

    def _changes(self, launch: LaunchSession, signed: PlanVersion, taken: SigningSnapshot | None,
                 summary: MedicalSummary, *, today: date, tenant: Tenant | None) -> tuple[HealthEvent, ...]:
        """The snapshot diff, then what the EHR says was updated since the signing that the diff misses."""
        if taken is None:
            return tuple(goals_past_target(signed.plan, today))
        found = changes_since(taken.snapshot, summary, signed_on=taken.signed_on, plan=signed.plan, today=today,
                              inclusive_signing_day=True)  # record_signing takes the snapshot at the signing
        signed_at = signed.plan.signed_at
        if signed_at is None or tenant is None:
            return found
        return found + updated_in_ehr(self.updated_since(launch, tenant, signed_at).references, summary, found)

    def updated_since(self, launch: LaunchSession, tenant: Tenant, since: datetime) -> UpdatedSince:
        """What the EHR says changed for the patient since `since`; nothing when it cannot say."""
        try:
            gateway = self.ehr.gateway(launch, tenant)
            return fetch_updated_since(gateway, launch.patient_id, since, self.ehr.capabilities(tenant, gateway),
                                       page_size=tenant.quirks.page_size)
        except SmartAppError as err:
            log.info("updated_since_unavailable kind=%s", type(err).__name__)
            return UpdatedSince()

    def mark_reviewed(self, launch: LaunchSession, picture: ReviewPicture, event: HealthEvent, *, by: str) -> None:
        assert picture.signed is not None
        self.store.mark_reviewed(launch.iss, launch.patient_id, picture.signed.version, event.event_id, by=by,
                                 at=datetime.now(UTC))
        self.audit.record("plan-event-reviewed", "success", iss=launch.iss, patient_id=launch.patient_id,
                          user=launch.fhir_user, launch_id=launch.launch_id, kind=event.kind.value,
                          version=picture.signed.version)

    # -- changing the plan for what happened ---------------------------------------------------------

    def add_action_for(self, launch: LaunchSession, actor: Actor, event: HealthEvent, *, base_version: int | None,
                       action_id: str, today: date) -> PlanVersion | Conflict:
        """One click: the action "follow up on this event", owned by the coordinator, in a new revision
        when the plan is signed (the same compare-and-swap save as every other change)."""
        def change(plan: Plan, actor: Actor, now: datetime) -> Plan:
            draft = n.open_revision(plan, actor, now) if plan.state is PlanState.SIGNED else plan
            return n.add_action(draft, actor, now, action_id=action_id, text=follow_up_text(event),
                                owner=Owner(Role.COORDINATOR, actor.name), goal_id=_goal_of(event, draft),
                                due=today + timedelta(days=FOLLOW_UP_DAYS), condition_refs=_conditions_of(event))

        note = f"{actor.name} ({ROLE_LABELS[actor.role]}) added an action for a health event"
        return change_plan(self.plans, self.audit, launch, actor, base_version=base_version, change=change,
                           note=note, action="add-action-for-event")

    def open_revision(self, launch: LaunchSession, actor: Actor, *, base_version: int | None) -> PlanVersion | Conflict:
        note = f"{actor.name} ({ROLE_LABELS[actor.role]}) opened a new revision for the review"
        return change_plan(self.plans, self.audit, launch, actor, base_version=base_version,
                           change=lambda plan, actor, now: n.open_revision(plan, actor, now), note=note,
                           action="open-revision")

    # -- indicators ----------------------------------------------------------------------------------

    def indicators(self, launch: LaunchSession, summary: MedicalSummary, *, today: date) -> Indicators:
        current = self.plans.current(launch.iss, launch.patient_id)
        if current is None:
            return Indicators(None, None, False, (), None)
        history = self.plans.history(current.plan_id)
        first_signed = next((v for v in history if v.plan.state is PlanState.SIGNED), None)
        plan_start = _signed_on(first_signed) if first_signed else None
        encounters = summary.section("encounters")
        hospital_use = None
        if plan_start is not None and encounters.state is not SectionState.FAILED:
            hospital_use = hospital_use_before_and_since((*encounters.active, *encounters.inactive), plan_start, today)
        return Indicators(
            plan_start=plan_start,
            hospital_use=hospital_use,
            hospital_use_complete=encounters.state is SectionState.COMPLETE,
            goals=progress_by_goal(history),
            actions=actions_on_time(current.plan, history, today=today),
        )


def follow_up_text(event: HealthEvent) -> str:
    """"Follow up on the emergency department visit: Emergency admission, on 2026-03-02"."""
    detail = f", {event.detail}" if event.detail else ""
    title = event.title[:1].lower() + event.title[1:]  # "record updated in the EHR" keeps its capitals
    return f"Follow up on the {title}: {event.label}{detail}"


def _goal_of(event: HealthEvent, plan: Plan) -> str | None:
    if event.kind is EventKind.GOAL_PAST_TARGET and plan.goal(event.key) is not None:
        return event.key
    return None


def _conditions_of(event: HealthEvent) -> tuple[str, ...]:
    return (event.key,) if event.key.startswith("Condition/") else ()


def _signed_on(version: PlanVersion) -> date:
    return (version.plan.signed_at or version.saved_at).date()


__all__ = ["Indicators", "ReviewPicture", "ReviewState", "Tracking", "follow_up_text"]
