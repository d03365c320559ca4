"""Benchmark: filing a plan of real size in the EHR, by strategy (issue 15). `python -m bench.filing`.

Layer: benchmarks (not shipped, not pass/fail). The sandbox EHR in a child process answers every FHIR
request after `--latency-ms` (default 50); one app (Flask test client, SQLite) per strategy files a
signed plan of 6 goals and 15 actions (24 writes with the CareTeam, the CarePlan and the Provenance).
How the EHR takes transactions sets the strategy:

- one transaction: the EHR takes any;
- transactions of at most 8, known: the tenant's quirk says 8;
- transactions of at most 8, learned: the EHR refuses the first transaction (413, "at most 8");
- one write at a time: the EHR offers no transactions (its CapabilityStatement says so).

Printed per strategy: wall time of the filing (the POST that files, to its answer), FHIR requests
(reads of the EHR's copy included) and of them writes (POST/PUT).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from bench.plan_edits import Person
from bench.summary_load import LATENCY_MS, SandboxSpec, bench_tenant, sandbox_running
from bench.tables import render_table, sig
from smart_app import create_app
from smart_app.clock import Clock
from smart_app.config import Settings
from smart_app.plan.model import Goal, NegotiatedAction, Owner, Plan, PlanState, Role, SignOff
from smart_app.store import upgrade
from smart_app.tenants import Quirks, TenantRegistry

PATIENT = "sofia-rivera"
COORDINATOR, CLINICIAN = "Practitioner/jordan-lee", "Practitioner/amara-okafor"


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    ehr: dict  # the sandbox's live settings
    tenant_cap: int = 0  # the tenant's max_transaction_entries quirk


STRATEGIES = (
    Strategy("one transaction", {}),
    Strategy("transactions of at most 8, known", {"max_transaction_entries": 8}, tenant_cap=8),
    Strategy("transactions of at most 8, learned", {"max_transaction_entries": 8}),
    Strategy("one write at a time", {"transaction_supported": False}),
)
RESET = {"max_transaction_entries": None, "transaction_supported": True}


@dataclass(frozen=True, slots=True)
class FilingFigures:
    strategy: str
    outcome: str
    wall_s: float
    requests: int
    writes: int


def real_size_plan(signed_at: datetime) -> Plan:
    """6 goals and 15 actions, owned by named members of the care team, signed by both."""
    goals = tuple(Goal(f"g{n}", f"Goal {n}", target_date=date(2027, 1, 1)) for n in range(1, 7))
    owners = (Owner(Role.COORDINATOR, "Jordan Lee", COORDINATOR), Owner(Role.CLINICIAN, "Amara Okafor", CLINICIAN),
              Owner(Role.FAMILY, "Ana Rivera"))
    actions = tuple(NegotiatedAction(f"a{n}", f"Action {n}", owners[n % 3], f"g{(n - 1) % 6 + 1}")
                    for n in range(1, 16))
    return Plan(goals=goals, actions=actions, state=PlanState.SIGNED, signed_at=signed_at,
                signoffs=(SignOff(Role.COORDINATOR, "Jordan Lee", signed_at - timedelta(minutes=5), COORDINATOR),
                          SignOff(Role.CLINICIAN, "Amara Okafor", signed_at, CLINICIAN)))


def filing_figures(latency_ms: int = LATENCY_MS) -> list[FilingFigures]:
    figures = []
    with sandbox_running(SandboxSpec(latency_ms, Clock().today())) as sandbox:
        for strategy in STRATEGIES:
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'spoc.db'}"
                upgrade(url)
                settings = Settings(tenants_file=Path(folder) / "unused.toml", database_url=url, fhir_timeout_s=30,
                                    token_keys=(Fernet.generate_key().decode(),))
                tenant = replace(bench_tenant(sandbox, concurrency=4),
                                 quirks=Quirks(concurrency=4, max_transaction_entries=strategy.tenant_cap))
                app = create_app(settings, TenantRegistry([tenant]))
                try:
                    figures.append(_file_once(app, sandbox, strategy))
                finally:
                    app.extensions["spoc"].engine.dispose()
        sandbox.control("config", RESET)
    return figures


def _file_once(app, sandbox, strategy: Strategy) -> FilingFigures:
    sandbox.control("config", {**RESET, **strategy.ehr})
    person = Person(app, sandbox)
    now = Clock().now()
    app.extensions["spoc"].services.planning.plans.save(sandbox.iss, PATIENT, real_size_plan(now), base_version=None,
                                                         saved_by="Amara Okafor", now=now)
    html = person.client.get(f"{person.base}filing").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sandbox.control("requests/clear")
    began = time.perf_counter()
    person.client.post(f"{person.base}filing", data={"csrf_token": token})
    wall = time.perf_counter() - began
    log = sandbox.request_log()
    outcome = re.search(r'data-outcome="([^"]+)"',
                        person.client.get(f"{person.base}filing").get_data(as_text=True)).group(1)
    return FilingFigures(strategy.name, outcome, wall, len(log),
                         sum(1 for r in log if r["method"] in ("POST", "PUT")))


def filing_table(figures: list[FilingFigures], latency_ms: int) -> str:
    rows = [[f.strategy, f.outcome, sig(f.wall_s), str(f.requests), str(f.writes)] for f in figures]
    return (f"Filing a signed plan of 6 goals and 15 actions, {latency_ms} ms per FHIR request\n"
            + render_table(["strategy", "outcome", "wall time, s", "FHIR requests", "of them writes"], rows))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.filing")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    args = parser.parse_args(argv)
    print(filing_table(filing_figures(args.latency_ms), args.latency_ms))


if __name__ == "__main__":
    main()
