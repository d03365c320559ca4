"""The signed plan as FHIR R4 resources: CarePlan, Goal, Task, CareTeam, Provenance, and back again.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. No I/O and no clock: the
FilingContext carries `now`, the patient and what the EHR already holds (SPOC-DOMAIN §6.1-6.4).

Every resource carries our identifier (`urn:spoc:*`), so a create can be conditional on it and a
retry never makes a duplicate. New resources reference each other by `urn:uuid:` full URLs derived
from the plan id, so the same plan always builds the same Bundle. `plan_from_fhir` reads the
resources back into a Plan: what was signed is what the EHR holds.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from .model import (
    ROLE_LABELS,
    Achievement,
    ActionStatus,
    Goal,
    GoalKind,
    GoalLifecycle,
    NegotiatedAction,
    Owner,
    Plan,
    PlanState,
    PlanVersion,
    ProgressNote,
    Role,
    SignOff,
)
from .narrative import TITLE, NarrativeParts, plan_narrative
from .people import PersonKey, owner_identity, owner_label, resource_type
from .text import clean_text

Json = dict[str, Any]

SPOC_BASE = "http://spoc.example.org"
SPOC_CATEGORY_SYSTEM = f"{SPOC_BASE}/CodeSystem/spoc-category"
SPOC_CATEGORY_CODE = "shared-plan-of-care"
SPOC_ROLE_SYSTEM = f"{SPOC_BASE}/CodeSystem/spoc-role"
SPOC_ACTION_STATUS_SYSTEM = f"{SPOC_BASE}/CodeSystem/spoc-action-status"
SPOC_GOAL_KIND_SYSTEM = f"{SPOC_BASE}/CodeSystem/spoc-goal-kind"
PLAN_REVISION_URL = f"{SPOC_BASE}/StructureDefinition/plan-revision"
FAMILY_PRIORITY_URL = f"{SPOC_BASE}/StructureDefinition/family-priority"

PLAN_IDENTIFIER_SYSTEM = "urn:spoc:plan"
GOAL_IDENTIFIER_SYSTEM = "urn:spoc:goal"
ACTION_IDENTIFIER_SYSTEM = "urn:spoc:action"
CARETEAM_IDENTIFIER_SYSTEM = "urn:spoc:careteam"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
US_CORE_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
US_CORE_CAREPLAN = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-careplan"
US_CORE_GOAL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-goal"
US_CORE_CARETEAM = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-careteam"
US_CORE_PROVENANCE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-provenance"
GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PERTAINS_TO_GOAL_URL = "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal"
WORKFLOW_REASON_URL = "http://hl7.org/fhir/StructureDefinition/workflow-reasonReference"
PROVENANCE_PARTICIPANT_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE_SYSTEM = "urn:iso-astm:E1762-95:2013"

# SNOMED CT occupations for the roles that have one we are sure of; every role also gets our own code.
ROLE_SNOMED: dict[Role, tuple[str, str]] = {
    Role.COORDINATOR: ("768820003", "Care coordinator"),
    Role.CLINICIAN: ("453231000124104", "Primary care provider"),
}
TASK_STATUS: dict[ActionStatus, str] = {
    ActionStatus.NOT_STARTED: "accepted",
    ActionStatus.IN_PROGRESS: "in-progress",
    ActionStatus.DONE: "completed",
    ActionStatus.BLOCKED: "on-hold",
    ActionStatus.CANCELLED: "cancelled",
}
ACTION_STATUS_TEXT: dict[ActionStatus, str] = {
    ActionStatus.NOT_STARTED: "not started",
    ActionStatus.IN_PROGRESS: "in progress",
    ActionStatus.DONE: "done",
    ActionStatus.BLOCKED: "barrier",
    ActionStatus.CANCELLED: "cancelled",
}
# Who signed in which capacity: (provenance-participant-type, ASTM E1762 signature type, its display).
SIGNATURE_KIND: dict[Role, tuple[str, str, str]] = {
    Role.CLINICIAN: ("author", "1.2.840.10065.1.12.1.1", "Author's Signature"),
    Role.FAMILY: ("attester", "1.2.840.10065.1.12.1.7", "Consent Signature"),
}
VERIFIER = ("verifier", "1.2.840.10065.1.12.1.5", "Verification Signature")

# Which resource types each person reference may name (R4).
OWNER_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization", "CareTeam", "Patient", "RelatedPerson"})
CAREPLAN_AUTHOR_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization", "CareTeam", "Patient",
                                   "RelatedPerson"})
CARETEAM_MEMBER_TYPES = frozenset({"Practitioner", "PractitionerRole", "RelatedPerson", "Patient", "Organization",
                                   "CareTeam"})
PROVENANCE_WHO_TYPES = frozenset({"Practitioner", "PractitionerRole", "RelatedPerson", "Patient", "Organization"})
DATA_OPERATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"

CARETEAM_KEY = "careteam"
CAREPLAN_KEY = "careplan"


@dataclass(frozen=True, slots=True)
class InEhr:
    """A resource we filed before: where it is in the EHR and the version we last wrote or saw."""

    reference: str  # "CarePlan/abc"
    version_id: str  # for If-Match


@dataclass(frozen=True, slots=True)
class FilingContext:
    """Everything besides the plan that the resources need."""

    patient_id: str
    now: datetime  # when the Provenance is recorded
    author: str = ""  # "Practitioner/1": the signed-in user, when the EHR named one
    references: Mapping[Role, str] = field(default_factory=dict)  # known people, e.g. {CLINICIAN: "Practitioner/7"}
    family_reference: str = ""  # "RelatedPerson/mother-1" or "Patient/123" when known
    encounter_id: str = ""  # the launch's encounter, for the filed note
    created: date | None = None  # date of the plan's first version
    in_ehr: Mapping[str, InEhr] = field(default_factory=dict)  # by write key: what is already filed
    narrative: NarrativeParts = field(default_factory=NarrativeParts)
    previous: Plan | None = None  # the plan last filed: what it had and this one has not is ended

    @property
    def patient_reference(self) -> str:
        return f"Patient/{self.patient_id}"

    def person(self, role: Role) -> str:
        return self.family_reference if role is Role.FAMILY else self.references.get(role, "")


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """One resource to send: created conditionally on our identifier, or updated with If-Match."""

    key: str  # "careplan", "careteam", "goal:g1", "task:a1", "provenance:v3"
    resource: Json
    method: str  # POST | PUT
    url: str  # "CarePlan" (create) or "CarePlan/abc" (update)
    full_url: str = ""  # urn:uuid:… for a create
    if_none_exist: str = ""
    if_match: str = ""


# -- keys and references ------------------------------------------------------------------------


def goal_key(goal_id: str) -> str:
    return f"goal:{goal_id}"


def task_key(action_id: str) -> str:
    return f"task:{action_id}"


def provenance_key(version: int) -> str:
    return f"provenance:v{version}"


def urn_for(plan_id: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{PLAN_IDENTIFIER_SYSTEM}:{plan_id}:{key}')}"


def provenance_id(plan_id: str, version: int) -> str:
    """The Provenance of one signed version has a fixed id, so writing it twice is one resource."""
    return f"spoc-{re.sub(r'[^A-Za-z0-9.-]', '-', plan_id)[:48]}-v{version}"


def _ref(key: str, plan_id: str, ctx: FilingContext) -> str:
    known = ctx.in_ehr.get(key)
    return known.reference if known else urn_for(plan_id, key)


def _identifier(system: str, value: str) -> Json:
    return {"system": system, "value": value}


# -- builders -----------------------------------------------------------------------------------


def build_careplan(version: PlanVersion, ctx: FilingContext) -> Json:
    """US Core CarePlan of the signed plan, with the narrative of all three parts."""
    plan, plan_id = version.plan, version.plan_id
    resource: Json = {
        "resourceType": "CarePlan",
        "meta": {"profile": [US_CORE_CAREPLAN]},
        "text": {"status": "additional", "div": plan_narrative(plan, ctx.narrative)},
        "extension": [{"url": PLAN_REVISION_URL, "valueInteger": plan.revision}],
        "identifier": [_identifier(PLAN_IDENTIFIER_SYSTEM, plan_id)],
        "status": "active" if plan.state is PlanState.SIGNED else "draft",
        "intent": "plan",
        "category": [
            {"coding": [{"system": US_CORE_CAREPLAN_CATEGORY, "code": "assess-plan",
                         "display": "Assessment and Plan of Treatment"}]},
            {"coding": [{"system": SNOMED, "code": "734163000", "display": "Care plan"}]},
            {"coding": [{"system": SPOC_CATEGORY_SYSTEM, "code": SPOC_CATEGORY_CODE, "display": TITLE}],
             "text": TITLE},
        ],
        "title": TITLE,
        "subject": {"reference": ctx.patient_reference},
    }
    if plan.family_priority:
        resource["extension"].append({"url": FAMILY_PRIORITY_URL, "valueString": plan.family_priority})
    period = _without_empty({"start": _day(plan.signed_at), "end": _day(plan.next_review)})
    if period:
        resource["period"] = period
    created = ctx.created or (plan.signed_at.date() if plan.signed_at else None)
    if created:
        resource["created"] = created.isoformat()
    author = _author(plan, ctx)
    if author:
        resource["author"] = author
    contributors = _unique(_signer(s, ctx, CAREPLAN_AUTHOR_TYPES) for s in signers(plan))
    if contributors:
        resource["contributor"] = contributors
    resource["careTeam"] = [{"reference": _ref(CARETEAM_KEY, plan_id, ctx)}]
    addresses = _condition_refs(plan)
    if addresses:
        resource["addresses"] = [{"reference": r} for r in addresses]
    if plan.goals:
        resource["goal"] = [{"reference": _ref(goal_key(g.goal_id), plan_id, ctx)} for g in plan.goals]
    if plan.actions:
        resource["activity"] = [
            {"reference": {"reference": _ref(task_key(a.action_id), plan_id, ctx), "display": _activity_display(a)}}
            for a in plan.actions
        ]
    return resource


def build_goal(goal: Goal, version: PlanVersion, ctx: FilingContext) -> Json:
    resource: Json = {
        "resourceType": "Goal",
        "meta": {"profile": [US_CORE_GOAL]},
        "identifier": [_identifier(GOAL_IDENTIFIER_SYSTEM, f"{version.plan_id}.{goal.goal_id}")],
        "lifecycleStatus": filed_lifecycle(goal, version.plan).value,
        "achievementStatus": {"coding": [{"system": GOAL_ACHIEVEMENT_SYSTEM, "code": goal.achievement.value,
                                          "display": goal.achievement.value.replace("-", " ").capitalize()}]},
        "category": [{"coding": [{"system": SPOC_GOAL_KIND_SYSTEM, "code": goal.kind.value}],
                      "text": "Family goal" if goal.kind is GoalKind.FAMILY else "Clinical goal"}],
        "description": {"text": goal.text},
        "subject": {"reference": ctx.patient_reference},
    }
    signed = _day(version.plan.signed_at)
    if signed:
        resource["startDate"] = signed
    if goal.target_date:
        resource["target"] = [{"dueDate": goal.target_date.isoformat()}]
    if goal.expressed_by:
        expressed: Json = {"display": goal.expressed_by}
        if goal.kind is GoalKind.FAMILY and ctx.family_reference:
            expressed = {"reference": ctx.family_reference, **expressed}
        resource["expressedBy"] = expressed
    if goal.condition_refs:
        resource["addresses"] = [{"reference": r} for r in goal.condition_refs]
    return resource


def build_task(action: NegotiatedAction, version: PlanVersion, ctx: FilingContext) -> Json:
    plan, plan_id = version.plan, version.plan_id
    resource: Json = {"resourceType": "Task"}
    extensions = []
    if action.goal_id and plan.goal(action.goal_id):
        extensions.append({"url": PERTAINS_TO_GOAL_URL,
                           "valueReference": {"reference": _ref(goal_key(action.goal_id), plan_id, ctx)}})
    # Task.reasonReference holds one reference in R4; the other conditions go in the workflow extension.
    extensions += [{"url": WORKFLOW_REASON_URL, "valueReference": {"reference": r}} for r in action.condition_refs[1:]]
    if extensions:
        resource["extension"] = extensions
    resource |= {
        "identifier": [_identifier(ACTION_IDENTIFIER_SYSTEM, f"{plan_id}.{action.action_id}")],
        "basedOn": [{"reference": _ref(CAREPLAN_KEY, plan_id, ctx)}],
        "status": TASK_STATUS[action.status] if plan.state is PlanState.SIGNED else "draft",
        "businessStatus": {"coding": [{"system": SPOC_ACTION_STATUS_SYSTEM, "code": action.status.value}],
                           "text": ACTION_STATUS_TEXT[action.status]},
        "intent": "plan",
        "description": action.text,
        "for": {"reference": ctx.patient_reference},
    }
    if plan.signed_at:
        resource["authoredOn"] = plan.signed_at.isoformat()
    if ctx.author:
        resource["requester"] = {"reference": ctx.author}
    owner = _member(action.owner, ctx, OWNER_TYPES, by_role=False)  # read back as the plan's owner: no guesses
    if owner:
        resource["owner"] = owner
    resource["performerType"] = [role_concept(action.owner.role)]
    period = _without_empty({"start": _day(plan.signed_at), "end": _day(action.due)})
    if period:
        resource["restriction"] = {"period": period}
    if action.condition_refs:
        resource["reasonReference"] = {"reference": action.condition_refs[0]}
    if action.progress:
        resource["note"] = [{"authorString": n.author, "time": n.at.isoformat(), "text": n.text}
                            for n in action.progress]
    return _ordered_task(resource)


def build_careteam(version: PlanVersion, ctx: FilingContext) -> Json:
    """One CareTeam: everyone who signed or owns an action, each person once with all their roles."""
    plan = version.plan
    people = [Owner(s.role, s.name, s.user) for s in signers(plan)] + [a.owner for a in plan.actions]
    named = {_name_key(p.name): p.reference for p in people if p.reference and _name_key(p.name)}
    members: dict[PersonKey, list[Owner]] = {}
    for person in people:
        reference = person.reference or named.get(_name_key(person.name), "")
        members.setdefault(owner_identity(Owner(person.role, person.name, reference)), []).append(
            Owner(person.role, person.name, reference))
    return {
        "resourceType": "CareTeam",
        "meta": {"profile": [US_CORE_CARETEAM]},
        "identifier": [_identifier(CARETEAM_IDENTIFIER_SYSTEM, version.plan_id)],
        "status": "active",
        "category": [{"coding": [{"system": LOINC, "code": "LA28865-6",
                                  "display": "Longitudinal care-coordination focused care team"}]}],
        "name": f"{TITLE} team",
        "subject": {"reference": ctx.patient_reference},
        "participant": [
            {"role": [role_concept(role) for role in dict.fromkeys(p.role for p in same)],
             "member": _member(next((p for p in same if p.name), same[0]), ctx, CARETEAM_MEMBER_TYPES)
             or {"display": ROLE_LABELS[same[0].role]}}
            for same in members.values()
        ],
    }


def build_provenance(version: PlanVersion, ctx: FilingContext, targets: Sequence[str]) -> Json:
    """Who authored and who signed this version: an agent and a signature per sign-off (§6.4)."""
    plan = version.plan
    agents, signatures = [], []
    for signoff in signers(plan):
        kind, signature_code, signature_display = SIGNATURE_KIND.get(signoff.role, VERIFIER)
        who = _signer(signoff, ctx, PROVENANCE_WHO_TYPES) or {"display": signoff.name}
        agents.append({"type": _concept(PROVENANCE_PARTICIPANT_SYSTEM, kind, kind.capitalize()),
                       "role": [role_concept(signoff.role)], "who": who})
        signatures.append({"type": [{"system": SIGNATURE_TYPE_SYSTEM, "code": signature_code,
                                     "display": signature_display}],
                           "when": signoff.at.isoformat(), "who": who})
    if ctx.author and not any(s.role is Role.CLINICIAN for s in plan.signoffs):
        agents.append({"type": _concept(PROVENANCE_PARTICIPANT_SYSTEM, "author", "Author"),
                       "who": {"reference": ctx.author}})
    resource: Json = {
        "resourceType": "Provenance",
        "id": provenance_id(version.plan_id, version.version),
        "meta": {"profile": [US_CORE_PROVENANCE]},
        "target": [{"reference": t} for t in targets],
        "recorded": ctx.now.isoformat(),
        "agent": agents,
    }
    if plan.signed_at:
        resource = {**resource, "occurredDateTime": plan.signed_at.isoformat()}
    if signatures:
        resource["signature"] = signatures
    return resource


def planned_writes(version: PlanVersion, ctx: FilingContext, *, with_provenance: bool = True) -> tuple[PlannedWrite, ...]:
    """Every write of the structured tier, in an order that also works one request at a time: the plan's
    resources, then the goals and tasks it no longer has, ended, each with the Provenance that says why."""
    plan, plan_id = version.plan, version.plan_id
    ended_goals, ended_actions = removed_items(ctx.previous, plan, ctx.in_ehr)
    before = replace(version, plan=ctx.previous) if ctx.previous else version
    writes = [_write(CARETEAM_KEY, build_careteam(version, ctx), CARETEAM_IDENTIFIER_SYSTEM, plan_id, ctx)]
    writes += [_write(goal_key(g.goal_id), build_goal(g, version, ctx), GOAL_IDENTIFIER_SYSTEM,
                      f"{plan_id}.{g.goal_id}", ctx, plan_id) for g in plan.goals]
    writes.append(_write(CAREPLAN_KEY, build_careplan(version, ctx), PLAN_IDENTIFIER_SYSTEM, plan_id, ctx))
    writes += [_write(task_key(a.action_id), build_task(a, version, ctx), ACTION_IDENTIFIER_SYSTEM,
                      f"{plan_id}.{a.action_id}", ctx, plan_id) for a in plan.actions]
    kept = len(writes)
    writes += [_write(goal_key(g.goal_id), build_goal(replace(g, lifecycle=GoalLifecycle.CANCELLED), before, ctx),
                      GOAL_IDENTIFIER_SYSTEM, f"{plan_id}.{g.goal_id}", ctx, plan_id) for g in ended_goals]
    writes += [_write(task_key(a.action_id), build_task(replace(a, status=ActionStatus.CANCELLED), before, ctx),
                      ACTION_IDENTIFIER_SYSTEM, f"{plan_id}.{a.action_id}", ctx, plan_id) for a in ended_actions]
    if with_provenance:
        provenance = build_provenance(version, ctx, [_ref(w.key, plan_id, ctx) for w in writes[:kept]])
        ended = [_ref(w.key, plan_id, ctx) for w in writes[kept:]]
        writes.append(PlannedWrite(provenance_key(version.version), provenance, "PUT",
                                   f"Provenance/{provenance['id']}"))
        if ended:
            why = build_ending_provenance(version, ctx, ended)
            writes.append(PlannedWrite(f"{provenance_key(version.version)}-ended", why, "PUT",
                                       f"Provenance/{why['id']}"))
    return tuple(writes)


def removed_items(previous: Plan | None, plan: Plan, in_ehr: Mapping[str, InEhr]
                  ) -> tuple[tuple[Goal, ...], tuple[NegotiatedAction, ...]]:
    """The goals and actions filed with the previous plan that this one no longer has."""
    if previous is None:
        return (), ()
    goals = {g.goal_id for g in plan.goals}
    actions = {a.action_id for a in plan.actions}
    return (tuple(g for g in previous.goals if g.goal_id not in goals and goal_key(g.goal_id) in in_ehr),
            tuple(a for a in previous.actions if a.action_id not in actions and task_key(a.action_id) in in_ehr))


def filed_with(plans: Sequence[Plan]) -> Plan | None:
    """One plan holding every goal and action of `plans` (oldest first; an item's latest wording wins):
    what the last filing and the attempts that stopped after it may have put in the EHR."""
    if not plans:
        return None
    goals = {g.goal_id: g for plan in plans for g in plan.goals}
    actions = {a.action_id: a for plan in plans for a in plan.actions}
    return replace(plans[-1], goals=tuple(goals.values()), actions=tuple(actions.values()))


def build_ending_provenance(version: PlanVersion, ctx: FilingContext, targets: Sequence[str]) -> Json:
    """Why goals and tasks were cancelled: the revision that removed them, signed by its signers."""
    resource = build_provenance(version, ctx, targets)
    reason = f"Removed from the {TITLE} in revision {version.plan.revision}"
    return {**resource, "id": f"{resource['id']}-ended",
            "activity": {"coding": [{"system": DATA_OPERATION_SYSTEM, "code": "UPDATE", "display": "revise"}],
                         "text": reason},
            "reason": [{"text": reason}]}


def filed_lifecycle(goal: Goal, plan: Plan) -> GoalLifecycle:
    """A goal of a signed plan is active once everyone signed, unless tracking ended or paused it."""
    if plan.state is PlanState.SIGNED and goal.lifecycle is GoalLifecycle.PROPOSED:
        return GoalLifecycle.ACTIVE
    return goal.lifecycle


def as_filed(plan: Plan) -> Plan:
    """The plan as the EHR holds it once filed (goal statuses as filed)."""
    return replace(plan, goals=tuple(replace(g, lifecycle=filed_lifecycle(g, plan)) for g in plan.goals))


def signers(plan: Plan) -> tuple[SignOff, ...]:
    """Each signer once (by identity, else by name), at their first signature."""
    seen: dict[PersonKey, SignOff] = {}
    for signoff in plan.signoffs:
        seen.setdefault(owner_identity(Owner(signoff.role, signoff.name, signoff.user)), signoff)
    return tuple(seen.values())


def build_transaction(version: PlanVersion, ctx: FilingContext, *, with_provenance: bool = True) -> Json:
    """The transaction Bundle: conditional creates for new resources, If-Match updates for filed ones."""
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [bundle_entry(w) for w in planned_writes(version, ctx, with_provenance=with_provenance)]}


def bundle_entry(write: PlannedWrite) -> Json:
    request: Json = {"method": write.method, "url": write.url}
    if write.if_none_exist:
        request["ifNoneExist"] = write.if_none_exist
    if write.if_match:
        request["ifMatch"] = write.if_match
    entry: Json = {"fullUrl": write.full_url} if write.full_url else {}
    return entry | {"resource": write.resource, "request": request}


def _write(key: str, resource: Json, system: str, value: str, ctx: FilingContext,
           plan_id: str | None = None) -> PlannedWrite:
    resource_type = resource["resourceType"]
    known = ctx.in_ehr.get(key)
    if known is not None:
        updated = {"resourceType": resource_type, "id": known.reference.split("/")[-1], **resource}
        return PlannedWrite(key, updated, "PUT", known.reference,
                            if_match=f'W/"{known.version_id}"')
    return PlannedWrite(key, resource, "POST", resource_type, full_url=urn_for(plan_id or value, key),
                        if_none_exist=urlencode([("identifier", f"{system}|{value}")]))


# -- reading back ---------------------------------------------------------------------------------


def plan_from_fhir(careplan: Mapping[str, Any], goals: Sequence[Mapping[str, Any]],
                   tasks: Sequence[Mapping[str, Any]], provenance: Mapping[str, Any] | None = None) -> Plan:
    """The plan the EHR holds: goals and actions in the CarePlan's order, sign-offs from the Provenance.
    Positions are not filed, so the result has none."""
    plan_id = _identifier_value(careplan, PLAN_IDENTIFIER_SYSTEM)
    goals_by_ref = {_local_ref(g): g for g in goals}
    tasks_by_ref = {_local_ref(t): t for t in tasks}
    goal_refs = [_local_ref_of(item.get("reference")) for item in _list(careplan.get("goal"))]
    plan_goals = tuple(_goal_from(goals_by_ref[r], plan_id) for r in goal_refs if r in goals_by_ref)
    goal_ids = {r: _suffix(_identifier_value(goals_by_ref[r], GOAL_IDENTIFIER_SYSTEM), plan_id)
                for r in goal_refs if r in goals_by_ref}
    task_refs = [_local_ref_of((item.get("reference") or {}).get("reference")) for item in _list(careplan.get("activity"))]
    actions = tuple(_action_from(tasks_by_ref[r], plan_id, goal_ids) for r in task_refs if r in tasks_by_ref)
    period = careplan.get("period") or {}
    signoffs, signed_at = _signoffs_from(provenance) if provenance else ((), None)
    return Plan(
        goals=plan_goals,
        actions=actions,
        state=PlanState.SIGNED if careplan.get("status") in ("active", "completed") else PlanState.DRAFT,
        signoffs=signoffs,
        family_priority=_words(_extension(careplan, FAMILY_PRIORITY_URL, "valueString")),
        revision=_extension(careplan, PLAN_REVISION_URL, "valueInteger") or 1,
        next_review=_date(period.get("end")),
        signed_at=signed_at,
    )


def _goal_from(resource: Mapping[str, Any], plan_id: str) -> Goal:
    target_dates = [_date(t.get("dueDate")) for t in _list(resource.get("target"))]
    return Goal(
        goal_id=_suffix(_identifier_value(resource, GOAL_IDENTIFIER_SYSTEM), plan_id),
        text=_words((resource.get("description") or {}).get("text")),
        kind=GoalKind(_code_in(resource.get("category"), SPOC_GOAL_KIND_SYSTEM) or GoalKind.CLINICAL),
        expressed_by=_words((resource.get("expressedBy") or {}).get("display")),
        target_date=next((d for d in target_dates if d), None),
        lifecycle=GoalLifecycle(resource.get("lifecycleStatus", GoalLifecycle.PROPOSED)),
        achievement=Achievement(_code_in([resource.get("achievementStatus")], GOAL_ACHIEVEMENT_SYSTEM)
                                or Achievement.IN_PROGRESS),
        condition_refs=tuple(a["reference"] for a in _list(resource.get("addresses")) if a.get("reference")),
    )


def _action_from(resource: Mapping[str, Any], plan_id: str, goal_ids: Mapping[str, str]) -> NegotiatedAction:
    goal_ref = next((_local_ref_of((e.get("valueReference") or {}).get("reference"))
                     for e in _list(resource.get("extension")) if e.get("url") == PERTAINS_TO_GOAL_URL), "")
    role = _code_in(resource.get("performerType"), SPOC_ROLE_SYSTEM)
    period = (resource.get("restriction") or {}).get("period") or {}
    status = _code_in([resource.get("businessStatus")], SPOC_ACTION_STATUS_SYSTEM)
    return NegotiatedAction(
        action_id=_suffix(_identifier_value(resource, ACTION_IDENTIFIER_SYSTEM), plan_id),
        text=_words(resource.get("description")),
        owner=Owner(Role(role) if role else Role.COORDINATOR, _words((resource.get("owner") or {}).get("display")),
                    _local_ref_of((resource.get("owner") or {}).get("reference"))),
        goal_id=goal_ids.get(goal_ref),
        due=_date(period.get("end")),
        status=ActionStatus(status) if status else ActionStatus.NOT_STARTED,
        condition_refs=_reasons(resource),
        progress=tuple(ProgressNote(_words(n.get("text")), _words(n.get("authorString")), datetime.fromisoformat(n["time"]))
                       for n in _list(resource.get("note")) if n.get("time")),
    )


def _reasons(task: Mapping[str, Any]) -> tuple[str, ...]:
    first = (task.get("reasonReference") or {}).get("reference")
    others = [(e.get("valueReference") or {}).get("reference") for e in _list(task.get("extension"))
              if e.get("url") == WORKFLOW_REASON_URL]
    return tuple(r for r in [first, *others] if isinstance(r, str) and r)


def _signoffs_from(provenance: Mapping[str, Any]) -> tuple[tuple[SignOff, ...], datetime | None]:
    signed = [(a, s) for a, s in zip(_list(provenance.get("agent")), _list(provenance.get("signature")), strict=False)]
    signoffs = tuple(
        SignOff(Role(_code_in(agent.get("role"), SPOC_ROLE_SYSTEM) or Role.CLINICIAN),
                _words((signature.get("who") or {}).get("display")), datetime.fromisoformat(signature["when"]),
                _local_ref_of((signature.get("who") or {}).get("reference")))
        for agent, signature in signed if signature.get("when")
    )
    occurred = provenance.get("occurredDateTime")
    return signoffs, datetime.fromisoformat(occurred) if occurred else None


# -- what differs between the EHR's copy and ours ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that differs between the EHR's copy of the plan and ours, in words."""

    what: str  # "Action 'Weekly PT': status"
    ours: str
    theirs: str


def same_content(ours: Plan, theirs: Plan) -> bool:
    """The EHR holds this plan: the same goals and actions (sign-offs and positions aside)."""
    return _content(as_filed(ours)) == _content(theirs)


def plan_differences(ours: Plan, theirs: Plan) -> tuple[Difference, ...]:
    """What the EHR's copy says differently from ours: plan fields, then goals, then actions."""
    ours = as_filed(ours)
    found = [Difference(label, _said(getattr(ours, name)), _said(getattr(theirs, name)))
             for name, label in (("family_priority", "What matters most"), ("next_review", "Next review"))
             if getattr(ours, name) != getattr(theirs, name)]
    found += _item_differences("Goal", ours.goals, theirs.goals, "goal_id",
                               (("text", "wording"), ("lifecycle", "status"), ("achievement", "progress"),
                                ("target_date", "target date")))
    found += _item_differences("Action", ours.actions, theirs.actions, "action_id",
                               (("text", "wording"), ("status", "status"), ("due", "due date"),
                                ("owner", "who")))
    return tuple(found)


def _item_differences(kind: str, ours: Sequence[Any], theirs: Sequence[Any], id_name: str,
                      fields: Sequence[tuple[str, str]]) -> list[Difference]:
    theirs_by_id = {getattr(t, id_name): t for t in theirs}
    ours_ids = {getattr(o, id_name) for o in ours}
    found = []
    for item in ours:
        other = theirs_by_id.get(getattr(item, id_name))
        if other is None:
            found.append(Difference(f"{kind} '{item.text}'", "in the plan", "not in the EHR's copy"))
            continue
        found += [Difference(f"{kind} '{item.text}': {label}", _said(getattr(item, name)), _said(getattr(other, name)))
                  for name, label in fields if getattr(item, name) != getattr(other, name)]
    found += [Difference(f"{kind} '{t.text}'", "not in the plan", "added in the EHR")
              for t in theirs if getattr(t, id_name) not in ours_ids]
    return found


def _said(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, Owner):
        return owner_label(value)
    if isinstance(value, (date, datetime)):
        return _day(value)
    return str(value)


def _content(plan: Plan) -> Plan:
    return Plan(goals=plan.goals, actions=plan.actions, state=plan.state, family_priority=plan.family_priority,
                revision=plan.revision, next_review=plan.next_review)


# -- small helpers ------------------------------------------------------------------------------


def role_concept(role: Role) -> Json:
    codings = []
    if role in ROLE_SNOMED:
        code, display = ROLE_SNOMED[role]
        codings.append({"system": SNOMED, "code": code, "display": display})
    codings.append({"system": SPOC_ROLE_SYSTEM, "code": role.value, "display": ROLE_LABELS[role]})
    return {"coding": codings, "text": ROLE_LABELS[role]}


def _person(role: Role, name: str, ctx: FilingContext) -> Json:
    """A Reference to a person: their resource when known, always with a display name when we have one."""
    reference = ctx.person(role)
    person = {"reference": reference} if reference else {}
    if name:
        person["display"] = name
    return person


def _author(plan: Plan, ctx: FilingContext) -> Json:
    clinician = next((s for s in plan.signoffs if s.role is Role.CLINICIAN), None)
    if clinician:
        return _signer(clinician, ctx, CAREPLAN_AUTHOR_TYPES) or ({"reference": ctx.author} if ctx.author else {})
    return {"reference": ctx.author} if ctx.author else {}


def _member(owner: Owner, ctx: FilingContext, types: frozenset[str], *, by_role: bool = True) -> Json:
    """A care-team member as a Reference: their own resource when the plan names it and the element may
    hold that type, else (`by_role`) what the context knows for the role; with their name when there is one."""
    name = {"display": owner.name} if owner.name else {}
    if owner.reference and resource_type(owner.reference) in types:
        return {"reference": owner.reference, **name}
    return _person(owner.role, owner.name, ctx) if by_role else name


def _signer(signoff: SignOff, ctx: FilingContext, types: frozenset[str]) -> Json:
    return _member(Owner(signoff.role, signoff.name, signoff.user), ctx, types)


def _name_key(name: str) -> str:
    return owner_identity(Owner(Role.FAMILY, name)).value if name.strip() else ""


def _activity_display(action: NegotiatedAction) -> str:
    due = f" (due {action.due.isoformat()})" if action.due else ""
    return f"{owner_label(action.owner)}: {action.text}{due}"


def _condition_refs(plan: Plan) -> list[str]:
    refs = [r for g in plan.goals for r in g.condition_refs] + [r for a in plan.actions for r in a.condition_refs]
    return list(dict.fromkeys(refs))


def _ordered_task(resource: Json) -> Json:
    """Task keys in the order a reader expects (extension and identifier first)."""
    first = ("resourceType", "extension", "identifier")
    return {k: resource[k] for k in first if k in resource} | {k: v for k, v in resource.items() if k not in first}


def _concept(system: str, code: str, display: str) -> Json:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _unique(people) -> list[Json]:
    seen: list[Json] = []
    for person in people:
        if person and person not in seen:
            seen.append(person)
    return seen


def _without_empty(values: Json) -> Json:
    return {k: v for k, v in values.items() if v}


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _date(value: object) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _list(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _identifier_value(resource: Mapping[str, Any], system: str) -> str:
    return next((i.get("value", "") for i in _list(resource.get("identifier")) if i.get("system") == system), "")


def _suffix(value: str, plan_id: str) -> str:
    return value.removeprefix(f"{plan_id}.")


def _code_in(concepts: object, system: str) -> str:
    for concept in _list(concepts):
        for coding in _list(concept.get("coding")):
            if coding.get("system") == system and isinstance(coding.get("code"), str):
                return coding["code"]
    return ""


def _words(value: Any) -> str:
    """Text the EHR holds, cleaned as every EHR text is (text.clean_text); '' when it is not text."""
    return clean_text(value) if isinstance(value, str) else ""


def _extension(resource: Mapping[str, Any], url: str, value_key: str) -> Any:
    return next((e.get(value_key) for e in _list(resource.get("extension")) if e.get("url") == url), None)


def _local_ref(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _local_ref_of(reference: object) -> str:
    """'Type/id' of a relative, absolute or versioned reference; '' for anything else."""
    if not isinstance(reference, str):
        return ""
    match = re.search(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$", reference)
    return f"{match.group(1)}/{match.group(2)}" if match else ""
