"""Filing a signed plan version in the EHR: build (pure) -> validate -> write -> record the outcome,
and what the filing page shows (the tier, the last attempt, what changed in the EHR since).

Layer: services. Uses the FHIR gateway, the filing store and the audit trail; knows nothing of Flask.

Guarantees, in every tier and every path:
- nothing is sent that failed validation or names another patient (R55);
- the writes go as one transaction, transactions cut to the server's limit, or one at a time
  (writeback.planner): a refusal about the transaction itself changes the strategy in the same filing;
- creates are conditional on our identifier (or preceded by a search for it where the EHR does not
  offer conditional create) and the Provenance has a fixed id, so any retry (after a timeout, after a
  partial failure) files each resource once; a filing that stops records what it wrote, so the next
  attempt resumes with If-Match on those;
- a revision ends on the EHR the goals and tasks it dropped (cancelled, with a Provenance saying why);
- updates carry If-Match with the version we last filed; if the EHR's copy moved on (server 412, or
  our own comparison for servers that ignore If-Match) the outcome is RECONCILE with the differences,
  and nothing is overwritten until the user says so;
- success is recorded only on 200/201 with the id from the body or the Location header (R51);
- every attempt is recorded and audited (ids and codes only, no plan text).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from ..audit import AuditTrail
from ..clock import Clock
from ..errors import (
    FhirAccessError,
    InvalidInput,
    ScopeDenied,
    SmartAppError,
    TokenExpired,
)
from ..fhir.capabilities import Capabilities
from ..fhir.queries import QueryProfile, patient_param
from ..fhir.gateway import (
    FhirGateway,
    FhirWriteRefused,
    FhirWriteUnknown,
    WriteResponse,
)
from ..plan.careplan import (
    ACTION_IDENTIFIER_SYSTEM,
    CAREPLAN_KEY,
    CARETEAM_IDENTIFIER_SYSTEM,
    CARETEAM_KEY,
    GOAL_IDENTIFIER_SYSTEM,
    PLAN_IDENTIFIER_SYSTEM,
    Difference,
    FilingContext,
    InEhr,
    PlannedWrite,
    build_careplan,
    build_provenance,
    bundle_entry,
    filed_with,
    goal_key,
    plan_differences,
    plan_from_fhir,
    planned_writes,
    provenance_key,
    same_content,
    task_key,
)
from ..plan.model import Plan, PlanState, PlanVersion
from ..plan.narrative import NarrativeParts, narrative_parts, plan_narrative
from ..plan.note import (
    NoteType,
    build_document_reference,
    note_if_none_exist,
    xhtml_document,
)
from ..pdf import PdfUnavailable, render_pdf
from ..session import LaunchSession
from ..store.filing_store import FilingAttempt, FilingOutcome, FilingStore
from ..tenants import Tenant
from ..writeback.tiers import Tier, TierKind, may_write_provenance, tier_for
from ..writeback.planner import LearnedLimits, Strategy, batches, first_strategy, transaction_refusal
from ..writeback.validation import InvalidResource, check_xhtml, validate_all
from .ehr_access import EhrAccess
from .planning import PlanningService
from .summary import SummaryService

log = logging.getLogger("smart_app.writeback")

NOTE_KEY = "note"
MAX_PDF_BYTES = 5 * 1024 * 1024  # sites may cap attachments lower; a bigger PDF is left out, not sent
DEFAULT_NOTE_TYPE = NoteType()
NO_NARRATIVE = NarrativeParts()
PDF_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: sans-serif; font-size: 10.5pt; color: #111; }
h2 { font-size: 16pt; margin: 0 0 4pt; } h3 { font-size: 13pt; margin: 14pt 0 4pt; border-bottom: 1px solid #999; }
h4 { font-size: 11pt; margin: 10pt 0 3pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; }
th, td { border: 1px solid #bbb; padding: 3pt 5pt; text-align: left; vertical-align: top; }
th { background: #eee; }
"""


@dataclass(frozen=True)
class Site:
    """What filing needs to know about this launch's EHR."""

    gateway: FhirGateway
    capabilities: Capabilities
    launch: LaunchSession
    tier: Tier
    note_type: NoteType = DEFAULT_NOTE_TYPE
    max_transaction_entries: int | None = None  # the tenant's known cap on transaction entries
    limits: LearnedLimits = field(default_factory=LearnedLimits)  # what refusals taught about servers


