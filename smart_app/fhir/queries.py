"""The summary's query plan: which FHIR searches fill each section of a SourceRecord, run in parallel.

Layer: FHIR out. Imports smart_app.fhir.gateway/capabilities, smart_app.errors and smart_app.plan.record.

Searches and codes follow SPOC-DOMAIN.md §5 and R37-R45. `planned_searches` is pure (what to ask);
`fetch_sections` asks it. Sections run in parallel, and so do the independent searches within a section;
the gateway bounds in-flight requests and never sends the same GET twice. A section whose search fails
comes back FAILED with a plain note; the others are unaffected.

The CapabilityStatement is not waited for before the sections start: it is read (once, shared) next to
the first searches, and only the sections that choose a search by it wait for it, after starting their
other searches. It is not read at all when no requested section needs it.

Servers that ignore `_include` (R42) are handled by resolving every reference that the search left
unresolved (not included, not contained) with bounded individual reads. That covers a server whose
`self` link shows the `_include` dropped, a profile with `include_supported=False`, and a server that
honours `_include` only in part.

`fetch_updated_since` asks, where the server supports `_lastUpdated`, which of the patient's resources
changed after a moment (the plan's signing), for the review cycle to report changes its own diff misses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from smart_app.errors import FhirAccessError, ForeignUrl, ScopeDenied, TokenExpired
from smart_app.fhir.capabilities import Capabilities
from smart_app.fhir.gateway import (
    RELATIVE_REFERENCE,
    FhirHttpError,
    FhirReader,
    SearchResult,
)
from smart_app.plan.dates import add_months
from smart_app.plan.record import (
    SECTION_KEYS,
    FhirJson,
    SectionFetch,
    SectionState,
    SourceRecord,
)
from smart_app.plan.summary import (
    ADVANCE_DIRECTIVES_CATEGORY,
    ASSESS_PLAN,
    ENCOUNTER_LOOKBACK_MONTHS,
    GOAL_LIFECYCLES,
    MEDICATION_ORDER_STATUSES,
    MEDICATION_STATEMENT_STATUSES,
    PERSONAL_ADVANCE_CARE_PLAN_TYPE,
)

PROBLEM_LIST_ITEM = "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
ENCOUNTER_DIAGNOSIS = "http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis"
HEALTH_CONCERN = "http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern"
CONDITION_ACTIVE = "http://terminology.hl7.org/CodeSystem/condition-clinical|active"
ALLERGY_ACTIVE = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|active"
CAREPLAN_ASSESS_PLAN = "|".join(ASSESS_PLAN)
ADVANCE_DIRECTIVES = "|".join(ADVANCE_DIRECTIVES_CATEGORY)
PERSONAL_ADVANCE_CARE_PLAN = "|".join(PERSONAL_ADVANCE_CARE_PLAN_TYPE)

CARE_TEAM_INCLUDES = (
    "CareTeam:participant:PractitionerRole",
    "CareTeam:participant:Practitioner",
    "CareTeam:participant:RelatedPerson",
    "CareTeam:participant:Organization",
)
ROLE_INCLUDES = ("PractitionerRole:practitioner", "PractitionerRole:organization")
ENCOUNTER_INCLUDES = ("Encounter:participant", "Encounter:service-provider")
# Sections whose searches page longest or need follow-up reads start first, so they are not queued
# behind quick ones for the gateway's few request slots.
LONG_SECTIONS_FIRST = ("encounters", "medications", "care_team", "services")
PEOPLE = frozenset({"Practitioner", "PractitionerRole", "Organization", "RelatedPerson"})
REFUSED_STATUSES = frozenset({400, 404, 405, 410, 422, 501})  # "this server does not do that search"

NOT_OFFERED_NOTES = {
    "RelatedPerson": "Family members and contacts are not available from this EHR.",
    "DeviceUseStatement": "Equipment in use is not available from this EHR; it is not shown.",
    "DeviceRequest": "Equipment orders are not available from this EHR; they are not shown.",
}
# Searches chosen by the CapabilityStatement (or by the site's profile); every other search is asked at once.
CAPABILITY_CHOSEN = frozenset({"MedicationStatement", "DeviceUseStatement", "DeviceRequest"})
NOT_OFFERED_STATUSES = frozenset({404, 405, 501})
NOT_OFFERED_NOTE = "This EHR does not offer this part of the record to apps."
LOOKUP_CAPPED_NOTE = "Some linked details (such as clinician or medicine names) were not looked up."
LOOKUP_FAILED_NOTE = "Some linked details could not be read from the EHR."


@dataclass(frozen=True, slots=True)
class QueryProfile:
    """Per-site quirks, from the tenant file."""

    include_supported: bool = True  # False: never send _include, resolve references by reads
    condition_categories_separately: bool = True  # one Condition request per category (R37)
    page_size: int = 100
    max_pages: int = 20
    max_reference_reads: int = 200  # per section: bound on individual reads of referenced resources
    medication_statement: bool | None = None  # None: search it only if the CapabilityStatement lists it
    typed_patient_reference: bool = True  # patient=Patient/123 (every server matches it); False: patient=123


@dataclass(frozen=True, slots=True)
class PlannedSearch:
    """One search of the plan. An optional search that the server refuses is left out with a note; a
    filtered one (`filtered`) that is refused is not an error either: the section's confirming search,
    without the filter, answers instead (see `confirming_search`)."""

    resource_type: str
    params: tuple[tuple[str, str], ...]
    optional: bool = False
    filtered: bool = False


@dataclass(frozen=True, slots=True)
class ReferenceRound:
    """References to resolve by reads after the searches: which resources point where, and how many."""

    targets: frozenset[str]
    references_of: Callable[[FhirJson], Iterable[object]]
    budget_share: int = 1  # the section may read max_reference_reads // budget_share resources


CapabilitiesSource = Capabilities | Callable[[], Capabilities] | None


class CapabilitiesOnce:
    """The server's capabilities, asked for on first need and at most once, whichever thread needs them.

    `source` is a Capabilities value, None (nothing known) or a callable that reads them (a `metadata`
    round trip); the callable's answer, or the FhirAccessError it raised, is kept for every later caller.
    """

    def __init__(self, source: CapabilitiesSource) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._asked = not callable(source)
        self._value: Capabilities | None = None if callable(source) else source
        self._error: FhirAccessError | None = None

    def get(self) -> Capabilities | None:
        with self._lock:
            if not self._asked:
                try:
                    self._value = self._source()  # type: ignore[operator]
                except FhirAccessError as error:  # kept: every section that needs them fails alike
                    self._error = error
                self._asked = True
        if self._error is not None:
            raise self._error
        return self._value

    def known(self) -> Capabilities | None:
        """The capabilities if they have been read already (without asking); else None."""
        with self._lock:
            return self._value if self._asked else None


def consults_capabilities(key: str, profile: QueryProfile) -> bool:
    """Whether section `key` chooses any of its searches by the CapabilityStatement on this site."""
    return key == "equipment" or (key == "medications" and profile.medication_statement is None)


# -- what to ask (pure) ---------------------------------------------------------------------------


def planned_searches(
    key: str, patient_id: str, profile: QueryProfile, *, today: date, capabilities: Capabilities | None = None
) -> tuple[PlannedSearch, ...]:
    """The searches that fill section `key` for this site. The patient section also reads Patient/{id}."""
    pid = patient_param(patient_id, profile)
    count = ("_count", str(profile.page_size))

    def search(resource_type: str, *params: tuple[str, str], optional: bool = False) -> PlannedSearch:
        return PlannedSearch(resource_type, (pid, *params, count), optional, filtered=key in CONFIRMED_SECTIONS)

    def includes(*targets: str, name: str = "_include") -> tuple[tuple[str, str], ...]:
        return tuple((name, target) for target in targets) if profile.include_supported else ()

    if key == "patient":
        return (search("RelatedPerson", optional=True),)
    if key == "conditions":
        # Each category asked for explicitly (R37: some servers answer only with one), and once without a
        # category, for the Conditions that carry none (R4 allows it; SMART's sample patients do).
        active = ("clinical-status", CONDITION_ACTIVE)
        categories = (PROBLEM_LIST_ITEM, HEALTH_CONCERN, ENCOUNTER_DIAGNOSIS)
        by_category = (tuple(search("Condition", ("category", c), active) for c in categories)
                       if profile.condition_categories_separately
                       else (search("Condition", ("category", ",".join(categories)), active),))
        return (*by_category, search("Condition", active))
    if key == "medications":
        orders = search(
            "MedicationRequest",
            ("intent", "order,plan"),
            ("status", ",".join(MEDICATION_ORDER_STATUSES)),
            *includes("MedicationRequest:medication"),
        )
        if not _searches_medication_statements(profile, capabilities):
            return (orders,)
        return (orders, search("MedicationStatement", ("status", ",".join(MEDICATION_STATEMENT_STATUSES))))
    if key == "allergies":
        return (search("AllergyIntolerance", ("clinical-status", ALLERGY_ACTIVE)),)
    if key == "procedures":
        return (search("Procedure"),)
    if key == "equipment":
        extras = tuple(
            search(t, optional=True) for t in ("DeviceUseStatement", "DeviceRequest") if _may_search(t, capabilities)
        )
        return (search("Device"), *extras)
    if key == "care_team":
        return (
            search(
                "CareTeam",
                ("status", "active"),
                *includes(*CARE_TEAM_INCLUDES),
                *includes(*ROLE_INCLUDES, name="_include:iterate"),
            ),
        )
    if key == "encounters":
        since = add_months(today, -ENCOUNTER_LOOKBACK_MONTHS)
        return (search("Encounter", ("date", f"ge{since.isoformat()}"), *includes(*ENCOUNTER_INCLUDES)),)
    if key == "services":
        return (search("ServiceRequest", ("status", "active"), *includes("ServiceRequest:performer")),)
    if key == "goals":
        return (search("Goal", ("lifecycle-status", ",".join(GOAL_LIFECYCLES))),)
    if key == "care_plans":
        return (search("CarePlan", ("category", CAREPLAN_ASSESS_PLAN)),)
    if key == "documents":
        return (
            search("DocumentReference", ("category", ADVANCE_DIRECTIVES)),
            search("DocumentReference", ("type", PERSONAL_ADVANCE_CARE_PLAN)),
        )
    raise ValueError(f"unknown summary section: {key!r}")


# Sections where an empty list is a safety statement ("no allergies"). A server-side filter alone never
# makes them empty: a filtered search that is refused or comes back empty is followed by this search
# without the filter, and the app filters what it gets (plan.summary keeps only what is current).
CONFIRMED_SECTIONS = frozenset({"conditions", "allergies", "medications"})
CONFIRMED_TYPE = {"conditions": "Condition", "allergies": "AllergyIntolerance", "medications": "MedicationRequest"}


def confirming_search(key: str, patient_id: str, profile: QueryProfile) -> PlannedSearch | None:
    """The section's search without the filters that could wrongly empty it; None for other sections.
    Medication orders keep `intent` (US Core servers require it with `patient`)."""
    if key not in CONFIRMED_SECTIONS:
        return None
    params: tuple[tuple[str, str], ...] = (patient_param(patient_id, profile),)
    if key == "medications":
        params += (("intent", "order,plan"),)
        if profile.include_supported:
            params += (("_include", "MedicationRequest:medication"),)
    return PlannedSearch(CONFIRMED_TYPE[key], (*params, ("_count", str(profile.page_size))))


def patient_param(patient_id: str, profile: QueryProfile) -> tuple[str, str]:
    """`patient=Patient/123`: a typed reference every server matches (some match nothing for a bare id)."""
    return ("patient", f"Patient/{patient_id}" if profile.typed_patient_reference else patient_id)


def _searches_medication_statements(profile: QueryProfile, capabilities: Capabilities | None) -> bool:
    if profile.medication_statement is not None:
        return profile.medication_statement
    return capabilities is not None and capabilities.supports_search("MedicationStatement")


def _may_search(resource_type: str, capabilities: Capabilities | None) -> bool:
    """Non-US-Core searches are tried unless a known CapabilityStatement leaves them out."""
    return capabilities is None or not capabilities.known or capabilities.supports_search(resource_type)


# -- references ---------------------------------------------------------------------------------


def reference_key(reference: object, base_url: str) -> str | None:
    """'Type/id' for a reference this EHR can resolve; None for contained, foreign or unusable ones."""
    if not isinstance(reference, str) or not reference or reference.startswith("#"):
        return None
    if "://" in reference:
        prefix = base_url.rstrip("/") + "/"
        if not reference.startswith(prefix):
            return None
        reference = reference[len(prefix) :]
    reference = reference.split("/_history/", 1)[0]
    return reference if RELATIVE_REFERENCE.match(reference) else None


def resource_key(resource: FhirJson) -> str | None:
    kind, rid = resource.get("resourceType"), resource.get("id")
    return f"{kind}/{rid}" if isinstance(kind, str) and isinstance(rid, str) and rid else None


def _references(*values: object) -> Iterator[object]:
    """The `reference` strings of Reference values and lists of them."""
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Mapping):
                yield item.get("reference")


def _medication_references(resource: FhirJson) -> Iterable[object]:
    return _references(resource.get("medicationReference"))


def _care_team_members(resource: FhirJson) -> Iterable[object]:
    participants = resource.get("participant")
    for participant in participants if isinstance(participants, list) else []:
        if isinstance(participant, Mapping):
            yield from _references(participant.get("member"), participant.get("onBehalfOf"))


def _role_holders(resource: FhirJson) -> Iterable[object]:
    if resource.get("resourceType") != "PractitionerRole":
        return ()
    return _references(resource.get("practitioner"), resource.get("organization"))


def _encounter_people(resource: FhirJson) -> Iterable[object]:
    participants = resource.get("participant")
    for participant in participants if isinstance(participants, list) else []:
        if isinstance(participant, Mapping):
            yield from _references(participant.get("individual"))
    yield from _references(resource.get("serviceProvider"))


def _service_performers(resource: FhirJson) -> Iterable[object]:
    return _references(resource.get("performer"))


REFERENCE_ROUNDS: Mapping[str, tuple[ReferenceRound, ...]] = {
    "medications": (ReferenceRound(frozenset({"Medication"}), _medication_references),),
    "care_team": (ReferenceRound(PEOPLE, _care_team_members), ReferenceRound(PEOPLE, _role_holders)),
    "encounters": (ReferenceRound(PEOPLE - {"RelatedPerson"}, _encounter_people, budget_share=4),),
    "services": (ReferenceRound(PEOPLE, _service_performers, budget_share=4),),
}


# -- asking -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Section:
    """What one section has gathered so far (private, mutable while the section is fetched)."""

    key: str
    base_url: str
    resources: dict[str, FhirJson] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    incomplete: bool = False

    def add(self, resources: Iterable[FhirJson]) -> None:
        for resource in resources:
            if resource.get("resourceType") == "OperationOutcome":
                continue
            # Resources without an id cannot repeat across pages; keep each under a key of its own.
            self.resources.setdefault(resource_key(resource) or f"#{len(self.resources)}", resource)

    def note(self, text: str, *, incomplete: bool = False) -> None:
        if text not in self.notes:
            self.notes.append(text)
        self.incomplete = self.incomplete or incomplete

    def fetch(self) -> SectionFetch:
        state = SectionState.INCOMPLETE if self.incomplete else SectionState.COMPLETE
        return SectionFetch(self.key, tuple(self.resources.values()), state, tuple(self.notes))


# Threads shared by every launch of the process, made once rather than ~20 per launch. A search or read
# never waits on a section, so the two pools cannot deadlock; they are large because their threads
# mostly wait: what bounds the EHR's load is the gateway's per-launch semaphore and its lane's fair cap.
SEARCH_THREADS = 256
SECTION_THREADS = 256
_search_pool = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="fhir-search")
_section_pool = ThreadPoolExecutor(max_workers=SECTION_THREADS, thread_name_prefix="fhir-section")


class LaunchTasks:
    """One launch's tasks on a shared pool: what it submitted, so that it can drop what has not started
    when the page is left, and wait for what has."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._futures: list[Future[Any]] = []
        self._cancelled = False

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        with self._lock:
            if self._cancelled:  # as a shut-down executor does: the launch is over
                raise RuntimeError("cannot schedule new tasks for a launch that has ended")
            future = self._pool.submit(fn, *args)
            self._futures.append(future)
        return future

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            futures = list(self._futures)
        for future in futures:
            future.cancel()

    def wait(self) -> None:
        with self._lock:
            futures = list(self._futures)
        wait(futures)


