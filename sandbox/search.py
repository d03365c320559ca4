"""FHIR search over the sandbox store: parameter parsing, matching, _include and _revinclude.

Layer: sandbox. Imports: stdlib only. Pure functions over FHIR JSON dicts; resources are looked
up through a `resolve(reference) -> dict | None` callable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

Resolve = Callable[[str], "dict | None"]

# Types outside any patient's compartment: readable by anyone granted the type.
SHARED_TYPES = frozenset(
    {"Practitioner", "PractitionerRole", "Organization", "Medication", "Location", "HealthcareService",
     "Endpoint", "Substance", "ValueSet", "CodeSystem", "Questionnaire"}
)
PATIENT_FIELDS = ("subject", "patient", "for", "beneficiary")

TOKEN_FIELDS = {
    "category": ("category",),
    "clinical-status": ("clinicalStatus",),
    "verification-status": ("verificationStatus",),
    "status": ("status",),
    "intent": ("intent",),
    "lifecycle-status": ("lifecycleStatus",),
    "code": ("code", "medicationCodeableConcept", "vaccineCode"),
    "type": ("type",),
}
REFERENCE_PARAMS = frozenset(
    {"subject", "encounter", "target", "practitioner", "organization", "participant", "based-on",
     "part-of", "medication", "author", "performer", "requester", "care-team", "goal"}
)
# The resource's "natural" date, first present wins.
NATURAL_DATE_PATHS = (
    "onsetDateTime", "onsetPeriod.start", "authoredOn", "period.start", "recorded", "recordedDate",
    "performedDateTime", "performedPeriod.start", "date", "effectiveDateTime", "effectivePeriod.start",
    "occurrenceDateTime", "issued", "startDate", "created",
)
CONTROL_PARAMS = frozenset({"_count", "_include", "_revinclude", "_include:iterate", "_revinclude:iterate"})
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


class SearchError(ValueError):
    """A search the server refuses (HTTP 400)."""


@dataclass(frozen=True)
class Criterion:
    name: str
    modifier: str | None
    values: tuple[str, ...]  # comma-separated alternatives (OR)


@dataclass(frozen=True)
class IncludeSpec:
    source_type: str
    param: str
    target_type: str | None = None
    iterate: bool = False


@dataclass(frozen=True)
class Query:
    resource_type: str
    criteria: tuple[Criterion, ...] = ()
    count: int | None = None
    includes: tuple[IncludeSpec, ...] = ()
    revincludes: tuple[IncludeSpec, ...] = ()
    echoed: tuple[tuple[str, str], ...] = field(default=())  # what the `self` link shows

    def values_of(self, name: str) -> tuple[str, ...]:
        return tuple(v for c in self.criteria if c.name == name for v in c.values)


# --- parsing -----------------------------------------------------------------------------------

def parse_query(
    resource_type: str,
    params: Iterable[tuple[str, str]],
    *,
    include_supported: bool = True,
    reject_comma_category: bool = False,
) -> Query:
    """Read the parameters this sandbox knows; unknown ones are ignored and not echoed."""
    criteria, includes, revincludes, echoed = [], [], [], []
    count = None
    for raw_name, value in params:
        name, _, modifier = raw_name.partition(":")
        if raw_name in ("_include", "_include:iterate", "_revinclude", "_revinclude:iterate"):
            if not include_supported:
                continue
            spec = _include_spec(value, iterate=modifier == "iterate")
            if spec is None:
                continue
            (includes if name == "_include" else revincludes).append(spec)
        elif name == "_count":
            count = _count(value)
        elif _known(name):
            if name == "category" and reject_comma_category and "," in value:
                raise SearchError("category does not accept a comma-separated list; search once per category")
            if name in ("date", "_lastUpdated"):
                for part in value.split(","):
                    _date_bound(part)
            criteria.append(Criterion(name, modifier or None, tuple(v for v in value.split(",") if v)))
        else:
            continue
        echoed.append((raw_name, value))
    return Query(resource_type, tuple(criteria), count, tuple(includes), tuple(revincludes), tuple(echoed))


def _known(name: str) -> bool:
    return name in TOKEN_FIELDS or name in REFERENCE_PARAMS or name in (
        "patient", "_id", "identifier", "date", "_lastUpdated")


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise SearchError(f"_count must be a whole number, not {value!r}") from None
    if count < 0:
        raise SearchError("_count must not be negative")
    return count


def _include_spec(value: str, *, iterate: bool) -> IncludeSpec | None:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    return IncludeSpec(parts[0], parts[1], parts[2] if len(parts) == 3 else None, iterate)


# --- references --------------------------------------------------------------------------------

def references_in(value: object) -> Iterator[str]:
    """Every `reference` string nested anywhere inside a FHIR element."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from references_in(item)


