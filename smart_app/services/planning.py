"""Goals and negotiated actions as a use case: who is acting, applying one negotiation command as a
compare-and-swap save, signing (with the record's snapshot taken in the same operation), the EHR's
suggestions for the plan, and the plan's versions.

Layer: services. Knows nothing of Flask: views parse a form into a pure command and call `change`.
Nothing typed is ever silently overwritten: a stale save comes back as a Conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..audit import AuditTrail
from ..clock import Clock
from ..errors import InvalidInput, SmartAppError
from ..plan import diff as plan_diff
from ..plan import negotiation as n
from ..plan import suggestions
from ..plan.model import ROLE_LABELS, Plan, PlanState, PlanVersion, Role
from ..plan.merge import ConflictRow, conflict_rows, rebase
from ..plan.negotiation import Actor, NegotiationError
from ..plan.people import may_act_as, user_reference
from ..plan.review_cycle import TRACKED_SECTIONS, snapshot_of
from ..plan.signed_record import SignedRecord, signed_record
from ..session import LaunchSession, SessionStore
from ..store.about_store import AboutStore
from ..store.curation_store import CurationStore
from ..store.plan_store import PlanStore
from ..store.tracking_store import SigningSnapshot, TrackingStore
from ..tenants import Tenant
from .summary import SummaryService

log = logging.getLogger("smart_app.planning")

PlanChange = Callable[[Plan, Actor, datetime], Plan]

# What is kept with a signed version: every section the signed documents show and the review compares.
RECORD_KEYS: tuple[str, ...] = tuple(dict.fromkeys(
    ("patient", "conditions", "medications", "allergies", "equipment", "care_team", "documents", *TRACKED_SECTIONS)))

# The roles a professional may choose to work in (the family signs in through the portal, as the family).
ACTING_ROLES: tuple[Role, ...] = (Role.COORDINATOR, Role.CLINICIAN, Role.SPECIALIST, Role.SCHOOL_NURSE,
                                  Role.COMMUNITY)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A save that collides with what others saved since the user's base version: the fields both
    changed (base / theirs / mine), what the others changed, and the version now. Nothing was saved."""

    base: PlanVersion | None
    latest: PlanVersion
    their_changes: tuple[str, ...]  # described in plain language
    rows: tuple[ConflictRow, ...] = ()  # exactly the fields in question
    reason: str = ""  # when the change cannot be made on the latest version at all (e.g. the item is gone)