def search_tasks() -> LaunchTasks:
    """Tasks that send requests and never wait on another task."""
    return LaunchTasks(_search_pool)


def section_tasks() -> LaunchTasks:
    """Tasks that may wait on search tasks (never the other way round)."""
    return LaunchTasks(_section_pool)


@dataclass(frozen=True, slots=True)
class _Context:
    gateway: FhirReader
    patient_id: str
    profile: QueryProfile
    today: date
    capabilities: CapabilitiesOnce
    pool: LaunchTasks  # for the searches and reads inside a section; they never wait on each other


def fetch_sections(
    gateway: FhirReader,
    patient_id: str,
    profile: QueryProfile,
    *,
    today: date,
    capabilities: CapabilitiesSource = None,
    keys: Sequence[str] = SECTION_KEYS,
) -> Iterator[SectionFetch]:
    """Fetch the sections in parallel and yield each SectionFetch as it completes.

    `capabilities` may be a callable (reading `metadata`): it is called at most once, and only by a
    section that chooses a search by it, while that section's other searches are already under way.
    """
    unknown = [key for key in keys if key not in SECTION_KEYS]
    if unknown:
        raise ValueError(f"unknown summary sections: {unknown}")
    if not keys:
        return
    inner, outer = search_tasks(), section_tasks()
    context = _Context(gateway, patient_id, profile, today, CapabilitiesOnce(capabilities), inner)
    try:
        if any(consults_capabilities(key, profile) for key in keys):
            # Asked first, next to the searches rather than before them, so that it is not queued
            # behind them for a request slot; the sections that need it wait for this one read.
            outer.submit(_ask_early, context.capabilities)
        ordered = sorted(keys, key=lambda k: LONG_SECTIONS_FIRST.index(k) if k in LONG_SECTIONS_FIRST else 99)
        futures = [outer.submit(_fetch_section, key, context) for key in ordered]
        for future in as_completed(futures):
            yield future.result()
    finally:
        inner.cancel()
        outer.cancel()
        outer.wait()
        inner.wait()


