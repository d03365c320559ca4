"""Reading a CapabilityStatement: what the server supports, and 'unknown' for anything malformed."""

from __future__ import annotations

import pytest

from smart_app.errors import FhirAccessError, TokenExpired
from smart_app.fhir.capabilities import Capabilities, fetch_capabilities

STATEMENT = {
    "resourceType": "CapabilityStatement",
    "fhirVersion": "4.0.1",
    "rest": [
        {"mode": "client", "resource": [{"type": "CarePlan", "interaction": [{"code": "create"}]}]},
        {
            "mode": "server",
            "interaction": [{"code": "transaction"}, {"code": "search-system"}],
            "resource": [
                {"type": "CarePlan", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [{"name": "patient"}, {"name": "category"}]},
                {"type": "DocumentReference", "interaction": [{"code": "create"}, {"code": "search-type"}]},
                {"type": "MedicationStatement", "interaction": [{"code": "read"}]},
                {"interaction": [{"code": "create"}]},
                "not a resource",
            ],
        },
    ],
}


def test_the_servers_resource_interactions_are_read_from_the_statement():
    capabilities = Capabilities.from_statement(STATEMENT)

    assert capabilities.known and capabilities.fhir_version == "4.0.1"
    assert capabilities.supports_search("CarePlan") and capabilities.supports_read("CarePlan")
    assert capabilities.can_create("DocumentReference")
    assert not capabilities.can_create("CarePlan")  # only the client rest lists it
    assert not capabilities.supports_search("MedicationStatement")
    assert capabilities.search_param_names("CarePlan") == frozenset({"patient", "category"})


def test_conditional_create_is_offered_only_where_the_statement_says_true():
    statement = {"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "resource": [
        {"type": "Goal", "interaction": [{"code": "create"}], "conditionalCreate": True},
        {"type": "Task", "interaction": [{"code": "create"}], "conditionalCreate": "true"},
        {"type": "CarePlan", "interaction": [{"code": "create"}]}]}]}
    capabilities = Capabilities.from_statement(statement)
    assert capabilities.offers_conditional_create("Goal")
    assert not capabilities.offers_conditional_create("Task") and not capabilities.offers_conditional_create("CarePlan")
    assert not Capabilities.unknown().offers_conditional_create("Goal")


def test_transaction_and_batch_support_come_from_the_system_interactions():
    capabilities = Capabilities.from_statement(STATEMENT)

    assert capabilities.supports_transaction and not capabilities.supports_batch


@pytest.mark.parametrize("statement", [
    None, "metadata", [], {}, {"resourceType": "Patient"},
    {"resourceType": "CapabilityStatement"},
    {"resourceType": "CapabilityStatement", "rest": "server"},
    {"resourceType": "CapabilityStatement", "rest": [42]},
])
def test_a_malformed_statement_is_unknown_and_answers_no(statement):
    capabilities = Capabilities.from_statement(statement)

    assert not capabilities.known
    assert not capabilities.supports_search("Condition") and not capabilities.can_create("DocumentReference")
    assert not capabilities.supports_transaction


class MetadataGateway:
    base_url = "https://ehr.example/fhir"
    concurrency = 1

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.reads: list[str] = []

    def search(self, resource_type, params, *, max_pages):
        raise AssertionError("capabilities never search")

    def read(self, reference):
        self.reads.append(reference)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_fetch_capabilities_reads_metadata():
    gateway = MetadataGateway(STATEMENT)

    assert fetch_capabilities(gateway).supports_search("CarePlan")
    assert gateway.reads == ["metadata"]


def test_an_unreadable_metadata_endpoint_gives_unknown_capabilities():
    assert not fetch_capabilities(MetadataGateway(FhirAccessError("down"))).known


def test_an_expired_token_while_reading_metadata_is_not_hidden():
    with pytest.raises(TokenExpired):
        fetch_capabilities(MetadataGateway(TokenExpired("expired")))
