"""Sandbox configuration: registered clients, injected faults and the live switches.

Layer: sandbox (test double of an EHR). Imports: stdlib only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

DEFAULT_CLIENT_ID = "spoc-demo"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8100/callback"
DEFAULT_APP_LAUNCH_URL = "http://127.0.0.1:8100/launch"
DEFAULT_WRITE_TYPES = ("CarePlan", "Goal", "Task", "CareTeam", "Provenance", "DocumentReference")


@dataclass(frozen=True)
class SandboxClient:
    client_id: str
    redirect_uris: tuple[str, ...]
    auth: str = "public"  # "public" | "client_secret_basic" | "private_key_jwt"
    secret: str | None = None
    jwks: dict | None = None  # public JWKS for private_key_jwt
    jwks_url: str | None = None


@dataclass(frozen=True)
class Fault:
    """A failure injected into matching /fhir requests, for tests and benchmarks."""

    path_regex: str  # matched against path + "?" + query, e.g. r"^/fhir/Condition"
    status: int  # 429, 500, 503...; below 400 without a body means "only slow, then answer normally"
    times: int = 1  # how many matching requests fail; -1 = forever
    retry_after: str | None = None
    method: str = "GET"
    delay_ms: int = 0
    body: str | None = None  # answer with this body as it is (any status), e.g. JSON nested 200,000 deep
    after: int = 0  # let this many matching requests through first: "fail the 4th write"


class SandboxUser(NamedTuple):
    """Someone the chart lets you "sign in as"."""

    practitioner_id: str
    display: str
    role: str


PORTAL_USER_TYPES = ("RelatedPerson", "Patient")


class PortalAccount(NamedTuple):
    """Someone who signs in to the patient portal: a parent (RelatedPerson) or the patient themself."""

    account_id: str
    display: str
    user_type: str  # "RelatedPerson" | "Patient"
    user_id: str  # the FHIR id of that RelatedPerson or Patient
    patient_id: str  # the patient whose record the account opens
    relation: str  # shown on the portal, e.g. "mother of Sofia Rivera"


def _default_clients() -> list[SandboxClient]:
    return [SandboxClient(DEFAULT_CLIENT_ID, (DEFAULT_REDIRECT_URI,))]


def _default_portal_accounts() -> list[PortalAccount]:
    """Families of the bundled characters (sandbox.data.characters)."""
    return [
        PortalAccount("ana-rivera", "Ana Lucía Rivera", "RelatedPerson", "sofia-rivera-relatedperson-mother",
                      "sofia-rivera", "mother of Sofia Rivera"),
        PortalAccount("walter-hughes", "Walter Hughes", "Patient", "walter-hughes", "walter-hughes",
                      "the patient himself"),
        PortalAccount("karen-oconnor", "Karen O'Connor", "RelatedPerson", "daniel-oconnor-relatedperson-mother",
                      "daniel-oconnor", "mother of Daniel O'Connor"),
    ]


@dataclass
class SandboxConfig:
    """Everything a test can vary. Mutable on purpose: /_sandbox/config merges into it live."""

    app_launch_url: str = DEFAULT_APP_LAUNCH_URL
    app_family_launch_url: str | None = None  # the portal's app tile; None -> app_launch_url + "/family"
    clients: list[SandboxClient] = field(default_factory=_default_clients)
    resources: list[dict] | None = None  # None -> sandbox.data.characters
    today: date | None = None  # the day the bundled characters are built around; None: the clock's day
    clock_offset: timedelta = timedelta(0)  # added to the real time: pins the EHR's day with the app's
    latency_ms: int = 0
    include_supported: bool = True
    default_page_size: int = 50
    max_page_size: int = 100
    reject_comma_category: bool = False
    # What real servers and proxies in front of them do to a query (issue 14):
    collapsing_proxy: bool = False  # a proxy collapses `//` in the raw query, then decodes it
    filters_ignored: bool = False  # only patient, _id, identifier, _count and _include are honoured
    unsupported_types: tuple[str, ...] = ()  # types this server does not offer at all (404, not in metadata)
    access_token_lifetime_s: int = 3600
    permission_v2: bool = True
    faults: list[Fault] = field(default_factory=list)
    outcome_warnings: dict[str, str] = field(default_factory=dict)
    write_types: tuple[str, ...] = DEFAULT_WRITE_TYPES
    transaction_supported: bool = True
    max_transaction_entries: int | None = None
    # Transactions still advertised in the CapabilityStatement, but every one refused with HTTP 400 and an
    # OperationOutcome saying so, as some EHRs do: the app must learn it from the refusal.
    transactions_refused: bool = False
    # If-None-Exist honoured and conditionalCreate in the CapabilityStatement; False: neither, as servers
    # without conditional create do (every POST creates).
    conditional_create: bool = True
    users: list[SandboxUser] = field(default_factory=list)
    # Who can sign in to the patient portal (/portal/) and launch the app standalone as family.
    portal_accounts: list[PortalAccount] = field(default_factory=_default_portal_accounts)
    # Another FHIR server's base: the sandbox then does SMART in front of it and forwards every /fhir
    # request there (sandbox.upstream) instead of answering from its own store.
    upstream_fhir: str | None = None

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def day(self) -> date:
        return self.today or self.now().date()

    def client(self, client_id: str | None) -> SandboxClient | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def portal_account(self, account_id: str | None) -> PortalAccount | None:
        return next((a for a in self.portal_accounts if a.account_id == account_id), None)

    def family_launch_url(self) -> str:
        return self.app_family_launch_url or self.app_launch_url.rstrip("/") + "/family"


LIVE_FIELDS = frozenset(
    {
        "latency_ms",
        "include_supported",
        "faults",
        "outcome_warnings",
        "reject_comma_category",
        "collapsing_proxy",
        "filters_ignored",
        "unsupported_types",
        "write_types",
        "transaction_supported",
        "max_transaction_entries",
        "transactions_refused",
        "conditional_create",
        "access_token_lifetime_s",
        "default_page_size",
        "max_page_size",
        "permission_v2",
        "portal_accounts",
    }
)


# How the sandbox's own FHIR server searches: with an upstream server these are the upstream's business.
SEARCH_FIELDS = frozenset(
    {"include_supported", "outcome_warnings", "reject_comma_category", "default_page_size", "max_page_size"}
)


class ConfigError(ValueError):
    """A /_sandbox/config change names an unknown field or has the wrong shape."""


def merge_live(config: SandboxConfig, changes: dict[str, Any]) -> None:
    """Apply a JSON change set (from /_sandbox/config) to the live config."""
    unknown = set(changes) - LIVE_FIELDS
    if unknown:
        raise ConfigError(f"not a live setting: {', '.join(sorted(unknown))}")
    unused = set(changes) & SEARCH_FIELDS if config.upstream_fhir else set()
    if unused:
        raise ConfigError(f"not applied in front of an upstream FHIR server: {', '.join(sorted(unused))}")
    for name, value in changes.items():
        setattr(config, name, _coerce(name, value))


def _coerce(name: str, value: Any) -> Any:
    if name == "faults":
        return [as_fault(f) for f in value or ()]
    if name == "portal_accounts":
        return as_portal_accounts(value)
    if name in ("write_types", "unsupported_types"):
        return tuple(value)
    if name == "outcome_warnings":
        return dict(value or {})
    return value


def as_fault(value: Fault | dict) -> Fault:
    if isinstance(value, Fault):
        return value
    names = {f.name for f in dataclasses.fields(Fault)}
    unknown = set(value) - names
    if unknown:
        raise ConfigError(f"unknown fault field: {', '.join(sorted(unknown))}")
    return Fault(**value)


def as_portal_accounts(values: list) -> list[PortalAccount]:
    if not isinstance(values, list):
        raise ConfigError("portal_accounts is a JSON list of accounts")
    accounts = [as_portal_account(a) for a in values]
    if len({a.account_id for a in accounts}) != len(accounts):
        raise ConfigError("portal account ids must be unique")
    return accounts


def as_portal_account(value: PortalAccount | dict) -> PortalAccount:
    if isinstance(value, PortalAccount):
        return value
    if not isinstance(value, dict):
        raise ConfigError("a portal account is a JSON object")
    names = set(PortalAccount._fields)
    if set(value) != names:
        missing, unknown = names - set(value), set(value) - names
        raise ConfigError(f"portal account fields: missing {sorted(missing)}, unknown {sorted(unknown)}")
    if not all(isinstance(v, str) and v for v in value.values()):
        raise ConfigError("every portal account field is a non-empty string")
    if value["user_type"] not in PORTAL_USER_TYPES:
        raise ConfigError(f"portal account user_type must be one of {', '.join(PORTAL_USER_TYPES)}")
    return PortalAccount(**value)