def _ask_early(capabilities: CapabilitiesOnce) -> None:
    """Start the capabilities read; its outcome, error included, is what the sections that need it get."""
    try:
        capabilities.get()
    except FhirAccessError:
        pass


def fetch_source_record(
    gateway: FhirReader,
    patient_id: str,
    profile: QueryProfile,
    *,
    today: date,
    capabilities: CapabilitiesSource = None,
) -> SourceRecord:
    """Every section for one patient, in SECTION_KEYS order."""
    fetched = {f.key: f for f in fetch_sections(gateway, patient_id, profile, today=today, capabilities=capabilities)}
    return SourceRecord(patient_id=patient_id, sections={key: fetched[key] for key in SECTION_KEYS})


def _fetch_section(key: str, context: _Context) -> SectionFetch:
    """One section; an EHR failure makes it FAILED with a plain note rather than an exception, or
    NOT_OFFERED when the server refuses a search its CapabilityStatement does not list."""
    try:
        return _gather(key, context).fetch()
    except FhirAccessError as error:
        if (isinstance(error, FhirHttpError) and error.status in NOT_OFFERED_STATUSES and key != "patient"
                and _not_listed(key, context)):
            return SectionFetch(key, state=SectionState.NOT_OFFERED, notes=(NOT_OFFERED_NOTE,))
        return SectionFetch(key, state=SectionState.FAILED, notes=(failure_note(error),))


