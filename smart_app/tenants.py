"""EHR tenants: one per exact `iss`, loaded from a TOML file (R60).

Layer: shell services. Secrets are never in the file: it names the environment variables that hold
them (R62).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import ConfigError, UnknownIssuer
from .plan.model import Role
from .plan.people import required_signers

CLIENT_TYPES = ("public", "confidential-symmetric", "confidential-asymmetric")
WRITE_MODES = ("careplan", "note", "none")
SIGNING_ALGS = ("RS384", "ES384")
QUIRK_DEFAULTS: dict[str, Any] = {
    "include_supported": True,
    "condition_categories_separately": True,
    "page_size": 100,
    "max_pages": 20,
    # In-flight FHIR requests per launch: a summary's first round (~20 searches, and the review's 5
    # "changed since signing" searches) all leave at once. Lower it for EHRs that rate-limit; every
    # launch of a process also shares its EHR's fair cap (fhir.lanes).
    "concurrency": 32,
    "max_transaction_entries": 0,  # 0: no known cap; above a cap the plan is written resource by resource
}
SETTINGS = frozenset({
    "name", "iss", "client_id", "redirect_uri", "client_type", "client_secret_env", "private_key_env",
    "signing_alg", "frame_ancestors", "auth_hosts", "scopes", "write_mode", "note_type", "review_months", "quirks",
    "signers", "ehr_careplan_view", "family_launch", "adolescent_parent_access", "adolescent_age",
})
PARENT_ACCESS = ("on", "off", "ask")  # a parent's or guardian's access to an adolescent's plan
SECRETS = ("client_secret", "private_key")


def normalize_iss(iss: str) -> str:
    """Lower-case scheme and host, no trailing slash: the only normalisation applied to `iss`."""
    parts = urlsplit(iss.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass(frozen=True, slots=True)
class Quirks:
    """Per-site FHIR behaviours, as configuration rather than code forks."""

    include_supported: bool = True
    condition_categories_separately: bool = True
    page_size: int = 100
    max_pages: int = 20
    concurrency: int = 32
    max_transaction_entries: int = 0


@dataclass(frozen=True, slots=True)
class Tenant:
    """One EHR (one FHIR base URL) the app may be launched from."""

    name: str
    iss: str
    client_id: str
    redirect_uri: str
    client_type: str = "public"
    client_secret_env: str | None = None
    private_key_env: str | None = None  # env var naming a file holding a private JWK set (JSON)
    signing_alg: str = "ES384"
    frame_ancestors: tuple[str, ...] = ()
    auth_hosts: tuple[str, ...] = ()  # extra hosts allowed for authorize/token besides the iss host
    scopes: tuple[str, ...] = ()  # empty: the app's default request for its features
    write_mode: str = "note"
    note_type: str = "http://loinc.org|18776-5"  # system|code of the plan-of-care note at this site
    review_months: int = 6  # how often a signed plan is due for review at this site
    signers: tuple[str, ...] = ("coordinator", "clinician")  # the roles that must sign a plan here
    quirks: Quirks = field(default_factory=Quirks)
    # Where the EHR's own screens show a CarePlan, "{id}" standing for its id ("" when the site names none).
    ehr_careplan_view: str = ""
    family_launch: bool = False  # the family's own door (standalone launch from the patient portal)
    adolescent_parent_access: str = "ask"  # on | off | ask: a parent's access from adolescent_age on
    adolescent_age: int = 12

    def careplan_view(self, careplan_id: str) -> str:
        """The EHR's own view of the filed CarePlan, when the site names one; "" otherwise."""
        return self.ehr_careplan_view.replace("{id}", quote(careplan_id, safe="")) if self.ehr_careplan_view else ""

    @property
    def key(self) -> str:
        return normalize_iss(self.iss)

    @property
    def signer_roles(self) -> tuple[Role, ...]:
        """The roles that must sign a plan at this site (checked when the file is read)."""
        return required_signers(self.signers)

    def client_secret(self) -> str:
        value = os.environ.get(self.client_secret_env or "", "")
        if not value:
            raise ConfigError(f"The client secret for {self.name} is not set.")
        return value

    def pinned_hosts(self) -> frozenset[str]:
        return frozenset({urlsplit(self.iss).netloc.lower(), *(h.lower() for h in self.auth_hosts)})


