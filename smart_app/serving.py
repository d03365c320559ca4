"""`spoc serve`'s workers take a new connection least-loaded first.

Gunicorn's workers all wait on one listening socket and whichever wakes first takes the connection. A
browser then keeps that connection for its whole launch (keep-alive), so that worker does all of the
launch's work: thirty launches at once split as unevenly as 19 to 11 between two workers, and the
busier worker's last launch finished ~0.3 s after the other worker had gone idle (bench/README.md,
section 5). Here every worker publishes its open connections in memory shared with its siblings, and
a worker with more than another live worker leaves a waiting connection to it, for at most
`LONGEST_WAIT_S`, so that a stalled sibling never holds a connection up.

Layer: composition root (imported by `spoc serve` only).
"""

from __future__ import annotations

import mmap
import select
import time

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 64  # workers at once, `--workers` and any added by TTIN; a worker without a slot never defers
FREE = -1
PAUSE_S = 0.002  # how long a deferring worker stops watching the listening socket
LONGEST_WAIT_S = 0.02  # a waiting connection is taken by whoever sees it after this long


class ConnectionTable:
    """Open connections per worker slot in anonymous shared memory: made by the master before it forks,
    so every worker writes and reads the same pages. Slots are handed out and freed by the master
    alone (`claim` in pre_fork, `release` in child_exit); a worker writes only its own slot."""

    def __init__(self, slots: int = SLOTS):
        self._memory = mmap.mmap(-1, slots * 8)
        self.counts = memoryview(self._memory).cast("q")
        for slot in range(slots):
            self.counts[slot] = FREE

    def claim(self) -> int | None:
        for slot, count in enumerate(self.counts):
            if count == FREE:
                self.counts[slot] = 0
                return slot
        return None

    def release(self, slot: int | None) -> None:
        if slot is not None:
            self.counts[slot] = FREE

    def fewest_elsewhere(self, slot: int) -> int | None:
        return min((count for other, count in enumerate(self.counts.tolist()) if other != slot and count != FREE),
                   default=None)


def should_defer(mine: int, fewest_elsewhere: int | None, waited_s: float) -> bool:
    """Leave a waiting connection to a sibling? Only to one with fewer open connections, and not past
    `LONGEST_WAIT_S`. Ties take it, so among equals the fastest to wake does."""
    return fewest_elsewhere is not None and mine > fewest_elsewhere and waited_s < LONGEST_WAIT_S


TABLE = ConnectionTable()


class BalancedThreadWorker(ThreadWorker):
    """Gunicorn's gthread worker whose open-connection count (`nr_conns`, which gthread keeps on its
    main thread) is published in `TABLE`, and which defers accepting while it is the busier."""

    balance_slot: int | None = None  # set by the master in pre_fork, before this object is forked
    _open_connections = 0
    _deferring_since: float | None = None  # when this worker first left the waiting connection
    _pausing = False

    @property
    def nr_conns(self) -> int:
        return self._open_connections

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._open_connections = value
        if self.balance_slot is not None:
            TABLE.counts[self.balance_slot] = value

    def accept(self, listener):
        if self.balance_slot is not None:
            now = time.monotonic()
            waited = 0.0 if self._deferring_since is None else now - self._deferring_since
            if should_defer(self.nr_conns, TABLE.fewest_elsewhere(self.balance_slot), waited):
                self._deferring_since = self._deferring_since or now
                self._pausing = True
                return
        self._deferring_since = None
        super().accept(listener)

    def wait_for_and_dispatch_events(self, timeout):
        if not self._pausing:
            return super().wait_for_and_dispatch_events(timeout)
        # Kept-alive connections are still served meanwhile; gthread's loop watches the listening socket
        # again at its next turn, and `accept` decides afresh if the connection is still waiting.
        self._pausing = False
        self.set_accept_enabled(False)
        super().wait_for_and_dispatch_events(min(timeout, PAUSE_S))
        if not select.select(self.sockets, [], [], 0)[0]:
            self._deferring_since = None  # a sibling took it: the next connection waits afresh


def pre_fork(server, worker) -> None:
    worker.balance_slot = TABLE.claim()


def child_exit(server, worker) -> None:
    TABLE.release(worker.balance_slot)