def reference_id(reference: str, resource_type: str | None = None) -> tuple[str, str] | None:
    """("Type", "id") of a relative or absolute reference, ignoring any _history suffix."""
    match = re.search(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$", reference)
    if not match or (resource_type and match.group(1) != resource_type):
        return None
    return match.group(1), match.group(2)


def param_references(resource: dict, param: str) -> list[str]:
    """References held by the element a reference search parameter names (kebab -> camelCase)."""
    camel = re.sub(r"-([a-z])", lambda m: m.group(1).upper(), param)
    found = []
    for name in (camel, camel + "Reference"):
        found.extend(references_in(resource.get(name)))
    return found


def patient_ids(resource: dict, resolve: Resolve) -> set[str]:
    """The patients whose compartment holds this resource."""
    if resource.get("resourceType") == "Patient":
        return {resource["id"]}
    ids = {
        ref[1]
        for name in PATIENT_FIELDS
        for reference in references_in(resource.get(name))
        if (ref := reference_id(reference, "Patient"))
    }
    if resource.get("resourceType") == "Provenance" and not ids:
        for reference in references_in(resource.get("target")):
            if ref := reference_id(reference, "Patient"):
                ids.add(ref[1])
            elif (target := resolve(reference)) and target.get("resourceType") != "Provenance":
                ids |= patient_ids(target, resolve)
    return ids


# --- matching ----------------------------------------------------------------------------------

def matches(resource: dict, query: Query, resolve: Resolve) -> bool:
    return all(_meets(resource, c, resolve) for c in query.criteria)


def _meets(resource: dict, criterion: Criterion, resolve: Resolve) -> bool:
    name, values = criterion.name, criterion.values
    if name == "patient":
        wanted = {_bare_id(v, "Patient") for v in values}
        return bool(wanted & patient_ids(resource, resolve))
    if name == "_id":
        return resource.get("id") in values
    if name == "identifier":
        return any(_identifier_matches(i, v) for i in resource.get("identifier", ()) for v in values)
    if name in ("date", "_lastUpdated"):
        when = _natural_date(resource) if name == "date" else resource.get("meta", {}).get("lastUpdated")
        return when is not None and any(_date_matches(when, v) for v in values)
    if name in TOKEN_FIELDS:
        codes = [c for f in TOKEN_FIELDS[name] for c in _codes(resource.get(f))]
        hit = any(_token_matches(codes, v) for v in values)
        return not hit if criterion.modifier == "not" else hit
    if name in REFERENCE_PARAMS:
        held = {reference_id(r) for r in param_references(resource, name)}
        return any(_reference_wanted(v, held) for v in values)
    return True


def _bare_id(value: str, resource_type: str) -> str:
    ref = reference_id(value, resource_type)
    return ref[1] if ref else value


def _reference_wanted(value: str, held: set) -> bool:
    ref = reference_id(value)
    if ref:
        return ref in held
    return any(h and h[1] == value for h in held)


def _identifier_matches(identifier: dict, value: str) -> bool:
    if "|" not in value:
        return identifier.get("value") == value
    system, _, code = value.partition("|")
    return (not system or identifier.get("system") == system) and (not code or identifier.get("value") == code)


def _codes(value: object) -> Iterator[tuple[str | None, str]]:
    if isinstance(value, str):
        yield None, value
    elif isinstance(value, list):
        for item in value:
            yield from _codes(item)
    elif isinstance(value, dict):
        if "coding" in value:
            yield from _codes(value["coding"])
        elif "code" in value:
            yield value.get("system"), value["code"]


def _token_matches(codes: list[tuple[str | None, str]], value: str) -> bool:
    if "|" not in value:
        return any(code == value for _, code in codes)
    system, _, code = value.partition("|")
    if not system:
        return any(s is None and c == code for s, c in codes)
    return any(s == system and (not code or c == code) for s, c in codes)


def _natural_date(resource: dict) -> str | None:
    for path in NATURAL_DATE_PATHS:
        value: object = resource
        for step in path.split("."):
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return None


# --- dates -------------------------------------------------------------------------------------

@lru_cache(maxsize=1024)  # a search compares every candidate with the same few query values
def _date_bound(value: str) -> tuple[str, datetime, datetime]:
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    try:
        start, end = date_range(text)
    except ValueError:
        raise SearchError(f"not a FHIR date: {text!r}") from None
    return prefix, start, end


def date_range(text: str) -> tuple[datetime, datetime]:
    """The span of time a FHIR date, dateTime or instant covers, as naive UTC."""
    if re.fullmatch(r"\d{4}", text):
        start = datetime(int(text), 1, 1)
        return start, start.replace(year=start.year + 1)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        start = datetime(int(text[:4]), int(text[5:]), 1)
        following = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
            month=start.month + 1)
        return start, following
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        start = datetime.fromisoformat(text)
        return start, start + timedelta(days=1)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment, moment + _time_precision(text)