def _not_listed(key: str, context: _Context) -> bool:
    """The server's CapabilityStatement is known and does not list a search of this section's records."""
    try:
        capabilities = context.capabilities.get()
    except FhirAccessError:
        return False
    searches = planned_searches(key, context.patient_id, context.profile, today=context.today)
    return capabilities is not None and capabilities.known and not any(
        capabilities.supports_search(s.resource_type) for s in searches)


def failure_note(error: FhirAccessError) -> str:
    """Plain words for a failed section; never the EHR's own text (it may name the patient)."""
    if isinstance(error, TokenExpired):
        return "Access to the EHR has expired. Relaunch the app from the chart."
    if isinstance(error, ScopeDenied):
        return "The EHR did not allow the app to read this section."
    if isinstance(error, ForeignUrl):
        return "The EHR pointed the app at another server, so this section was not loaded."
    return "The EHR could not return this section. Try again."


def _gather(key: str, context: _Context) -> _Section:
    section = _Section(key, context.gateway.base_url)
    patient: Future[dict[str, Any]] | None = None
    if key == "patient":
        patient = context.pool.submit(context.gateway.read, f"Patient/{context.patient_id}")
    running: dict[PlannedSearch, Future[SearchResult | None]] = {}

    def start(searches: Iterable[PlannedSearch]) -> None:
        for search in searches:
            if search not in running:
                running[search] = context.pool.submit(_search_or_refusal, context, search)

    plan = partial(planned_searches, key, context.patient_id, context.profile, today=context.today)
    if consults_capabilities(key, context.profile):
        start(s for s in plan(capabilities=Capabilities.unknown()) if s.resource_type not in CAPABILITY_CHOSEN)
        searches = plan(capabilities=context.capabilities.get())
    else:
        searches = plan()
    start(searches)
    if patient is not None:
        section.add([patient.result()])
    results = [(search, running[search].result()) for search in searches]
    confirming = confirming_search(key, context.patient_id, context.profile)
    if confirming is not None and _needs_confirming(results, CONFIRMED_TYPE[key]):
        results.append((confirming, _search_or_refusal(context, confirming)))
    included: list[FhirJson] = []
    for search, result in results:
        if result is None:
            if not search.filtered:
                section.note(NOT_OFFERED_NOTES.get(search.resource_type, "Part of this section is not available."))
            continue
        section.add(result.resources)
        included.extend(result.included)
        for note in result.notes:
            section.note(note, incomplete=True)
        if not result.complete:
            section.note(f"Only the first {result.pages} pages were loaded; the EHR holds more.", incomplete=True)
    section.add(included)
    _resolve_references(section, context, REFERENCE_ROUNDS.get(key, ()))
    if key == "medications":
        _drop_duplicate_statements(section)
    return section


