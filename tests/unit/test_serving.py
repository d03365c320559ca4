"""`spoc serve`'s least-loaded accept: the rule and the table the workers share (issue 17).

Layer: composition root, without processes (tests/e2e/test_cli.py runs two real workers).
"""

from __future__ import annotations

import pytest

from smart_app.serving import FREE, LONGEST_WAIT_S, ConnectionTable, should_defer


@pytest.mark.parametrize(("mine", "fewest_elsewhere", "waited_s", "defers"), [
    (3, 2, 0.0, True),  # a sibling has fewer: leave it the connection
    (2, 2, 0.0, False),  # equals: whoever wakes first takes it
    (1, 2, 0.0, False),
    (3, None, 0.0, False),  # no sibling running
    (3, 0, LONGEST_WAIT_S / 2, True),
    (3, 0, LONGEST_WAIT_S, False),  # the sibling has not taken it in time: take it
])
def test_a_worker_leaves_a_connection_only_to_a_less_loaded_sibling_and_not_for_long(mine, fewest_elsewhere, waited_s,
                                                                                     defers):
    assert should_defer(mine, fewest_elsewhere, waited_s) is defers


def test_the_table_hands_out_free_slots_and_sees_only_the_others_running_workers():
    table = ConnectionTable(slots=3)
    first, second = table.claim(), table.claim()
    assert (first, second) == (0, 1)
    assert table.fewest_elsewhere(first) == 0  # the new sibling, no connection yet
    table.counts[second] = 5
    assert table.fewest_elsewhere(first) == 5
    assert table.fewest_elsewhere(second) == 0
    table.release(second)  # that worker exited: its count no longer holds anyone back
    assert table.counts[second] == FREE and table.fewest_elsewhere(first) is None
    assert table.claim() == second and table.claim() == 2
    assert table.claim() is None  # full: the worker runs without deferring