@dataclass(frozen=True)
class EhrCopy:
    """The plan as the EHR holds it now, found by our identifiers."""

    careplan: Mapping[str, Any]
    goals: tuple[Mapping[str, Any], ...] = ()
    tasks: tuple[Mapping[str, Any], ...] = ()
    careteam: Mapping[str, Any] | None = None
    tasks_readable: bool = True  # some EHRs let the app write Tasks but not read them back

    def plan_beside(self, ours: Plan) -> Plan:
        """The EHR's plan; where its Tasks could not be read, our actions stand in for them."""
        theirs = plan_from_fhir(self.careplan, self.goals, self.tasks)
        return theirs if self.tasks_readable else replace(theirs, actions=ours.actions)

    def holds(self, ours: Plan) -> bool:
        return self.tasks_readable and same_content(ours, self.plan_beside(ours))

    @property
    def careplan_version(self) -> str:
        return _version_of(self.careplan)

    def resources(self, plan_id: str) -> dict[str, InEhr]:
        """Where each of our resources is in the EHR, at its current version."""
        found = {CAREPLAN_KEY: _in_ehr_of(self.careplan)}
        if self.careteam:
            found[CARETEAM_KEY] = _in_ehr_of(self.careteam)
        for goal in self.goals:
            found[goal_key(_our_id(goal, GOAL_IDENTIFIER_SYSTEM, plan_id))] = _in_ehr_of(goal)
        for task in self.tasks:
            found[task_key(_our_id(task, ACTION_IDENTIFIER_SYSTEM, plan_id))] = _in_ehr_of(task)
        return found


@dataclass(frozen=True)
class _Result:
    outcome: FilingOutcome
    message: str
    resources: Mapping[str, InEhr] = field(default_factory=dict)
    link: str = ""
    http_status: int | None = None
    differences: tuple[Difference, ...] = ()


# -- entry point ----------------------------------------------------------------------------------


def file_plan(site: Site, version: PlanVersion, *, filings: FilingStore, audit: AuditTrail, by: str,
              now: datetime, narrative: NarrativeParts = NO_NARRATIVE, created: date | None = None,
              overwrite_ehr_version: str = "", previous: Plan | None = None) -> FilingAttempt:
    """File one signed plan version in the site's tier and record the attempt.

    `overwrite_ehr_version` is the EHR copy's version the user saw on the reconcile page and chose to
    replace with ours; the write still fails if the EHR moved on again since. `previous` is the plan
    last filed, whose goals and actions this version no longer has are ended in the EHR."""
    if version.plan.state is not PlanState.SIGNED:
        raise InvalidInput("Only a signed plan can be filed in the EHR.")
    ctx = FilingContext(patient_id=site.launch.patient_id, now=now, author=_author(site),
                        encounter_id=site.launch.encounter_id or "", created=created, narrative=narrative,
                        previous=previous)
    progress = _Progress()
    try:
        if site.tier.kind is TierKind.STRUCTURED:
            result = _file_structured(site, version, ctx, filings, overwrite_ehr_version, progress)
        elif site.tier.kind is TierKind.NOTE:
            result = _file_note(site, version, ctx, filings)
        else:
            result = _Result(FilingOutcome.NOT_FILED, f"Not filed in the EHR. {site.tier.reason}")
    except InvalidResource as refused:
        result = _Result(FilingOutcome.BLOCKED, str(refused))
    except FhirWriteRefused as refused:
        result = _stopped(progress, f"Signed, but not filed in the EHR. {refused}", refused.status)
    except FhirWriteUnknown as unknown:
        result = _stopped(progress, f"Signed, but not confirmed as filed. {unknown}", None)
    except TokenExpired as expired:
        result = _stopped(progress, f"Signed, but not filed in the EHR. {expired}", 401)
    except FhirAccessError as failed:
        result = _stopped(progress, f"Signed, but not filed in the EHR. {failed}", None)
    attempt = filings.record(FilingAttempt(
        iss=site.launch.iss, patient_id=site.launch.patient_id, plan_id=version.plan_id,
        plan_version=version.version, tier=site.tier.kind.value, outcome=result.outcome, message=result.message,
        attempted_by=by, attempted_at=now, http_status=result.http_status, resources=result.resources,
        ehr_link=result.link, differences=result.differences))
    audit.record("writeback", result.outcome.value, iss=site.launch.iss, patient_id=site.launch.patient_id,
                 user=site.launch.fhir_user, launch_id=site.launch.launch_id, tier=site.tier.kind.value,
                 plan_version=version.version, http_status=result.http_status, resources=len(result.resources),
                 requests=progress.requests)
    return attempt