def _needs_confirming(results: Sequence[tuple[PlannedSearch, SearchResult | None]], resource_type: str) -> bool:
    """A filtered search was refused, or all of them together found nothing of the section's type."""
    if any(result is None for _, result in results):
        return True
    return not any(r.get("resourceType") == resource_type for _, result in results for r in result.resources)


def _search_or_refusal(context: _Context, search: PlannedSearch) -> SearchResult | None:
    """Run a search; None when an optional or filtered one is refused by the server (it does not offer
    that search, or not with that filter)."""
    try:
        return context.gateway.search(search.resource_type, search.params, max_pages=context.profile.max_pages)
    except (ScopeDenied, FhirHttpError) as error:
        refused = isinstance(error, ScopeDenied) or error.status in REFUSED_STATUSES
        if refused and (search.optional or (search.filtered and not isinstance(error, ScopeDenied))):
            return None
        raise


def _resolve_references(section: _Section, context: _Context, rounds: Sequence[ReferenceRound]) -> None:
    """Read, in parallel and within budget, what the section's resources point at but do not hold."""
    budget = context.profile.max_reference_reads // max(1, min((r.budget_share for r in rounds), default=1))
    for round_ in rounds:
        wanted = _unresolved(section, round_)
        if len(wanted) > budget:
            section.note(LOOKUP_CAPPED_NOTE, incomplete=True)
            wanted = wanted[:budget]
        budget -= len(wanted)
        found = _read_all(context, wanted)
        if any(resource is None for resource in found):
            section.note(LOOKUP_FAILED_NOTE, incomplete=True)
        section.add(resource for resource in found if resource is not None)


