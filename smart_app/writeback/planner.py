"""The filing planner: how the plan's writes are sent to this EHR, and what a refusal teaches.

Layer: write-back (pure: no I/O). One transaction where the server takes it; otherwise transactions
split to the server's limit; otherwise ordered single writes. The limit comes from the
CapabilityStatement, the tenant's quirks, and the refusal itself: a 400/413/422 whose OperationOutcome
is about the transaction (its size, its isolation, transactions not supported) means "send it another
way", not "the plan is wrong".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock
from typing import TypeVar

ONE_BY_ONE_STATUSES = frozenset({405, 501})  # the server takes no transaction at all
SIZE_STATUSES = frozenset({413})  # the transaction was too large
REFUSAL_STATUSES = frozenset({400, 413, 422, 405, 501})
TRANSACTION_CODES = frozenset({"too-costly", "too-long", "not-supported"})
_ABOUT_TRANSACTION = re.compile(r"\b(transaction|bundle)s?\b", re.IGNORECASE)
_ABOUT_SIZE = re.compile(r"too (many|large|big|long)|than allowed|entries|isolation|size|limit|at most|maximum",
                         re.IGNORECASE)
_NOT_SUPPORTED = re.compile(r"not (supported|allowed|accepted|enabled)|unsupported|does not (support|process|accept)",
                            re.IGNORECASE)
_LIMIT = re.compile(r"(?:at most|maximum(?: of)?|max(?:imum)?|limit(?: of| is)?|up to)\s*:?\s*(\d{1,5})", re.IGNORECASE)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Strategy:
    """How the writes go: all in one transaction (cap None), transactions of at most `cap` entries,
    or one write at a time (cap 1, not as transactions)."""

    transaction: bool
    cap: int | None = None

    @property
    def label(self) -> str:
        if not self.transaction:
            return "one write at a time"
        return "one transaction" if self.cap is None else f"transactions of at most {self.cap} entries"


ONE_TRANSACTION = Strategy(True)
ONE_BY_ONE = Strategy(False, 1)


def first_strategy(*, supports_transaction: bool, known_cap: int | None) -> Strategy:
    """Where to start: the EHR's statement and the limit known for it (tenant quirk or learned)."""
    if not supports_transaction or known_cap == 1:
        return ONE_BY_ONE
    return Strategy(True, known_cap) if known_cap else ONE_TRANSACTION


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a refusal of a transaction of `sent` entries says about the server."""

    no_transactions: bool  # the server takes none: write one by one
    cap: int | None  # the largest transaction it takes, when it said (or implied) one

    def next_strategy(self, sent: int) -> Strategy:
        if self.no_transactions:
            return ONE_BY_ONE
        cap = self.cap if self.cap is not None and self.cap < sent else sent // 2
        return ONE_BY_ONE if cap <= 1 else Strategy(True, cap)


def transaction_refusal(status: int, said: str, codes: Sequence[str] = ()) -> Refusal | None:
    """The refusal of a transaction when it is about the transaction itself; None when it is about
    what was in it (an invalid resource, a permission, a conflict), which another strategy cannot fix."""
    if status not in REFUSAL_STATUSES:
        return None
    if status in ONE_BY_ONE_STATUSES:
        return Refusal(no_transactions=True, cap=None)
    about_transaction = bool(_ABOUT_TRANSACTION.search(said)) or any(c in TRANSACTION_CODES for c in codes)
    if not about_transaction and status not in SIZE_STATUSES:
        return None
    if _NOT_SUPPORTED.search(said) or ("not-supported" in codes and not _ABOUT_SIZE.search(said)):
        return Refusal(no_transactions=True, cap=None)
    if status in SIZE_STATUSES or _ABOUT_SIZE.search(said) or {"too-costly", "too-long"} & set(codes):
        limit = _LIMIT.search(said)
        return Refusal(no_transactions=False, cap=int(limit.group(1)) if limit else None)
    return None


def batches(items: Sequence[T], strategy: Strategy) -> list[list[T]]:
    """The writes in order, cut into the strategy's transactions (or single writes)."""
    size = strategy.cap or len(items) or 1
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


class LearnedLimits:
    """What refusals taught about each server (by iss), for the rest of the app's life."""

    def __init__(self) -> None:
        self._caps: dict[str, int] = {}
        self._lock = Lock()

    def cap(self, iss: str) -> int | None:
        with self._lock:
            return self._caps.get(iss)

    def learn(self, iss: str, strategy: Strategy) -> None:
        cap = strategy.cap if strategy.transaction else 1
        if cap is None:
            return
        with self._lock:
            self._caps[iss] = min(cap, self._caps.get(iss, cap))