def _stopped(progress: _Progress, message: str, status: int | None) -> _Result:
    """A filing that stopped: what it wrote before stopping is kept, so "Try again" completes it."""
    if progress.written:
        message += (f" In the EHR already: {_parts_in_ehr(progress.written, progress.planned)}. "
                    "Trying again completes the rest without making duplicates.")
    return _Result(FilingOutcome.FAILED, message, progress.in_ehr_now() if progress.written else {},
                   http_status=status)


def _parts(count: int) -> str:
    return "1 part" if count == 1 else f"{count} parts"


_PART_NAMES = {CARETEAM_KEY: ("the care team", ""), "goal": ("goal", "goals"), CAREPLAN_KEY: ("the care plan", ""),
               "task": ("task", "tasks"), "provenance": ("the record of who signed", "")}


def _parts_in_ehr(written: Collection[str], planned: Sequence[str]) -> str:
    """'the care team, 6 of 6 goals, the care plan, 3 of 15 tasks': which parts of the plan are filed."""
    said = []
    for kind, (one, many) in _PART_NAMES.items():
        of_kind = [k for k in planned if k.split(":")[0] == kind]
        done = sum(1 for k in of_kind if k in written)
        if done:
            said.append(f"{done} of {len(of_kind)} {one if len(of_kind) == 1 else many}" if many else one)
    return ", ".join(said)


def ehr_changes_since_filing(site: Site, version: PlanVersion, last: FilingAttempt) -> tuple[Difference, ...]:
    """What changed in the EHR's copy since we filed `version` there (structured tier): () when nothing."""
    known = last.resources.get(CAREPLAN_KEY)
    if known is None:
        return ()
    site.gateway.forget_reads()
    copy = _ehr_copy(site.gateway, site.launch.patient_id, version.plan_id, known)
    if copy is None:
        return (Difference("The plan in the EHR", "filed", "no longer found in the EHR"),)
    if copy.careplan_version == known.version_id and copy.holds(version.plan):
        return ()
    return plan_differences(version.plan, copy.plan_beside(version.plan))


# -- structured tier ------------------------------------------------------------------------------


def _file_structured(site: Site, version: PlanVersion, ctx: FilingContext, filings: FilingStore,
                     overwrite_ehr_version: str, progress: _Progress) -> _Result:
    gateway, plan_id = site.gateway, version.plan_id
    gateway.forget_reads()  # what the summary read earlier may be stale now
    last = filings.last_filed(plan_id, TierKind.STRUCTURED.value)
    filed_before = {k: v for k, v in (last.resources if last else {}).items() if not k.startswith("provenance:")}
    in_ehr = {k: v for k, v in filings.in_ehr(plan_id, TierKind.STRUCTURED.value).items()
              if not k.startswith("provenance:")}
    resuming = in_ehr != filed_before  # an attempt stopped halfway: finish every write, skip nothing
    copy = _ehr_copy(gateway, site.launch.patient_id, plan_id, in_ehr.get(CAREPLAN_KEY))
    if copy is not None:
        if copy.holds(version.plan) and not resuming:  # a retry of a write that did arrive, or nothing to do
            return _filed(copy.resources(plan_id), "The EHR already holds this version of the plan.")
        moved = CAREPLAN_KEY in in_ehr and copy.careplan_version != in_ehr[CAREPLAN_KEY].version_id
        if overwrite_ehr_version:  # the user saw the EHR's copy and chose ours: only that copy may be replaced
            if overwrite_ehr_version != copy.careplan_version:
                return _reconcile(version, copy, http_status=None)
            in_ehr = {**in_ehr, **copy.resources(plan_id)}
        elif moved and not (resuming and _holds_our_careplan(copy.careplan, version, replace(ctx, in_ehr=in_ehr))):
            return _reconcile(version, copy, http_status=None)
        elif moved:  # our own update of the stopped attempt landed after the app stopped waiting
            in_ehr = {**in_ehr, CAREPLAN_KEY: _in_ehr_of(copy.careplan)}
        elif CAREPLAN_KEY not in in_ehr:
            in_ehr = {**in_ehr, **copy.resources(plan_id)}  # filed before without a confirmation reaching us
    in_ehr = {**_found_before_create(site, version, in_ehr), **in_ehr}
    progress.before = in_ehr
    writes = planned_writes(version, replace(ctx, in_ehr=in_ehr),
                            with_provenance=may_write_provenance(site.capabilities, site.launch.scope))
    validate_all((w.resource for w in writes), patient_id=site.launch.patient_id)
    try:
        strategy = _send(site, writes, progress)
    except FhirWriteRefused as refused:
        if refused.status not in (409, 412):
            raise
        copy = _ehr_copy(gateway, site.launch.patient_id, plan_id, in_ehr.get(CAREPLAN_KEY))
        if copy is None:
            raise
        if copy.holds(version.plan):
            return _filed(copy.resources(plan_id), "The EHR already holds this version of the plan.")
        return _reconcile(version, copy, http_status=refused.status)
    return _filed(progress.in_ehr_now(), "Filed in the EHR as a care plan with its goals and tasks "
                                         f"({_parts(len(writes))}, sent as {strategy.label}).")


