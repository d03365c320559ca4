"""Benchmark: many people editing one plan at once (issue 16). `python -m bench.plan_edits`.

Layer: benchmarks (not shipped, not pass/fail). One app (Flask test client, a thread per person) on
PostgreSQL when one answers on 127.0.0.1:5432 (else SQLite), the sandbox EHR in a child process. Each
person rewords their own goal again and again, each save from the page the previous one redirected to.

Printed: edits, conflict pages, saves made on a version others had already moved past (each was a
conflict page, or a compare-and-swap retry, when the whole plan was one compare-and-swap unit: issue
16 measured 2,385 retries for 200 edits, about 12 per edit), store rounds per landed edit (saves now
wait their turn on the plan's row: 1.0 means no retry at all), wall time and edits per second.
"""

from __future__ import annotations

import argparse
import re
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench.summary_load import SandboxSpec, bench_tenant, sandbox_running
from bench.tables import render_table, sig
from smart_app import create_app
from smart_app.clock import Clock
from smart_app.config import Settings
from smart_app.store import upgrade
from smart_app.tenants import TenantRegistry

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class EditSizes:
    people: int = 20
    edits_each: int = 50


@dataclass(frozen=True, slots=True)
class EditFigures:
    store: str
    people: int
    edits: int
    landed: int
    conflict_pages: int
    merged: int  # saves made on a version others had moved past, landed without a conflict page
    rounds_per_edit: float  # store rounds (decisions) per landed save
    wall_s: float

    @property
    def per_second(self) -> float:
        return self.landed / self.wall_s if self.wall_s else 0.0


def _postgres() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    name = f"spoc_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop(url: str) -> None:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


class Person:
    """One browser, one launch, working as the care coordinator."""

    def __init__(self, app, sandbox) -> None:
        self.client = app.test_client()
        issued = sandbox.control("launches", {"patient": "sofia-rivera", "user": "jordan-lee"})
        begun = self.client.get("/launch?" + urlencode({"iss": issued["iss"], "launch": issued["launch"]}))
        import requests

        callback = requests.get(begun.headers["Location"], allow_redirects=False, timeout=30).headers["Location"]
        landed = self.client.get(callback.split("app.test", 1)[1])
        self.base = re.search(r"(/p/[A-Za-z0-9_-]+/)", landed.headers["Location"]).group(1)
        token, _ = self.form()
        self.client.post(f"{self.base}plan/role", data={"role": "coordinator", "csrf_token": token})

    def form(self) -> tuple[str, str]:
        html = self.client.get(f"{self.base}plan").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        base = re.search(r'name="base_version" value="(\d*)"', html)
        return token, base.group(1) if base else ""

    def save(self, **fields) -> int:
        token, base = self.form()
        return self.client.post(f"{self.base}plan", data={**fields, "csrf_token": token, "base_version": base}
                                ).status_code


def plan_edit_figures(sizes: EditSizes = EditSizes()) -> EditFigures:
    postgres = _postgres()
    with tempfile.TemporaryDirectory() as folder, sandbox_running(SandboxSpec(0, Clock().today())) as sandbox:
        url = postgres or f"sqlite:///{Path(folder) / 'spoc.db'}"
        upgrade(url)
        settings = Settings(tenants_file=Path(folder) / "unused.toml", token_keys=(Fernet.generate_key().decode(),),
                            database_url=url, fhir_timeout_s=30)
        app = create_app(settings, TenantRegistry([bench_tenant(sandbox, concurrency=20)]))
        store = app.extensions["spoc"].services.planning.plans
        decisions = _count_decisions(store)
        try:
            people = [Person(app, sandbox) for _ in range(sizes.people)]
            people[0].save(command="start-plan")
            for n in range(sizes.people):
                people[0].save(command="add-goal", text=f"Goal {n}")
            html = people[0].client.get(f"{people[0].base}plan").get_data(as_text=True)
            goals = list(dict.fromkeys(re.findall(r'name="goal_id" value="([^"]+)"', html)))
            decisions.clear()
            statuses: list[int] = []
            lock = threading.Lock()
            start = threading.Barrier(sizes.people + 1)

            def work(person: Person, goal: str) -> None:
                start.wait()
                for i in range(sizes.edits_each):
                    status = person.save(command="edit-goal", goal_id=goal, text=f"{goal} edit {i}", kind="clinical")
                    with lock:
                        statuses.append(status)

            threads = [threading.Thread(target=work, args=(p, g)) for p, g in zip(people, goals, strict=True)]
            for thread in threads:
                thread.start()
            start.wait()
            began = time.perf_counter()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - began
            audit = app.extensions["spoc"].audit.for_patient(sandbox.iss, "sofia-rivera")
            merged = sum(1 for e in audit if e["action"] == "plan-edit-goal" and e["detail"].get("merged"))
        finally:
            app.extensions["spoc"].engine.dispose()
            if postgres:
                _drop(postgres)
    landed = statuses.count(303)
    return EditFigures("PostgreSQL" if postgres else "SQLite", sizes.people, len(statuses), landed,
                       statuses.count(409), merged, len(decisions) / landed if landed else 0.0, wall)


def _count_decisions(store) -> list[int]:
    """Count the store's decisions (one per round of a save) by wrapping PlanStore.update's callback."""
    rounds: list[int] = []
    update = store.update

    def counted(iss, patient_id, decide, **kwargs):
        def deciding(latest):
            rounds.append(1)
            return decide(latest)

        return update(iss, patient_id, deciding, **kwargs)

    store.update = counted
    return rounds


def edit_table(figures: EditFigures) -> str:
    rows = [
        ["people at once, edits each", f"{figures.people}, {figures.edits // max(figures.people, 1)}"],
        ["store", figures.store],
        ["edits landed / sent", f"{figures.landed} / {figures.edits}"],
        ["conflict pages", str(figures.conflict_pages)],
        ["saves made on an older version, merged", str(figures.merged)],
        ["store rounds per landed edit (1.0: no retry)", sig(figures.rounds_per_edit)],
        ["wall time, s", sig(figures.wall_s)],
        ["edits per second", sig(figures.per_second)],
    ]
    return ("Many people editing one plan: each their own goal, each save from the page the last one "
            "redirected to\n" + render_table(["figure", "value"], rows))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_edits")
    parser.add_argument("--people", type=int, default=EditSizes.people)
    parser.add_argument("--edits", type=int, default=EditSizes.edits_each)
    args = parser.parse_args(argv)
    print(edit_table(plan_edit_figures(EditSizes(args.people, args.edits))))


if __name__ == "__main__":
    main()
