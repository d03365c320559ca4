"""The living document as a service: the record's snapshot taken when a plan is signed, what changed
since, when the plan is due for review, and the outcome indicators.

Layer: services. Knows nothing of Flask: views pass the launch and its tenant. The rules themselves
live in plan.review_cycle and plan.indicators; this module loads, fetches and saves. The signing
snapshot itself is taken by the planning service, in the save that signs.

Where the EHR supports `_lastUpdated`, the review also asks which of the patient's resources changed
since the signing, to report changes the snapshot diff cannot see; when it cannot be asked, or fails,
the snapshot diff alone stands (it runs everywhere).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..audit import AuditTrail
from ..clock import Clock
from ..errors import InvalidInput, SmartAppError
from ..fhir.queries import UpdatedSince, fetch_updated_since, section_tasks
from ..plan import negotiation as n
from ..plan.family import open_family_asks
from ..plan.indicators import (
    ActionsOnTime,
    GoalProgress,
    HospitalUseRates,
    actions_on_time,
    hospital_use_before_and_since,
    progress_by_goal,
)
from ..plan.model import Owner, Plan, PlanState, PlanVersion, Role
from ..plan.negotiation import Actor
from ..plan.record import SectionFetch, SectionState
from ..plan.review_cycle import (
    TRACKED_SECTIONS,
    EventKind,
    HealthEvent,
    ReviewState,
    ReviewStatus,
    changes_since,
    goals_past_target,
    review_status,
    unchecked_sections,
    updated_in_ehr,
    without_reviewed,
)
from ..plan.summary import MedicalSummary
from ..session import LaunchSession
from ..store.schema import EVENT_ID_LENGTH
from ..store.family_store import FamilyStore
from ..store.tracking_store import SigningSnapshot, TrackingStore
from ..tenants import Tenant
from .ehr_access import EhrAccess, profile_for
from .planning import Conflict, PlanningService
from .summary import SummaryService

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
    unchecked: tuple[tuple[str, SectionState, bool], ...] = ()  # review_cycle.unchecked_sections

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


class TrackingService:
    """`review_months` comes from the tenant (Tenant.review_months); signing already wrote the next
    review date into the plan with it, so it only matters for a plan signed without one."""

    def __init__(self, planning: PlanningService, snapshots: TrackingStore, summary: SummaryService,
                 ehr: EhrAccess, audit: AuditTrail, clock: Clock, family: FamilyStore) -> None:
        self.family = family
        self.planning = planning
        self.snapshots = snapshots
        self.summary = summary
        self.ehr = ehr
        self.audit = audit
        self.clock = clock

    # -- the record ---------------------------------------------------------------------------------

    def current_summary(self, launch: LaunchSession, tenant: Tenant, *,
                        fetched: Mapping[str, SectionFetch] | None = None) -> MedicalSummary:
        """Today's summary of the tracked sections; sections in `fetched` are not fetched again."""
        if fetched is None:
            self.ask_changes_early(launch, tenant)
        return self.summary.summary(launch, tenant, TRACKED_SECTIONS, fetched=fetched).medical_summary()

    def fetches(self, launch: LaunchSession, tenant: Tenant, keys: Sequence[str]) -> Iterator[SectionFetch]:
        """The summary's sections as they arrive (SummaryService.fetches); when they are all the review
        needs, what changed in the EHR since the signing is asked at the same time, not after them."""
        if set(TRACKED_SECTIONS) <= set(keys):
            self.ask_changes_early(launch, tenant)
        return self.summary.fetches(launch, tenant, keys)

    def ask_changes_early(self, launch: LaunchSession, tenant: Tenant) -> None:
        """Send the review's `_lastUpdated` searches with the summary's first round: the signing time is
        in our store, so they wait for nothing the summary fetches. Their answers stay in the launch's
        gateway (it never sends a GET twice), where `updated_since` finds them once the sections are in."""
        section_tasks().submit(self._ask_changes, launch, tenant)

    def _ask_changes(self, launch: LaunchSession, tenant: Tenant) -> None:
        signed = self.planning.latest_signed(launch)
        if signed is None or signed.plan.signed_at is None:
            return
        gateway = self.ehr.gateway(launch, tenant)
        try:  # the capabilities last read decide now; on a site's first launch, the one `metadata` read
            capabilities = self.ehr.known_capabilities(tenant) or self.ehr.capabilities(tenant, gateway)
            fetch_updated_since(gateway, launch.patient_id, signed.plan.signed_at, capabilities,
                                profile=profile_for(tenant))
        except SmartAppError as err:
            log.info("updated_since_unavailable kind=%s", type(err).__name__)

    # -- the review cycle ---------------------------------------------------------------------------

    def review(self, launch: LaunchSession, tenant: Tenant, summary: MedicalSummary) -> ReviewPicture:
        """Where the plan stands, from the snapshot diff and what the EHR says changed since signing."""
        today = self.clock.today()
        current = self.planning.current(launch)
        signed = self.planning.latest_signed(launch)
        if signed is None:
            plan = current.plan if current else Plan()
            status = review_status(plan, signed_on=None, events=(), today=today, review_months=tenant.review_months)
            return ReviewPicture(current, None, None, False, (), (), status)
        taken = self.snapshots.snapshot(signed.plan_id, signed.version)
        signed_on = taken.signed_on if taken else self._signed_on(signed)
        found = self._changes(launch, tenant, signed, taken, summary)
        unreviewed = without_reviewed(found, self.snapshots.reviewed(launch.iss, launch.patient_id, signed.version))
        asks = open_family_asks(current.plan if current else None, self.family.requests(launch.iss, launch.patient_id))
        status = review_status(signed.plan, signed_on=signed_on, events=unreviewed, today=today,
                               review_months=tenant.review_months, family_asks=asks)
        unchecked = unchecked_sections(taken.snapshot, summary) if taken else ()
        return ReviewPicture(current, signed, signed_on, taken is not None, found, unreviewed, status, unchecked)

    def review_for_banner(self, launch: LaunchSession, tenant: Tenant,
                          fetched: Mapping[str, SectionFetch]) -> ReviewPicture | None:
        """The summary page's review banner from the sections it just streamed; None when there is no
        signed plan, when the page fetched only some sections (a retry: the banner shown stays), or
        when the EHR could not be asked."""
        if not set(TRACKED_SECTIONS) <= set(fetched) or self.planning.latest_signed(launch) is None:
            return None
        try:
            return self.review(launch, tenant, self.current_summary(launch, tenant, fetched=fetched))
        except SmartAppError:
            return None

    def _changes(self, launch: LaunchSession, tenant: Tenant, signed: PlanVersion, taken: SigningSnapshot | None,
                 summary: MedicalSummary) -> tuple[HealthEvent, ...]:
        """The snapshot diff, then what the EHR says was updated since the signing that the diff misses."""
        today = self.clock.today()
        if taken is None:
            return tuple(goals_past_target(signed.plan, today))
        found = changes_since(taken.snapshot, summary, signed_on=taken.signed_on, plan=signed.plan, today=today,
                              inclusive_signing_day=True)  # the snapshot is taken at the signing
        signed_at = signed.plan.signed_at
        if signed_at is None:
            return found
        return found + updated_in_ehr(self.updated_since(launch, tenant, signed_at).references, summary, found)

    def updated_since(self, launch: LaunchSession, tenant: Tenant, since: datetime) -> UpdatedSince:
        """What the EHR says changed for the patient since `since`; nothing when it cannot say."""
        try:
            gateway = self.ehr.gateway(launch, tenant)
            return fetch_updated_since(gateway, launch.patient_id, since, self.ehr.capabilities(tenant, gateway),
                                       profile=profile_for(tenant))
        except SmartAppError as err:
            log.info("updated_since_unavailable kind=%s", type(err).__name__)
            return UpdatedSince()

    def event(self, launch: LaunchSession, tenant: Tenant, event_id: str) -> tuple[ReviewPicture, HealthEvent]:
        """The review as it stands and one of its events; InvalidInput when it is no longer listed."""
        if not event_id or len(event_id) > EVENT_ID_LENGTH:
            raise InvalidInput("That health event could not be found.")
        picture = self.review(launch, tenant, self.current_summary(launch, tenant))
        event = picture.event(event_id)
        if event is None or picture.signed is None:
            raise InvalidInput("That health event is no longer listed. Reload the page.")
        return picture, event

    def mark_reviewed(self, launch: LaunchSession, tenant: Tenant, event_id: str, *, signed_version: str) -> None:
        actor = self.planning.actor(launch, tenant)
        picture, event = self.event(launch, tenant, event_id)
        self.planning.require(actor, n.Command.MARK_REVIEWED, picture.signed.plan)
        if str(picture.signed.version) != signed_version:
            raise InvalidInput("The plan was signed again since this page was loaded. Reload the page.")
        self.snapshots.mark_reviewed(launch.iss, launch.patient_id, picture.signed.version, event.event_id,
                                     by=actor.name, at=self.clock.now())
        self.audit.record("plan-event-reviewed", "success", iss=launch.iss, patient_id=launch.patient_id,
                          user=launch.fhir_user, launch_id=launch.launch_id, kind=event.kind.value,
                          version=picture.signed.version)

    # -- changing the plan for what happened ---------------------------------------------------------

    def add_action_for(self, launch: LaunchSession, tenant: Tenant, event_id: str, *, base_version: int | None,
                       action_id: str) -> PlanVersion | Conflict:
        """One click: the action "follow up on this event", owned by the coordinator, in a new revision
        when the plan is signed (the same compare-and-swap save as every other change)."""
        actor = self.planning.actor(launch, tenant)
        self.planning.require(actor, n.Command.ADD_ACTION)
        _, event = self.event(launch, tenant, event_id)
        due = self.clock.today() + timedelta(days=FOLLOW_UP_DAYS)

        def change(plan: Plan, actor: Actor, now: datetime) -> Plan:
            draft = n.open_revision(plan, actor, now) if plan.state is PlanState.SIGNED else plan
            return n.add_action(draft, actor, now, action_id=action_id, text=follow_up_text(event),
                                owner=Owner(Role.COORDINATOR, actor.name), goal_id=_goal_of(event, draft),
                                due=due, condition_refs=_conditions_of(event))

        return self.planning.change(launch, tenant, actor, base_version=base_version, change=change,
                                    note=self.planning.change_phrase(actor, "added an action for a health event"),
                                    action="add-action-for-event")

    def open_revision(self, launch: LaunchSession, tenant: Tenant, *,
                      base_version: int | None) -> PlanVersion | Conflict:
        actor = self.planning.actor(launch, tenant)
        self.planning.require(actor, n.Command.OPEN_REVISION, _signed_plan())
        return self.planning.change(launch, tenant, actor, base_version=base_version,
                                    change=lambda plan, actor, now: n.open_revision(plan, actor, now),
                                    note=self.planning.change_phrase(actor, "opened a new revision for the review"),
                                    action="open-revision")

    # -- indicators ----------------------------------------------------------------------------------

    def indicators(self, launch: LaunchSession, summary: MedicalSummary) -> Indicators:
        today = self.clock.today()
        history = self.planning.history(launch)
        if not history:
            return Indicators(None, None, False, (), None)
        first_signed = next((v for v in history if v.plan.state is PlanState.SIGNED), None)
        plan_start = self._signed_on(first_signed) if first_signed else None
        encounters = summary.section("encounters")
        hospital_use = None
        if plan_start is not None and encounters.state is not SectionState.FAILED:
            hospital_use = hospital_use_before_and_since((*encounters.active, *encounters.inactive), plan_start, today)
        return Indicators(
            plan_start=plan_start,
            hospital_use=hospital_use,
            hospital_use_complete=encounters.state is SectionState.COMPLETE,
            goals=progress_by_goal(history),
            actions=actions_on_time(history[-1].plan, history, today=today),
        )

    def _signed_on(self, version: PlanVersion) -> date:
        return self.clock.local_date(version.plan.signed_at or version.saved_at)


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


def _signed_plan() -> Plan:
    """Any signed plan: who may open a revision does not depend on its content."""
    return Plan(state=PlanState.SIGNED)


__all__ = ["Indicators", "ReviewPicture", "ReviewState", "TrackingService", "follow_up_text"]