def _holds_our_careplan(held: Mapping[str, Any], version: PlanVersion, ctx: FilingContext) -> bool:
    """The EHR's CarePlan says what this filing sends (or sent before its new Tasks existed)."""
    ours = build_careplan(version, ctx)
    return _holds(held, ours) or ("activity" not in held and _holds(held, {k: v for k, v in ours.items()
                                                                           if k != "activity"}))


def _send(site: Site, writes: Sequence[PlannedWrite], progress: _Progress) -> Strategy:
    """Send the writes with the planner's strategy; a refusal about the transaction itself changes the
    strategy and the filing goes on from where it stopped. Returns the strategy that finished it."""
    caps = [c for c in (site.max_transaction_entries, site.limits.cap(site.launch.iss)) if c]
    known_cap = min(caps) if caps else None  # the tenant's quirk, unless the server has taught us less
    strategy = first_strategy(supports_transaction=site.capabilities.supports_transaction, known_cap=known_cap)
    while True:
        try:
            progress.send(site.gateway, writes, strategy)
            return strategy
        except FhirWriteRefused as refused:
            refusal = transaction_refusal(refused.status, refused.said, refused.codes) if progress.in_transaction \
                else None
            if refusal is None:
                raise
            strategy = refusal.next_strategy(progress.batch_size)
            site.limits.learn(site.launch.iss, strategy)
            log.info("writeback transaction of %s refused status=%s; now %s", progress.batch_size, refused.status,
                     strategy.label)


class _Progress:
    """What this filing has written so far. It survives a strategy change and a failure: a failed
    attempt records it, so the next attempt updates (If-Match) instead of starting over."""

    def __init__(self, in_ehr: Mapping[str, InEhr] | None = None) -> None:
        self.written: dict[str, InEhr] = {}
        self.resolved: dict[str, str] = {}  # urn:uuid: -> "Type/id" of what exists now
        self.deferred: PlannedWrite | None = None  # the CarePlan, until its new Tasks exist
        self.batch_size = 0
        self.in_transaction = False
        self.requests = 0
        self.before = dict(in_ehr or {})
        self.planned: list[str] = []  # the keys of every write of this filing

    def send(self, gateway: FhirGateway, writes: Sequence[PlannedWrite], strategy: Strategy) -> None:
        self.planned = [w.key for w in writes]
        remaining = [w for w in writes if w.key not in self.written]
        for batch in batches(remaining, strategy):
            batch = [self._ready(w, {b.full_url for b in batch if b.full_url}) for w in batch]
            self.batch_size, self.in_transaction = len(batch), strategy.transaction
            if strategy.transaction and len(batch) > 1:
                self._record(batch, _send_transaction(gateway, batch))
            else:
                self.in_transaction = False
                self._record(batch, [_write_one(gateway, w) for w in batch])
            self._complete_careplan(gateway)

    def _ready(self, write: PlannedWrite, in_batch: set[str]) -> PlannedWrite:
        """References to what exists resolved; a CarePlan whose new Tasks come later goes without them."""
        resource = _resolve(write.resource, self.resolved)
        if write.key == CAREPLAN_KEY:
            self.deferred = write if _unresolved(resource.get("activity"), in_batch) else None
            if self.deferred is not None:
                resource = {k: v for k, v in resource.items() if k != "activity"}
        return replace(write, resource=resource)

    def _record(self, batch: Sequence[PlannedWrite], landed: Sequence[InEhr]) -> None:
        self.requests += 1 if self.in_transaction else len(batch)
        for write, where in zip(batch, landed, strict=True):
            self.written[write.key] = where
            if write.full_url:
                self.resolved[write.full_url] = where.reference

    def _complete_careplan(self, gateway: FhirGateway) -> None:
        """The CarePlan's update with its activities, as soon as every new Task it names exists."""
        if self.deferred is None or CAREPLAN_KEY not in self.written:
            return
        resource = _resolve(self.deferred.resource, self.resolved)
        if _unresolved(resource.get("activity"), set()):
            return
        created = self.written[CAREPLAN_KEY]
        complete = PlannedWrite(CAREPLAN_KEY, {"resourceType": "CarePlan", "id": created.reference.split("/")[-1],
                                               **resource}, "PUT", created.reference,
                                if_match=f'W/"{created.version_id}"')
        self.in_transaction, self.batch_size = False, 1
        self.deferred = None
        self._record([complete], [_write_one(gateway, complete)])

    def in_ehr_now(self) -> dict[str, InEhr]:
        return {**self.before, **self.written}