BATCH_MAX_IDS = 50  # per `_id` search: keeps its URL well under the common 8 kB limit


def _read_all(context: _Context, wanted: Sequence[str]) -> list[FhirJson | None]:
    """The resources at `wanted` ("Type/id"), in order; None for any the EHR cannot give. Several of
    one type are asked in one `Type?_id=a,b,c` search (where the server does not say it lacks `_id`),
    all types at once; whatever that search did not bring back is read one by one, as before."""
    by_type: dict[str, list[str]] = {}
    for reference in wanted:
        kind, rid = reference.split("/", 1)
        by_type.setdefault(kind, []).append(rid)
    batches = [(kind, ids[i:i + BATCH_MAX_IDS]) for kind, ids in by_type.items()
               if len(ids) > 1 and _may_batch(kind, context.capabilities.known())
               for i in range(0, len(ids), BATCH_MAX_IDS)]
    batched = {reference for kind, ids in batches for reference in (f"{kind}/{rid}" for rid in ids)}
    singles = {ref: context.pool.submit(_read_or_none, context.gateway, ref) for ref in wanted if ref not in batched}
    found: dict[str, FhirJson] = {}
    for future in [context.pool.submit(_batch_or_nothing, context, kind, ids) for kind, ids in batches]:
        found.update(future.result())
    singles.update({ref: context.pool.submit(_read_or_none, context.gateway, ref)
                    for ref in batched if ref not in found})
    return [found[ref] if ref in found else singles[ref].result() for ref in wanted]