def _time_precision(text: str) -> timedelta:
    """How much time the last digit of a dateTime stands for: a second, or less with a fraction
    (".120" is a millisecond), so that `gt` an instant in milliseconds means after that millisecond."""
    fraction = re.search(r"T\d{2}:\d{2}:\d{2}\.(\d+)", text)
    if fraction is None:
        return timedelta(seconds=1)
    return timedelta(microseconds=10 ** max(0, 6 - len(fraction.group(1))))


def _date_matches(when: str, value: str) -> bool:
    prefix, start, end = _date_bound(value)
    try:
        moment = date_range(when)[0]
    except ValueError:
        return False
    return {
        "eq": start <= moment < end,
        "ne": not start <= moment < end,
        "gt": moment >= end,
        "sa": moment >= end,
        "lt": moment < start,
        "eb": moment < start,
        "ge": moment >= start,
        "le": moment < end,
    }[prefix]


# --- _include / _revinclude --------------------------------------------------------------------

def included(found: list[dict], query: Query, resolve: Resolve, candidates: Callable[[str], list[dict]]) -> list[dict]:
    """Resources pulled in by the query's _include and _revinclude, without duplicates or matches."""
    seen = {(r["resourceType"], r["id"]) for r in found}
    extra: list[dict] = []

    def add(resource: dict | None) -> None:
        if resource and (resource["resourceType"], resource["id"]) not in seen:
            seen.add((resource["resourceType"], resource["id"]))
            extra.append(resource)

    for spec in query.includes:
        sources = found + extra if spec.iterate else found
        for source in [s for s in sources if s["resourceType"] == spec.source_type]:
            for reference in param_references(source, spec.param):
                ref = reference_id(reference, spec.target_type)
                if ref:
                    add(resolve(f"{ref[0]}/{ref[1]}"))
    keys = {(r["resourceType"], r["id"]) for r in found}
    for spec in query.revincludes:
        for candidate in candidates(spec.source_type):
            held = {reference_id(r) for r in param_references(candidate, spec.param)}
            if held & keys:
                add(candidate)
    return extra