def _send_transaction(gateway: FhirGateway, writes: Sequence[PlannedWrite]) -> list[InEhr]:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [bundle_entry(w) for w in writes]}
    answer = gateway.transaction(bundle)
    entries = [e for e in answer.get("entry") or [] if isinstance(e, Mapping)]
    if len(entries) != len(writes):
        raise FhirAccessError("The EHR's answer to the filing did not match what was sent.")
    landed = []
    for entry in entries:
        response = entry.get("response") or {}
        status = str(response.get("status", "")).split(" ")[0]
        body = entry.get("resource") if isinstance(entry.get("resource"), Mapping) else None
        landed.append(_confirmed(gateway, int(status) if status.isdigit() else 0, body,
                                 str(response.get("location") or ""), str(response.get("etag") or "")))
    return landed


def _write_one(gateway: FhirGateway, write: PlannedWrite) -> InEhr:
    if write.method == "POST":
        response = gateway.create(write.resource, if_none_exist=write.if_none_exist or None)
        return _confirmed_response(gateway, response)
    try:
        return _confirmed_response(gateway, gateway.update(write.resource, if_match=write.if_match or None))
    except FhirWriteRefused as refused:
        if refused.status != 412 or not write.url:
            raise
        held = gateway.read(write.url)  # moved on since: by our own update whose answer was lost?
        if not _holds(held, write.resource):
            raise
        return _in_ehr_of(held)