def _may_batch(resource_type: str, capabilities: Capabilities | None) -> bool:
    if capabilities is None or not capabilities.known:
        return True
    return capabilities.supports_search(resource_type) and "_id" in capabilities.search_param_names(resource_type)


def _batch_or_nothing(context: _Context, resource_type: str, ids: Sequence[str]) -> dict[str, FhirJson]:
    """The resources of one `_id` search by "Type/id"; nothing when it is refused or fails (they are
    then read one by one). Only resources of the asked type and ids count, whatever else came back."""
    params = (("_id", ",".join(ids)), ("_count", str(len(ids))))
    try:
        result = context.gateway.search(resource_type, params, max_pages=1)
    except TokenExpired:
        raise
    except FhirAccessError:
        return {}
    asked = {f"{resource_type}/{rid}" for rid in ids}
    return {key: r for r in result.resources if (key := resource_key(r)) in asked}


def _unresolved(section: _Section, round_: ReferenceRound) -> list[str]:
    wanted: dict[str, None] = {}
    for resource in list(section.resources.values()):
        for reference in round_.references_of(resource):
            key = reference_key(reference, section.base_url)
            if key and key.split("/", 1)[0] in round_.targets and key not in section.resources:
                wanted[key] = None
    return list(wanted)


def _read_or_none(gateway: FhirReader, reference: str) -> dict[str, Any] | None:
    """A referenced resource, or None when the EHR cannot give it (the item still shows, less detailed)."""
    try:
        return gateway.read(reference)
    except TokenExpired:
        raise
    except FhirAccessError:
        return None


# -- medications ----------------------------------------------------------------------------------


def _drop_duplicate_statements(section: _Section) -> None:
    """A MedicationStatement saying the same as an active order is left out (R40): same identifier,
    same medication code, or `basedOn` the order."""
    resources = section.resources
    orders = [r for r in resources.values() if r.get("resourceType") == "MedicationRequest"]
    order_identifiers = {i for order in orders for i in _identifiers(order)}
    order_codes = {c for order in orders for c in _medication_codes(order, resources, section.base_url)}
    order_keys = {resource_key(order) for order in orders}
    for key, statement in list(resources.items()):
        if statement.get("resourceType") != "MedicationStatement":
            continue
        based_on = {reference_key(r, section.base_url) for r in _references(statement.get("basedOn"))}
        if (
            order_identifiers & set(_identifiers(statement))
            or order_codes & set(_medication_codes(statement, resources, section.base_url))
            or order_keys & based_on
        ):
            del resources[key]


