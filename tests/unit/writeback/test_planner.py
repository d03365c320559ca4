"""The filing planner: which strategy first, what a refusal teaches, how writes are cut (issue 15)."""

from __future__ import annotations

import pytest

from smart_app.writeback.planner import (
    ONE_BY_ONE,
    ONE_TRANSACTION,
    LearnedLimits,
    Strategy,
    batches,
    first_strategy,
    transaction_refusal,
)

MEDPLUM_ISOLATION = "Transaction requires strict isolation but has too many entries"
SANDBOX_CAP = "Bundle too large: 24 entries, this server accepts at most 8"


def test_the_first_strategy_follows_the_capability_statement_and_the_known_cap():
    assert first_strategy(supports_transaction=True, known_cap=None) == ONE_TRANSACTION
    assert first_strategy(supports_transaction=True, known_cap=8) == Strategy(True, 8)
    assert first_strategy(supports_transaction=True, known_cap=1) == ONE_BY_ONE
    assert first_strategy(supports_transaction=False, known_cap=8) == ONE_BY_ONE


@pytest.mark.parametrize(("status", "said", "codes", "next_after_24"), [
    (400, MEDPLUM_ISOLATION, ("invalid",), Strategy(True, 12)),  # no number: half as many
    (413, SANDBOX_CAP, ("too-costly",), Strategy(True, 8)),  # the number it named
    (400, "Transaction contains more update operations than allowed", (), Strategy(True, 12)),
    (422, "Bundle has too many entries (maximum 5)", ("too-costly",), Strategy(True, 5)),
    (400, "Transaction bundles are not supported by this server", ("not-supported",), ONE_BY_ONE),
    (501, "", (), ONE_BY_ONE),
    (405, "", (), ONE_BY_ONE),
])
def test_a_refusal_about_the_transaction_changes_the_strategy(status, said, codes, next_after_24):
    refusal = transaction_refusal(status, said, codes)
    assert refusal is not None and refusal.next_strategy(24) == next_after_24


@pytest.mark.parametrize(("status", "said", "codes"), [
    (400, "Missing required property (Goal.lifecycleStatus)", ("invalid",)),
    (422, "entry 3: Task.for must be the launch patient", ("processing",)),
    (403, "Transaction not allowed for this client", ("forbidden",)),
    (409, "Transaction conflict", ("conflict",)),
    (412, "", ()),
    (500, "Transaction failed", ()),
])
def test_a_refusal_about_what_was_sent_is_not_a_reason_to_change_strategy(status, said, codes):
    assert transaction_refusal(status, said, codes) is None


def test_halving_ends_in_single_writes():
    refusal = transaction_refusal(400, MEDPLUM_ISOLATION, ())
    assert refusal.next_strategy(3) == ONE_BY_ONE and refusal.next_strategy(4) == Strategy(True, 2)
    capped = transaction_refusal(413, "at most 30", ())
    assert capped.next_strategy(10) == Strategy(True, 5)  # a cap not below what was sent says nothing new


def test_batches_keep_the_order_and_the_cap():
    writes = list(range(10))
    assert batches(writes, ONE_TRANSACTION) == [writes]
    assert batches(writes, Strategy(True, 4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches(writes, ONE_BY_ONE) == [[n] for n in writes]
    assert batches([], ONE_TRANSACTION) == []


def test_what_a_server_taught_is_kept_per_server_and_only_ever_tightens():
    limits = LearnedLimits()
    limits.learn("https://a/fhir", Strategy(True, 12))
    limits.learn("https://a/fhir", Strategy(True, 6))
    limits.learn("https://a/fhir", Strategy(True, 10))
    limits.learn("https://b/fhir", ONE_BY_ONE)
    limits.learn("https://c/fhir", ONE_TRANSACTION)
    assert (limits.cap("https://a/fhir"), limits.cap("https://b/fhir"), limits.cap("https://c/fhir")) == (6, 1, None)
