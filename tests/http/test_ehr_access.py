"""The site's CapabilityStatement, read early at the start of a launch (issue 17): without a token, once,
and used by the summary instead of a second read; a server that wants a token for it gets the launch's.

Layer: services' EHR access at the HTTP edge (responses).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

import responses

from smart_app.fhir.gateway import FhirGateway
from smart_app.services.ehr_access import EhrAccess, forget_least_recent
from smart_app.tenants import Quirks, Tenant

BASE = "https://ehr.example/fhir/r4"
STATEMENT = {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
             "format": ["json"], "rest": [{"mode": "server", "resource": [
                 {"type": "MedicationStatement", "interaction": [{"code": "search-type"}]}]}]}


def a_site() -> Tenant:
    return Tenant(name="Clinic", iss=BASE, client_id="spoc", redirect_uri="https://app.example/callback",
                  frame_ancestors=("https://ehr.example",), write_mode="careplan", quirks=Quirks())


def launch_gateway() -> FhirGateway:
    return FhirGateway(BASE, lambda: "launch-token")


def an_ehr_access() -> EhrAccess:
    return EhrAccess(sessions=None, keys=None, timeout_s=5)  # capabilities need neither


def authorization_of(call) -> str | None:
    return call.request.headers.get("Authorization")


@responses.activate
def test_the_early_read_goes_without_a_token_and_the_summary_uses_it_without_asking_again():
    responses.get(f"{BASE}/metadata", json=STATEMENT)
    ehr, site = an_ehr_access(), a_site()

    ehr.read_capabilities_early(site)
    capabilities = ehr.capabilities(site, launch_gateway())

    assert capabilities.supports_search("MedicationStatement")
    assert [authorization_of(call) for call in responses.calls] == [None]
    ehr.read_capabilities_early(site)  # known now: nothing more to read
    assert ehr.capabilities(site, launch_gateway()).supports_search("MedicationStatement")
    assert len(responses.calls) == 1


@responses.activate
def test_a_summary_that_starts_while_the_early_read_is_under_way_waits_for_it_rather_than_asking_twice():
    answered = threading.Event()

    def slow_statement(request):
        answered.wait(5)
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(STATEMENT)

    responses.add_callback(responses.GET, f"{BASE}/metadata", callback=slow_statement)
    ehr, site = an_ehr_access(), a_site()

    ehr.read_capabilities_early(site)
    threading.Timer(0.05, answered.set).start()
    capabilities = ehr.capabilities(site, launch_gateway())

    assert capabilities.supports_search("MedicationStatement")
    assert len(responses.calls) == 1


@responses.activate
def test_a_server_that_wants_a_token_for_its_statement_gets_the_launch_s():
    responses.get(f"{BASE}/metadata", status=401, json={"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "login"}]})
    responses.get(f"{BASE}/metadata", json=STATEMENT)
    ehr, site = an_ehr_access(), a_site()

    ehr.read_capabilities_early(site)
    capabilities = ehr.capabilities(site, launch_gateway())

    assert capabilities.supports_search("MedicationStatement")
    assert [authorization_of(call) for call in responses.calls] == [None, "Bearer launch-token"]


@responses.activate
def test_a_filing_reads_the_statement_afresh_and_falls_back_on_the_last_one_when_it_cannot():
    """A filing's way of writing rests on what the EHR says today, not ten minutes ago."""
    no_transactions = {**STATEMENT, "rest": [{"mode": "server", "resource": [], "interaction": []}]}
    with_transactions = {**no_transactions, "rest": [{"mode": "server", "resource": [],
                                                      "interaction": [{"code": "transaction"}]}]}
    responses.get(f"{BASE}/metadata", json=with_transactions)
    responses.get(f"{BASE}/metadata", json=no_transactions)
    responses.get(f"{BASE}/metadata", status=500)
    ehr, site, gateway = an_ehr_access(), a_site(), launch_gateway()

    assert ehr.capabilities(site, gateway).supports_transaction
    assert ehr.capabilities(site, gateway).supports_transaction  # remembered: not asked again
    assert not ehr.capabilities(site, gateway, fresh=True).supports_transaction
    assert not ehr.capabilities(site, gateway, fresh=True).supports_transaction  # 500: the last one read
    assert len(responses.calls) == 3


class Remembering:
    def __init__(self, remembered_bytes: int) -> None:
        self.remembered_bytes = remembered_bytes


def test_the_least_recent_launches_gateways_go_first_when_their_answers_pass_the_budget():
    """A worker keeps a gateway per launch so that a launch never repeats a request; a budget on what
    they remember keeps 256 launches of a 10,000-resource patient from holding gigabytes."""
    gateways = OrderedDict((name, Remembering(size)) for name, size in (("a", 40), ("b", 30), ("c", 20), ("d", 50)))

    forget_least_recent(gateways, max_count=10, max_bytes=100)
    assert list(gateways) == ["b", "c", "d"]  # 140 bytes: the oldest went
    forget_least_recent(gateways, max_count=2, max_bytes=1000)
    assert list(gateways) == ["c", "d"]  # too many
    forget_least_recent(gateways, max_count=10, max_bytes=10)
    assert list(gateways) == ["d"]  # the newest stays, however large
