"""The family's own way into the plan (issue 18): their page, their acts, and the care team's answers.

Layer: services. Knows nothing of Flask. The family is one more writer of the plan: their positions and
their actions marked done are plan commands saved through PlanningService.change, so the merge rules
that keep the coordinator's and the clinician's concurrent edits apply to them too. A family act on a
signed plan opens the next revision in the same save: the signed version never changes.

What the family sees is what was shared with them: the latest signed version's wording (never a draft
not yet signed), with the actions' tracking and their own positions as they stand now.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..audit import AuditTrail
from ..clock import Clock
from ..errors import InvalidInput
from ..plan import about as a
from ..plan import negotiation as n
from ..plan.family import (
    ChangeLine,
    FamilyRequest,
    FamilyRequestError,
    RequestKind,
    RequestStatus,
    changes_since_visit,
    check_closing,
    family_words,
)
from ..plan.model import ActionStatus, Plan, PlanState, PlanVersion, Role, Stance
from ..plan.negotiation import Actor
from ..plan.people import user_reference
from ..session import LaunchSession
from ..store.family_store import FamilyStore
from ..tenants import Tenant
from .about_us import AboutUsService
from .planning import Conflict, PlanningService

FAMILY_STANCES = frozenset({Stance.AGREE, Stance.AMEND, Stance.DECLINE})


@dataclass(frozen=True, slots=True)
class FamilyPage:
    """What the family's page is built from."""

    copy: a.FamilyCopy | None  # None until a plan is signed and shared
    signed: PlanVersion | None
    current: PlanVersion | None  # the version their acts are made on (the signed one, or a revision)
    requests: tuple[FamilyRequest, ...]  # this patient's questions, help requests and About us proposals
    changes: tuple[ChangeLine, ...] | None  # None on a first visit

    @property
    def base_version(self) -> int | None:
        return self.current.version if self.current else None