def _holds(held: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """The EHR's resource says everything we sent (what the server adds, meta and the like, aside)."""
    return all(held.get(key) == value for key, value in sent.items() if key not in ("meta", "id"))


# -- note tier ------------------------------------------------------------------------------------


def _file_note(site: Site, version: PlanVersion, ctx: FilingContext, filings: FilingStore) -> _Result:
    last = filings.last_filed(version.plan_id, TierKind.NOTE.value)
    earlier = last.resources.get(NOTE_KEY) if last and last.plan_version != version.version else None
    div = plan_narrative(version.plan, ctx.narrative)
    check_xhtml(div)
    xhtml = xhtml_document(div)
    pdf = plan_pdf(xhtml)
    said = []
    if pdf is None:
        said.append("The PDF copy could not be made on this server, so only the XHTML copy was filed.")
    elif len(pdf) > MAX_PDF_BYTES:
        pdf = None
        said.append("The PDF copy was too large for the EHR, so only the XHTML copy was filed.")
    note = build_document_reference(version, ctx, xhtml=xhtml, pdf=pdf, note_type=site.note_type,
                                    replaces=earlier.reference if earlier else "")
    validate_all([note], patient_id=site.launch.patient_id)
    filed = {NOTE_KEY: _confirmed_response(site.gateway, site.gateway.create(
        note, if_none_exist=note_if_none_exist(version.plan_id, version.version)))}
    if may_write_provenance(site.capabilities, site.launch.scope):  # R54: after the note, naming it
        provenance = build_provenance(version, ctx, [filed[NOTE_KEY].reference])
        validate_all([provenance], patient_id=site.launch.patient_id)
        try:
            filed[provenance_key(version.version)] = _confirmed_response(site.gateway, site.gateway.update(provenance))
        except SmartAppError:
            said.append("The record of who signed it (Provenance) could not be filed.")
    message = " ".join(["Filed in the EHR as a plan-of-care note.", *said])
    return _Result(FilingOutcome.FILED, message, filed, filed[NOTE_KEY].reference, 201)


def plan_pdf(xhtml: str) -> bytes | None:
    """The signed plan as PDF; None when this server cannot make PDFs (the XHTML copy stands alone)."""
    try:
        return render_pdf(xhtml, PDF_CSS)
    except PdfUnavailable:
        return None


# -- reading the EHR's copy -------------------------------------------------------------------------


def _ehr_copy(gateway: FhirGateway, patient_id: str, plan_id: str, known: InEhr | None) -> EhrCopy | None:
    """The EHR's current CarePlan (by the id we filed, else by our identifier) with its Goals and Tasks."""
    careplan = _careplan_in_ehr(gateway, patient_id, plan_id, known)
    if careplan is None:
        return None
    goal_ids = _ids_of(item.get("reference") for item in careplan.get("goal") or [])
    task_ids = _ids_of((item.get("reference") or {}).get("reference") for item in careplan.get("activity") or [])
    careteam = _search(gateway, "CareTeam", patient_id, [("identifier", f"{CARETEAM_IDENTIFIER_SYSTEM}|{plan_id}")])
    try:
        tasks = _search(gateway, "Task", patient_id, [("_id", ",".join(task_ids))]) if task_ids else ()
    except ScopeDenied:
        tasks = None
    return EhrCopy(
        careplan=careplan,
        goals=_search(gateway, "Goal", patient_id, [("_id", ",".join(goal_ids))]) if goal_ids else (),
        tasks=tasks or (),
        careteam=careteam[0] if careteam else None,
        tasks_readable=tasks is not None,
    )


# Our identifier system for each write-key kind, and the resource type it files.
_OURS: dict[str, tuple[str, str]] = {
    CAREPLAN_KEY: ("CarePlan", PLAN_IDENTIFIER_SYSTEM), CARETEAM_KEY: ("CareTeam", CARETEAM_IDENTIFIER_SYSTEM),
    "goal": ("Goal", GOAL_IDENTIFIER_SYSTEM), "task": ("Task", ACTION_IDENTIFIER_SYSTEM),
}


def _found_before_create(site: Site, version: PlanVersion, known: Mapping[str, InEhr]) -> dict[str, InEhr]:
    """Search-before-create, where the EHR does not offer conditional create: what the EHR already holds
    under our identifiers (a write whose answer never came back), so it is updated, not created twice."""
    plan_id = version.plan_id
    wanted = {CAREPLAN_KEY: plan_id, CARETEAM_KEY: plan_id,
              **{goal_key(g.goal_id): f"{plan_id}.{g.goal_id}" for g in version.plan.goals},
              **{task_key(a.action_id): f"{plan_id}.{a.action_id}" for a in version.plan.actions}}
    found: dict[str, InEhr] = {}
    for kind, (resource_type, system) in _OURS.items():
        if site.capabilities.offers_conditional_create(resource_type):
            continue
        keys = {value: key for key, value in wanted.items() if key.split(":")[0] == kind and key not in known}
        if not keys:
            continue
        values = ",".join(f"{system}|{value}" for value in keys)
        try:
            held = _search(site.gateway, resource_type, site.launch.patient_id, [("identifier", values)])
        except ScopeDenied:  # not readable by this app: the If-None-Exist sent along is all there is
            continue
        for resource in held:
            value = next((i.get("value") for i in resource.get("identifier") or [] if i.get("system") == system), "")
            if value in keys:
                found.setdefault(keys[value], _in_ehr_of(resource))
    return found


def _careplan_in_ehr(gateway: FhirGateway, patient_id: str, plan_id: str,
                     known: InEhr | None) -> Mapping[str, Any] | None:
    if known is not None:
        try:
            return gateway.read(known.reference)
        except FhirAccessError as failed:
            if getattr(failed, "status", None) not in (404, 410):
                raise
    found = _search(gateway, "CarePlan", patient_id, [("identifier", f"{PLAN_IDENTIFIER_SYSTEM}|{plan_id}")])
    return found[0] if found else None


def _search(gateway: FhirGateway, resource_type: str, patient_id: str,
            params: list[tuple[str, str]]) -> tuple[Mapping[str, Any], ...]:
    return gateway.search(resource_type, [patient_param(patient_id, QueryProfile()), *params],
                          max_pages=5).resources


def _ids_of(references: Iterable[object]) -> list[str]:
    ids = []
    for reference in references:
        if isinstance(reference, str) and "/" in reference:
            ids.append(reference.split("/_history/")[0].rsplit("/", 1)[-1])
    return ids


# -- outcomes ---------------------------------------------------------------------------------------


def _filed(resources: Mapping[str, InEhr], message: str) -> _Result:
    careplan = resources.get(CAREPLAN_KEY)
    return _Result(FilingOutcome.FILED, message, dict(resources), careplan.reference if careplan else "", 200)


def _reconcile(version: PlanVersion, copy: EhrCopy, *, http_status: int | None) -> _Result:
    differences = plan_differences(version.plan, copy.plan_beside(version.plan)) or (
        Difference("The plan in the EHR", "as signed", "changed in ways the app does not track"),)
    message = ("Someone changed the plan in the EHR since the app filed it. Nothing was overwritten: "
               "compare the two versions below, then file ours over theirs or reopen the plan to take their "
               "changes in.")
    # The EHR copy's version is kept so that "file ours over theirs" can only replace what the user saw.
    return _Result(FilingOutcome.RECONCILE, message, {CAREPLAN_KEY: _in_ehr_of(copy.careplan)},
                   _local(copy.careplan), http_status, differences)


def _confirmed(gateway: FhirGateway, status: int, body: Mapping[str, Any] | None, location: str,
               etag: str) -> InEhr:
    """Where a write landed, only if the EHR said 200/201 and told us where (body, else Location) (R51)."""
    if status not in (200, 201):
        raise FhirAccessError(f"The EHR did not confirm the plan was saved (answer {status or 'missing'}).")
    if body and body.get("id"):
        return InEhr(_local(body), _version_of(body) or _etag_version(etag))
    relative = gateway.relative(location) if "://" in location else location
    parts = relative.split("/")
    if len(parts) >= 2 and parts[0] and parts[1]:
        version = parts[3] if len(parts) >= 4 and parts[2] == "_history" else _etag_version(etag)
        return InEhr(f"{parts[0]}/{parts[1]}", version)
    raise FhirAccessError("The EHR saved the plan but did not say where, so the app cannot confirm it.")


def _confirmed_response(gateway: FhirGateway, response: WriteResponse) -> InEhr:
    return _confirmed(gateway, response.status, response.resource, response.location, response.etag)


# -- small helpers ----------------------------------------------------------------------------------


def _author(site: Site) -> str:
    """The signed-in user as a reference the EHR knows ("Practitioner/7"), or "" when it is not one."""
    user = site.launch.fhir_user or ""
    relative = site.gateway.relative(user) if "://" in user else user
    return relative if relative.split("/")[0] in ("Practitioner", "PractitionerRole") else ""


def _resolve(value: Any, resolved: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: (resolved.get(v, v) if k == "reference" and isinstance(v, str) else _resolve(v, resolved))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, resolved) for v in value]
    return value