class PlanningService:
    def __init__(self, plans: PlanStore, snapshots: TrackingStore, curations: CurationStore, about: AboutStore,
                 sessions: SessionStore, summary: SummaryService, audit: AuditTrail, clock: Clock) -> None:
        self.plans = plans
        self.snapshots = snapshots
        self.about = about
        self.curations = curations
        self.sessions = sessions
        self.summary = summary
        self.audit = audit
        self.clock = clock

    # -- who is acting --------------------------------------------------------------------------------

    def acting_role(self, launch: LaunchSession) -> Role | None:
        """The launch's role, or the one this user last worked in here (then kept for the launch)."""
        if launch.acting_role in {r.value for r in ACTING_ROLES}:
            return Role(launch.acting_role)
        remembered = self.sessions.remembered_role(launch)
        if remembered not in {r.value for r in ACTING_ROLES}:
            return None
        self.sessions.set_acting_role(launch, remembered)
        return Role(remembered)

    def remembered_role(self, launch: LaunchSession) -> Role | None:
        value = launch.acting_role or self.sessions.remembered_role(launch)
        return Role(value) if value in {r.value for r in ACTING_ROLES} else None

    def choose_role(self, launch: LaunchSession, role: str) -> Role:
        """The role this person works in at this site: checked against who the EHR says they are."""
        if role not in {r.value for r in ACTING_ROLES}:
            raise InvalidInput("Choose the role you are working in.")
        refused = may_act_as(user_reference(launch.fhir_user, launch.iss), Role(role))
        if refused:
            self._audit(launch, "role-choice", role=role, refused=True)
            raise InvalidInput(refused)
        self.sessions.set_acting_role(launch, role)
        self._audit(launch, "role-choice", role=role)
        return Role(role)

    def actor(self, launch: LaunchSession, tenant: Tenant) -> Actor:
        """The person acting in this launch, in their role; InvalidInput until a role is chosen."""
        role = self.acting_role(launch)
        if role is None:
            raise InvalidInput("Choose the role you are working in first (Goals & actions).")
        return Actor(role=role, name=self.summary.user_name(launch, tenant),
                     user=user_reference(launch.fhir_user, launch.iss))

    def require(self, actor: Actor, command: n.Command, plan: Plan | None = None) -> None:
        """Who may do what is decided in plan.negotiation; this raises its reason as a user error."""
        reason = n.why_not(actor.role, command, plan or Plan())
        if reason:
            raise InvalidInput(reason)

    # -- versions -------------------------------------------------------------------------------------

    def current(self, launch: LaunchSession) -> PlanVersion | None:
        return self.plans.current(launch.iss, launch.patient_id)

    def version(self, plan_id: str, number: int) -> PlanVersion | None:
        return self.plans.version(plan_id, number)

    def previous(self, version: PlanVersion) -> PlanVersion | None:
        return self.plans.version(version.plan_id, version.version - 1) if version.version > 1 else None

    def history(self, launch: LaunchSession) -> list[PlanVersion]:
        current = self.current(launch)
        return self.plans.history(current.plan_id) if current else []

    def latest_signed(self, launch: LaunchSession) -> PlanVersion | None:
        return self.plans.latest_signed(launch.iss, launch.patient_id)

    # -- changing the plan ------------------------------------------------------------------------------

    def base_plan(self, launch: LaunchSession, base_version: int | None) -> Plan:
        """The plan as the user saw it (their form was built on it); an empty plan before the first save."""
        current = self.current(launch)
        if current is None or base_version is None:
            return Plan()
        seen = self.plans.version(current.plan_id, base_version)
        if seen is None:
            raise InvalidInput("This form is out of date. Reload the page.")
        return seen.plan

    def change(self, launch: LaunchSession, tenant: Tenant, actor: Actor, *, base_version: int | None,
               change: PlanChange, note: str, action: str, keep_mine: bool = False) -> PlanVersion | Conflict:
        """Apply `change`, made by the user on the version they saw (`base_version`), and save it as the
        next version with a compare-and-swap. When others saved since, the change is re-run on the latest
        version if it touches nothing they changed (plan.merge.rebase, field by field: both land); when it
        does, a Conflict shows exactly those fields, and `keep_mine` (the user's answer) re-runs it on the
        latest anyway, which changes only the fields the user changed. The save that completes the
        signatures also keeps, with the signed version, what was signed."""
        base = self.base_plan(launch, base_version)
        now = self.clock.now()
        try:
            change(base, actor, now)  # a mistake in what the user asked is theirs to fix, whatever others did
        except NegotiationError as err:
            raise InvalidInput(str(err)) from None
        seen: dict[str, PlanVersion | None] = {}

        def decide(latest: PlanVersion | None) -> Plan | Conflict:
            seen["latest"] = latest
            if (latest.version if latest else None) == base_version:
                return change(base, actor, now)
            return self._rebased(latest, base_version, base, change, actor, now, keep_mine)

        saved = self.plans.update(launch.iss, launch.patient_id, decide, saved_by=actor.name, now=now, note=note)
        if isinstance(saved, Conflict):
            return saved
        latest = seen["latest"]
        self._audit(launch, f"plan-{action}", version=saved.version, role=actor.role.value,
                    merged=(latest.version if latest else None) != base_version)
        if saved.plan.state is PlanState.SIGNED and (latest is None or latest.plan.state is not PlanState.SIGNED):
            self.record_signing(launch, tenant, saved)
        return saved

    def _rebased(self, latest: PlanVersion, base_version: int | None, base: Plan, change: PlanChange, actor: Actor,
                 now: datetime, keep_mine: bool) -> Plan | Conflict:
        def command(plan: Plan) -> Plan:
            return change(plan, actor, now)

        try:
            outcome = rebase(base, latest.plan, command)
            if outcome.conflicts and not keep_mine:
                return self._conflict(latest, base_version, base, outcome.conflicts, command(base))
            return outcome.plan if not outcome.conflicts else command(latest.plan)
        except NegotiationError as err:  # the change cannot be made on the plan as it is now
            return self._conflict(latest, base_version, base, (), None, reason=str(err))

    def change_phrase(self, actor: Actor, phrase: str) -> str:
        """The version note: "Jordan Lee (Care coordinator) added a goal"."""
        return f"{actor.name} ({ROLE_LABELS[actor.role]}) {phrase}"

    def record_signing(self, launch: LaunchSession, tenant: Tenant, version: PlanVersion) -> SigningSnapshot | None:
        """Keep, with the version just signed, what was signed (plan.signed_record: the summary as read and
        curated, About us, emergency information) and the snapshot the review compares with, from one read
        of the EHR. None when the EHR could not be read at all (the plan stays signed; the signed documents
        then show today's record and say so, and what changed since is unknown)."""
        try:
            summary = self.summary.summary(launch, tenant, RECORD_KEYS)
        except SmartAppError as err:
            log.warning("signing_snapshot_failed kind=%s", type(err).__name__)
            return None
        now = self.clock.now()
        self.snapshots.save_signed_record(launch.iss, launch.patient_id, version.plan_id, version.version,
                                          self._record_of(launch, summary), at=now)
        signed_at = version.plan.signed_at or version.saved_at
        taken = SigningSnapshot(plan_id=version.plan_id, version=version.version,
                                signed_on=self.clock.local_date(signed_at),
                                snapshot=snapshot_of(summary.medical_summary()))
        self.snapshots.save_snapshot(launch.iss, launch.patient_id, taken, at=now)
        return taken

    def record(self, launch: LaunchSession, tenant: Tenant, version: PlanVersion | None) -> tuple[SignedRecord, bool]:
        """What the documents of `version` show: the record kept when it was signed, and True; else (no
        version, or one signed before records were kept) today's record, and False."""
        if version is not None:
            kept = self.snapshots.signed_record(version.plan_id, version.version)
            if kept is not None:
                return kept, True
        return self._record_of(launch, self.summary.summary(launch, tenant, RECORD_KEYS)), False

    def _record_of(self, launch: LaunchSession, summary) -> SignedRecord:
        curation = self.summary.curation(launch)
        intake = self.about.latest_intake(launch.iss, launch.patient_id)
        _, emergency = self.about.latest_emergency(launch.iss, launch.patient_id)
        return signed_record(read_on=summary.today, header=summary.header, sections=summary.sections.values(),
                             curations=curation.items, added=curation.added,
                             intake=intake.answers if intake else None, emergency=emergency)

    def _conflict(self, latest: PlanVersion, base_version: int | None, base: Plan, conflicts, mine: Plan | None, *,
                  reason: str = "") -> Conflict:
        seen = self.plans.version(latest.plan_id, base_version) if base_version else None
        changes = plan_diff.worth_showing(plan_diff.diff(base, latest.plan))
        rows = conflict_rows(conflicts, base, latest.plan, mine) if mine is not None else ()
        return Conflict(base=seen, latest=latest, their_changes=tuple(plan_diff.describe(c) for c in changes),
                        rows=rows, reason=reason)

    # -- the EHR's suggestions ------------------------------------------------------------------------

    def suggestions(self, launch: LaunchSession, tenant: Tenant, plan: Plan) -> tuple[suggestions.Suggestion, ...]:
        """Goals and open referrals in the EHR that the plan lacks and the coordinator has not ignored."""
        summary = self.summary.summary(launch, tenant, ("goals", "services")).medical_summary()
        return suggestions.suggest(summary, plan,
                                   ignored=self.curations.ignored_suggestions(launch.iss, launch.patient_id))

    def accepted_suggestion(self, launch: LaunchSession, tenant: Tenant, key: str, item_id: str) -> PlanChange:
        current = self.current(launch)
        found = next((x for x in self.suggestions(launch, tenant, current.plan) if x.key == key), None) \
            if current else None
        if found is None:
            raise InvalidInput("That suggestion is no longer offered (it may already be in the plan).")
        return lambda plan, actor, now: suggestions.accept_suggestion(plan, actor, now, found, item_id)

    def ignore_suggestion(self, launch: LaunchSession, tenant: Tenant, key: str) -> None:
        if not key or len(key) > 300:
            raise InvalidInput("That suggestion could not be found.")
        self.curations.ignore_suggestion(launch.iss, launch.patient_id, key,
                                         by=self.summary.user_name(launch, tenant), at=self.clock.now())

    def _audit(self, launch: LaunchSession, action: str, **detail) -> None:
        self.audit.record(action, "success", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                          launch_id=launch.launch_id, **detail)