def _identifiers(resource: FhirJson) -> Iterator[tuple[str, str]]:
    identifiers = resource.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if isinstance(identifier, Mapping) and isinstance(identifier.get("value"), str):
            yield str(identifier.get("system", "")), identifier["value"]


def _medication_codes(resource: FhirJson, known: Mapping[str, FhirJson], base_url: str) -> Iterator[tuple[str, str]]:
    concept = resource.get("medicationCodeableConcept")
    reference = resource.get("medicationReference")
    target = reference.get("reference") if isinstance(reference, Mapping) else None
    if isinstance(target, str) and target.startswith("#"):
        contained = resource.get("contained")
        for item in contained if isinstance(contained, list) else []:
            if isinstance(item, Mapping) and item.get("id") == target[1:]:
                concept = item.get("code")
    else:
        medication = known.get(reference_key(target, base_url) or "")
        if medication is not None:
            concept = medication.get("code")
    codings = concept.get("coding") if isinstance(concept, Mapping) else None
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
            yield str(coding.get("system", "")), coding["code"]


# -- what changed since a moment (`_lastUpdated`) -------------------------------------------------

UPDATED_SINCE_TYPES = ("Condition", "Encounter", "MedicationRequest", "AllergyIntolerance", "Device")
UPDATED_SINCE_MAX_PAGES = 3  # ids only: a few pages cover any real run of changes between two reviews


@dataclass(frozen=True, slots=True)
class UpdatedSince:
    """What the EHR says changed after a moment: the "Type/id" of each resource updated since, and the
    types it could be asked about (changes to the other types are unknown, not absent)."""

    references: frozenset[str] = frozenset()
    supported: frozenset[str] = frozenset()


def fetch_updated_since(
    gateway: FhirReader,
    patient_id: str,
    since: datetime,
    capabilities: Capabilities | None,
    types: Sequence[str] = UPDATED_SINCE_TYPES,
    *,
    profile: QueryProfile = QueryProfile(),
    max_pages: int = UPDATED_SINCE_MAX_PAGES,
) -> UpdatedSince:
    """`T?patient={pid}&_lastUpdated=gt{since}` for each type the server supports it on, in parallel.

    A known CapabilityStatement decides which types are asked. Without one every type is tried, and a
    refusal (400, 403, 404...) or a `self` link that shows `_lastUpdated` dropped means "not supported".
    Any other failure of one type leaves that type out too: the caller falls back to its own diff."""
    asked = [t for t in types if _may_ask_last_updated(t, capabilities)]
    if not asked:
        return UpdatedSince()
    params = (patient_param(patient_id, profile), ("_lastUpdated", f"gt{fhir_instant(since)}"),
              ("_count", str(profile.page_size)))
    tasks = search_tasks()
    futures = [tasks.submit(_updated_of_type, gateway, params, max_pages, t) for t in asked]
    answers = [(t, future.result()) for t, future in zip(asked, futures, strict=True)]
    return UpdatedSince(
        references=frozenset(ref for _, found in answers if found is not None for ref in found),
        supported=frozenset(t for t, found in answers if found is not None),
    )


def fhir_instant(moment: datetime) -> str:
    """A FHIR instant in UTC to the millisecond ("2025-03-01T14:05:09.120Z"); a naive time is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _may_ask_last_updated(resource_type: str, capabilities: Capabilities | None) -> bool:
    if capabilities is None or not capabilities.known:
        return True
    return "_lastUpdated" in capabilities.search_param_names(resource_type)


def _updated_of_type(
    gateway: FhirReader, params: tuple[tuple[str, str], ...], max_pages: int, resource_type: str
) -> frozenset[str] | None:
    """The "Type/id" updated since, or None when the server cannot say for this type."""
    try:
        result = gateway.search(resource_type, params, max_pages=max_pages)
    except FhirAccessError:
        return None
    if result.self_link is not None and "_lastUpdated" not in result.self_link:
        return None  # the server ignored the parameter: what came back is everything, not what changed
    return frozenset(
        key for key in map(resource_key, result.resources) if key and key.startswith(f"{resource_type}/")
    )