def _unresolved(value: Any, in_batch: set[str]) -> bool:
    """Some reference is to a resource not created yet, nor in the same transaction."""
    return any(r.startswith("urn:uuid:") and r not in in_batch for r in _iter_references(value))


def _iter_references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from _iter_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _iter_references(item)


def _local(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _day_of(instant: object) -> date | None:
    try:
        return date.fromisoformat(instant[:10]) if isinstance(instant, str) else None
    except ValueError:
        return None


def _version_of(resource: Mapping[str, Any]) -> str:
    return str((resource.get("meta") or {}).get("versionId") or "")


def _etag_version(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def _in_ehr_of(resource: Mapping[str, Any]) -> InEhr:
    return InEhr(_local(resource), _version_of(resource))


def _our_id(resource: Mapping[str, Any], system: str, plan_id: str) -> str:
    value = next((i.get("value", "") for i in resource.get("identifier") or [] if i.get("system") == system), "")
    return value.removeprefix(f"{plan_id}.")


# -- the filing use case ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilingState:
    """What the filing page shows: the tier, the signed version, the last attempt and the EHR's copy."""

    tier: Tier
    version: PlanVersion | None
    last: FilingAttempt | None
    ehr_link: str  # the EHR's copy as an absolute FHIR URL, or ""
    overwrite_version: str  # for RECONCILE: the EHR version the user may replace
    ehr_changes: tuple[Difference, ...]  # changed in the EHR since we filed it
    ehr_check_failed: bool

    @property
    def can_file(self) -> bool:
        return self.version is not None and self.tier.kind is not TierKind.APP_ONLY and not (
            self.last is not None and self.last.filed and self.last.plan_version == self.version.version)


class FilingService:
    def __init__(self, ehr: EhrAccess, filings: FilingStore, planning: PlanningService, summary: SummaryService,
                 audit: AuditTrail, clock: Clock) -> None:
        self.ehr = ehr
        self.filings = filings
        self.planning = planning
        self.summary = summary
        self.audit = audit
        self.clock = clock
        self.limits = LearnedLimits()

    def site(self, launch: LaunchSession, tenant: Tenant, *, fresh_capabilities: bool = False) -> Site:
        gateway = self.ehr.gateway(launch, tenant)
        capabilities = self.ehr.capabilities(tenant, gateway, fresh=fresh_capabilities)
        system, code = tenant.note_type.split("|")
        return Site(gateway=gateway, capabilities=capabilities, launch=launch,
                    tier=tier_for(launch, tenant, capabilities),
                    note_type=NoteType(system=system, code=code, display="Plan of care note"),
                    max_transaction_entries=tenant.quirks.max_transaction_entries or None, limits=self.limits)

    def tier(self, launch: LaunchSession, tenant: Tenant) -> Tier:
        """Which write-back tier this launch would use, and why: shown before anyone signs."""
        return self.site(launch, tenant).tier

    def state(self, launch: LaunchSession, tenant: Tenant) -> FilingState:
        site, version = self.site(launch, tenant), self.planning.latest_signed(launch)
        last = self.filings.latest(version.plan_id, version.version) if version else None
        changes, check_failed = (), False
        if version and last and last.filed and last.tier == TierKind.STRUCTURED.value:
            try:
                changes = ehr_changes_since_filing(site, version, last)
            except SmartAppError:
                check_failed = True
        return FilingState(tier=site.tier, version=version, last=last,
                           ehr_link=f"{site.gateway.base_url}/{last.ehr_link}" if last and last.ehr_link else "",
                           overwrite_version=_overwrite_version(last), ehr_changes=changes,
                           ehr_check_failed=check_failed)

    def file(self, launch: LaunchSession, tenant: Tenant, *, overwrite_ehr_version: str = "") -> FilingAttempt:
        version = self._signed(launch)
        history = self.planning.history(launch)
        last = self.filings.last_filed(version.plan_id, TierKind.STRUCTURED.value)
        stopped = {a.plan_version for a in self.filings.attempts(version.plan_id)
                   if a.outcome is FilingOutcome.FAILED and a.resources and a.tier == TierKind.STRUCTURED.value
                   and (last is None or a.attempt_id > last.attempt_id)}
        previous = filed_with([v.plan for v in history
                               if (last and v.version == last.plan_version) or v.version in stopped])
        return file_plan(self.site(launch, tenant, fresh_capabilities=True), version, filings=self.filings,
                         audit=self.audit, by=self.summary.user_name(launch, tenant), now=self.clock.now(),
                         narrative=self.narrative(launch, tenant, version),
                         created=self.clock.local_date(history[0].saved_at) if history else None,
                         overwrite_ehr_version=overwrite_ehr_version[:64], previous=previous)

    def ehr_copy(self, launch: LaunchSession, tenant: Tenant) -> EhrCopyPage | None:
        """The plan's CarePlan, Goals and Tasks as the EHR holds them now; None when it holds none."""
        version = self._signed(launch)
        site = self.site(launch, tenant)
        last = self.filings.last_filed(version.plan_id, TierKind.STRUCTURED.value)
        site.gateway.forget_reads()
        copy = _ehr_copy(site.gateway, launch.patient_id, version.plan_id,
                         last.resources.get(CAREPLAN_KEY) if last else None)
        if copy is None:
            return None
        return EhrCopyPage(reference=_local(copy.careplan), version_id=copy.careplan_version,
                           last_updated=_day_of((copy.careplan.get("meta") or {}).get("lastUpdated")),
                           plan=copy.plan_beside(version.plan), tasks_readable=copy.tasks_readable,
                           ehr_view=tenant.careplan_view(str(copy.careplan.get("id") or "")))

    def document(self, launch: LaunchSession, tenant: Tenant) -> tuple[str, bytes | None]:
        """The signed plan as it is filed: its XHTML, and its PDF when this server can make one."""
        version = self._signed(launch)
        xhtml = xhtml_document(plan_narrative(version.plan, self.narrative(launch, tenant, version)))
        return xhtml, plan_pdf(xhtml)

    def narrative(self, launch: LaunchSession, tenant: Tenant, version: PlanVersion) -> NarrativeParts:
        """The parts of the filed narrative that do not come from the plan itself, from what was signed
        with `version` (today's record only for a version signed before records were kept)."""
        record, kept = self.planning.record(launch, tenant, version)
        return narrative_parts(record, kept=kept)

    def _signed(self, launch: LaunchSession) -> PlanVersion:
        version = self.planning.latest_signed(launch)
        if version is None:
            raise InvalidInput("There is no signed plan yet.")
        return version


@dataclass(frozen=True)
class EhrCopyPage:
    """The filed plan as read back from the EHR just now."""

    reference: str
    version_id: str
    last_updated: date | None
    plan: Plan
    tasks_readable: bool
    ehr_view: str = ""  # the EHR's own screen for it, where the site names one


def _overwrite_version(last: FilingAttempt | None) -> str:
    if last is None or last.outcome is not FilingOutcome.RECONCILE:
        return ""
    known = last.resources.get(CAREPLAN_KEY)
    return known.version_id if known else ""