class TenantRegistry:
    """Tenants by exact, normalised `iss`. Unknown issuers are refused before any request (R1)."""

    def __init__(self, tenants: Iterable[Tenant]) -> None:
        self._by_iss = {t.key: t for t in tenants}

    def __iter__(self):
        return iter(self._by_iss.values())

    def __len__(self) -> int:
        return len(self._by_iss)

    def for_iss(self, iss: str | None) -> Tenant:
        tenant = self._by_iss.get(normalize_iss(iss or ""))
        if tenant is None:
            raise UnknownIssuer(
                "This EHR is not configured for the Shared Plan of Care app. "
                "Ask your EHR administrator to register it."
            )
        return tenant

    def all_frame_ancestors(self) -> tuple[str, ...]:
        return tuple(sorted({a for t in self for a in t.frame_ancestors}))

    @classmethod
    def load(cls, path: Path) -> TenantRegistry:
        problems, tenants = check_tenants_file(path)
        if problems:
            raise ConfigError(f"The tenants file {path} has problems:\n" + "\n".join(problems))
        return cls(tenants)


def check_tenants_file(path: Path) -> tuple[list[str], list[Tenant]]:
    """Problems as 'file:line: message' strings, and the tenants that parsed cleanly."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        return [f"{path}: cannot read the file ({err.strerror})"], []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return [f"{path}: not valid TOML: {err}"], []
    entries = data.get("tenant")
    if not isinstance(entries, list) or not entries:
        return [f"{path}:1: no [[tenant]] entries"], []
    locate = _Locator(text)
    problems: list[str] = []
    tenants: list[Tenant] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        found = [(key, msg) for key, msg in _entry_problems(entry)]
        if not found:
            tenant = _tenant_from(entry)
            if tenant.key in seen:
                found.append(("iss", f"the same iss as tenant #{seen[tenant.key] + 1}"))
            else:
                seen[tenant.key] = index
                tenants.append(tenant)
        problems += [f"{path}:{locate.line(index, key)}: tenant #{index + 1}: {key}: {msg}" for key, msg in found]
    return problems, tenants


def _entry_problems(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for key in entry:  # a misspelt key must not fall back to a default silently (client_tpye: a public client)
        if key not in SETTINGS and key not in SECRETS:
            yield key, "is not a known setting"
    for key in ("name", "iss", "client_id", "redirect_uri"):
        if not isinstance(entry.get(key), str) or not entry.get(key):
            yield key, "is required (a non-empty string)"
    for key in ("iss", "redirect_uri"):
        value = entry.get(key)
        if isinstance(value, str) and value and not _is_http_url(value):
            yield key, "must be an absolute http(s) URL"
    client_type = entry.get("client_type", "public")
    if client_type not in CLIENT_TYPES:
        yield "client_type", f"must be one of {', '.join(CLIENT_TYPES)}"
    if client_type == "confidential-symmetric" and not entry.get("client_secret_env"):
        yield "client_secret_env", "is required for a confidential-symmetric client (the env var holding the secret)"
    if client_type == "confidential-asymmetric" and not entry.get("private_key_env"):
        yield "private_key_env", "is required for a confidential-asymmetric client (env var naming the JWK set file)"
    if entry.get("signing_alg", "ES384") not in SIGNING_ALGS:
        yield "signing_alg", f"must be one of {', '.join(SIGNING_ALGS)}"
    for key in ("client_secret_env", "private_key_env"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key]):
            yield key, "must be the name of an environment variable"
    for key in SECRETS:
        if key in entry:
            yield key, "secrets must not be in this file; name an environment variable with *_env"
    note_type = entry.get("note_type", "http://loinc.org|18776-5")
    if not isinstance(note_type, str) or note_type.count("|") != 1 or not all(note_type.split("|")):
        yield "note_type", "must be 'system|code', e.g. http://loinc.org|18776-5"
    review_months = entry.get("review_months", 6)
    if not isinstance(review_months, int) or isinstance(review_months, bool) or not 1 <= review_months <= 24:
        yield "review_months", "must be a whole number of months from 1 to 24"
    signers = entry.get("signers", ["coordinator", "clinician"])
    if not isinstance(signers, list) or not all(isinstance(v, str) for v in signers):
        yield "signers", "must be a list of roles, e.g. [\"coordinator\", \"clinician\"]"
    else:
        try:
            required_signers(signers)
        except ValueError as err:
            yield "signers", str(err)
    view = entry.get("ehr_careplan_view", "")
    if view and (not isinstance(view, str) or not _is_http_url(view) or "{id}" not in view):
        yield "ehr_careplan_view", "must be an absolute http(s) URL with {id} where the CarePlan's id goes"
    if not isinstance(entry.get("family_launch", False), bool):
        yield "family_launch", "must be true or false"
    if entry.get("adolescent_parent_access", "ask") not in PARENT_ACCESS:
        yield "adolescent_parent_access", f"must be one of {', '.join(PARENT_ACCESS)}"
    age = entry.get("adolescent_age", 12)
    if not isinstance(age, int) or isinstance(age, bool) or not 10 <= age <= 18:
        yield "adolescent_age", "must be a whole number of years from 10 to 18"
    if entry.get("write_mode", "note") not in WRITE_MODES:
        yield "write_mode", f"must be one of {', '.join(WRITE_MODES)}"
    for key in ("frame_ancestors", "scopes", "auth_hosts"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            yield key, "must be a list of strings"
    for origin in entry.get("frame_ancestors", []) if isinstance(entry.get("frame_ancestors"), list) else []:
        if isinstance(origin, str) and not re.fullmatch(r"https?://[^/\s;]+", origin):
            yield "frame_ancestors", f"{origin!r} is not an origin like https://ehr.example.org"
    quirks = entry.get("quirks", {})
    if not isinstance(quirks, dict):
        yield "quirks", "must be a table"
        return
    for key, value in quirks.items():
        if key not in QUIRK_DEFAULTS:
            yield f"quirks.{key}", "is not a known quirk"
        elif type(value) is not type(QUIRK_DEFAULTS[key]):
            yield f"quirks.{key}", f"must be a {type(QUIRK_DEFAULTS[key]).__name__}"
        elif isinstance(value, int) and not isinstance(value, bool) and value < (0 if key == "max_transaction_entries" else 1):
            yield f"quirks.{key}", "must be at least 1"


def _tenant_from(entry: Mapping[str, Any]) -> Tenant:
    return Tenant(
        name=entry["name"],
        iss=entry["iss"],
        client_id=entry["client_id"],
        redirect_uri=entry["redirect_uri"],
        client_type=entry.get("client_type", "public"),
        client_secret_env=entry.get("client_secret_env"),
        private_key_env=entry.get("private_key_env"),
        signing_alg=entry.get("signing_alg", "ES384"),
        frame_ancestors=tuple(entry.get("frame_ancestors", ())),
        auth_hosts=tuple(entry.get("auth_hosts", ())),
        scopes=tuple(entry.get("scopes", ())),
        write_mode=entry.get("write_mode", "note"),
        note_type=entry.get("note_type", "http://loinc.org|18776-5"),
        review_months=entry.get("review_months", 6),
        signers=tuple(entry.get("signers", ("coordinator", "clinician"))),
        quirks=Quirks(**{**QUIRK_DEFAULTS, **entry.get("quirks", {})}),
        ehr_careplan_view=entry.get("ehr_careplan_view", ""),
        family_launch=entry.get("family_launch", False),
        adolescent_parent_access=entry.get("adolescent_parent_access", "ask"),
        adolescent_age=entry.get("adolescent_age", 12),
    )


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class _Locator:
    """Finds the line of a key inside the N-th [[tenant]] block, for line-by-line messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.starts = [i for i, line in enumerate(self.lines) if line.strip() == "[[tenant]]"]

    def line(self, index: int, key: str) -> int:
        if index >= len(self.starts):
            return 1
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.lines)
        leaf = key.split(".")[-1]
        for i in range(start, end):
            if re.match(rf"\s*{re.escape(leaf)}\s*=", self.lines[i]):
                return i + 1
        return start + 1