class FamilyService:
    def __init__(self, planning: PlanningService, about_us: AboutUsService, store: FamilyStore, audit: AuditTrail,
                 clock: Clock) -> None:
        self.planning = planning
        self.about_us = about_us
        self.store = store
        self.audit = audit
        self.clock = clock

    # -- who is acting --------------------------------------------------------------------------------

    def actor(self, launch: LaunchSession) -> Actor:
        if not launch.is_family:
            raise InvalidInput("Only the family acts on the family's page.")
        return Actor(role=Role.FAMILY, name=launch.person_name or "Family",
                     user=user_reference(launch.fhir_user, launch.iss))

    # -- the page -------------------------------------------------------------------------------------

    def page(self, launch: LaunchSession, tenant: Tenant, requested_lang: str | None) -> FamilyPage:
        """The family's page; opening it is their visit (the next one says what changed since)."""
        signed = self.planning.latest_signed(launch)
        current = self.planning.current(launch)
        requests = self.store.requests(launch.iss, launch.patient_id,
                                       kinds=(RequestKind.QUESTION, RequestKind.NEED_HELP, RequestKind.ABOUT_CHANGE))
        if signed is None:
            return FamilyPage(None, None, current, requests, None)
        copy = self.about_us.family_copy(launch, tenant, requested_lang)
        user = self.actor(launch).user
        seen_version = self.store.seen_version(launch.iss, launch.patient_id, user)
        changes = None
        if seen_version is not None:
            seen = self.planning.version(signed.plan_id, seen_version)
            changes = changes_since_visit(seen.plan if seen else None, signed.plan, statuses_of(current))
        self.store.record_visit(launch.iss, launch.patient_id, user, signed.version, at=self.clock.now())
        self._audit(launch, "family-view", version=signed.version)
        return FamilyPage(copy, signed, current, requests, changes)

    # -- acts on the plan -----------------------------------------------------------------------------

    def take_position(self, launch: LaunchSession, tenant: Tenant, subject_id: str, stance: str, words: str, *,
                      base_version: int | None) -> PlanVersion | Conflict:
        """Agree, ask for a change (their wording), or disagree (their reason) on a shared goal or action."""
        try:
            chosen = Stance(stance)
        except ValueError:
            chosen = None
        if chosen not in FAMILY_STANCES:
            raise InvalidInput("Choose: agree, ask for a change, or disagree.")
        self._require_shared(launch, subject_id)
        actor = self.actor(launch)
        reworded = self._reworded_since_signing(launch, subject_id)
        if reworded is not None:
            return reworded

        def position(plan: Plan, actor: Actor, now) -> Plan:
            draft = _open_if_signed(plan, actor, now)
            return n.take_position(draft, actor, now, subject_id, chosen,
                                   proposed_change=words if chosen is Stance.AMEND else "",
                                   reason=words if chosen is Stance.DECLINE else "")

        return self._change(launch, tenant, actor, position, base_version, f"family-position-{chosen.value}",
                            {Stance.AGREE: "agreed", Stance.AMEND: "asked for a change",
                             Stance.DECLINE: "disagreed"}[chosen])

    def mark_done(self, launch: LaunchSession, tenant: Tenant, action_id: str, *,
                  base_version: int | None) -> PlanVersion | Conflict:
        """The family marks one of its own actions done."""
        self._require_shared(launch, action_id)
        actor = self.actor(launch)

        def done(plan: Plan, actor: Actor, now) -> Plan:
            return n.edit_action(_open_if_signed(plan, actor, now), actor, now, action_id, status=ActionStatus.DONE)

        return self._change(launch, tenant, actor, done, base_version, "family-action-done", "marked an action done")

    def _change(self, launch: LaunchSession, tenant: Tenant, actor: Actor, change, base_version: int | None,
                action: str, phrase: str) -> PlanVersion | Conflict:
        return self.planning.change(launch, tenant, actor, base_version=base_version, change=change,
                                    note=self.planning.change_phrase(actor, phrase), action=action)

    def _reworded_since_signing(self, launch: LaunchSession, subject_id: str) -> Conflict | None:
        """The family answers on the signed wording they read. When the care team has reworded that item in
        the revision in progress, their answer would be an answer to other words: a conflict, not saved.
        (Rewording after the page was loaded is caught by the merge, as for every writer.)"""
        signed, current = self.planning.latest_signed(launch), self.planning.current(launch)
        if signed is None or current is None or current.version == signed.version:
            return None
        if negotiated(signed.plan, subject_id) == negotiated(current.plan, subject_id):
            return None
        return Conflict(base=signed, latest=current, their_changes=(),
                        reason="The care team is changing this part of the plan in a new version.")

    def _require_shared(self, launch: LaunchSession, subject_id: str) -> None:
        signed = self.planning.latest_signed(launch)
        plan = signed.plan if signed else None
        if plan is None or (plan.goal(subject_id) is None and plan.action(subject_id) is None):
            raise InvalidInput("That part of the plan could not be found. Reload the page.")

    # -- requests to the care team ----------------------------------------------------------------------

    def ask(self, launch: LaunchSession, kind: str, subject_id: str, text: str, *, request_id: str) -> FamilyRequest:
        """A question for the next visit, "I need help" on one of their actions, or a proposed new answer
        to an About us question."""
        try:
            chosen = RequestKind(kind)
        except ValueError:
            chosen = None
        if chosen not in (RequestKind.QUESTION, RequestKind.NEED_HELP, RequestKind.ABOUT_CHANGE):
            raise InvalidInput("That request could not be understood.")
        subject_id = self._checked_subject(launch, chosen, subject_id)
        actor = self.actor(launch)
        try:
            words = family_words(text)
        except FamilyRequestError as err:
            raise InvalidInput(str(err)) from None
        request = FamilyRequest(request_id=request_id, kind=chosen, subject_id=subject_id, text=words,
                                by_name=actor.name, by_user=actor.user, at=self.clock.now())
        self.store.add_request(launch.iss, launch.patient_id, request)
        self._audit(launch, f"family-{chosen.value}", request=request_id)
        return request

    def _checked_subject(self, launch: LaunchSession, kind: RequestKind, subject_id: str) -> str:
        if kind is RequestKind.QUESTION:
            return ""
        if kind is RequestKind.ABOUT_CHANGE:
            if subject_id not in a.ABOUT_US_ITEMS:
                raise InvalidInput("Choose which part of About us to change.")
            return subject_id
        signed = self.planning.latest_signed(launch)
        action = signed.plan.action(subject_id) if signed else None
        if action is None or action.owner.role is not Role.FAMILY:
            raise InvalidInput("You can ask for help with your own actions in the plan.")
        return subject_id

    # -- the care team's side -------------------------------------------------------------------------

    def open_requests(self, launch: LaunchSession) -> tuple[FamilyRequest, ...]:
        return tuple(r for r in self.store.requests(launch.iss, launch.patient_id) if r.is_open)

    def close(self, launch: LaunchSession, tenant: Tenant, request_id: str, status: str, reply: str) -> FamilyRequest:
        """A professional answers a request: a question answered, help given, an About us change accepted
        (the answer is saved as the family's) or kept to talk over, a parent's access to an adolescent's
        plan given or not."""
        if launch.is_family:
            raise InvalidInput("Only the care team answers the family's requests.")
        actor = self.planning.actor(launch, tenant)
        request = self.store.request(launch.iss, launch.patient_id, request_id)
        if request is None:
            raise InvalidInput("That request could not be found. Reload the page.")
        try:
            chosen = RequestStatus(status)
            check_closing(request, chosen)
        except ValueError as err:  # FamilyRequestError, or an unknown status
            raise InvalidInput(str(err) if isinstance(err, FamilyRequestError) else "Choose an answer.") from None
        if request.kind is RequestKind.ACCESS and chosen is RequestStatus.ACCEPTED:
            self.store.grant(launch.iss, launch.patient_id, request.by_user, by=actor.name, at=self.clock.now())
        if request.kind is RequestKind.ABOUT_CHANGE and chosen is RequestStatus.ACCEPTED:
            self.about_us.set_answer(launch, tenant, request.subject_id, request.text,
                                     saved_by=f"{request.by_name}, accepted by {actor.name}")
        words = reply.strip()[:1000]
        if not self.store.close_request(launch.iss, launch.patient_id, request_id, chosen, reply=words,
                                        by=actor.name, at=self.clock.now()):
            raise InvalidInput("Someone else answered this request meanwhile. Reload the page.")
        self._audit(launch, "family-request-closed", request=request_id, kind=request.kind.value, status=chosen.value)
        return request

    def _audit(self, launch: LaunchSession, action: str, **detail) -> None:
        self.audit.record(action, "success", iss=launch.iss, patient_id=launch.patient_id, user=launch.fhir_user,
                          launch_id=launch.launch_id, **detail)


def negotiated(plan: Plan, subject_id: str) -> dict[str, object] | None:
    """What a party agrees to when it answers on this item: its negotiated fields (None when it is gone)."""
    item = plan.goal(subject_id) or plan.action(subject_id)
    if item is None:
        return None
    names = n.NEGOTIATED_GOAL_FIELDS if plan.goal(subject_id) is not None else n.NEGOTIATED_ACTION_FIELDS
    return {name: getattr(item, name) for name in names}


def statuses_of(version: PlanVersion | None) -> dict[str, ActionStatus]:
    return {x.action_id: x.status for x in version.plan.actions} if version else {}


def _open_if_signed(plan: Plan, actor: Actor, now) -> Plan:
    return n.open_revision(plan, actor, now) if plan.state is PlanState.SIGNED else plan


__all__ = ["FamilyPage", "FamilyService"]
