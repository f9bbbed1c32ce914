"""The reconciliation with Admitad's statistics on DynamoDB Local: a run over several pages, a crash on
one of them, and the ledger equal to the network's word afterwards, each action applied once."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cashback.bootstrap import Container
from cashback.ledger.rules import Balances, Status
from cashback.networks.actions import NetworkAction
from cashback.networks.rules import RunState
from tests.builders import a_recorded_click
from tests.fakes.statistics import MemoryStatistics, StatisticsDown

ORDERED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_run_over_pages_with_a_crash_leaves_the_ledger_equal_to_the_statistics(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    # Given two members' orders in Admitad's statistics (three pages of three), one order for a click
    # that is not ours, and the API failing once on the third page
    anna, boris = new_member_id(), new_member_id()
    clicks = {
        member: a_recorded_click(container, member_id=member, partner_id="aliexpress", rate_percent="7")
        for member in (anna, boris)
    }
    statuses = ["pending", "approved", "declined", "approved_but_stalled"]
    actions = [
        NetworkAction(
            action_id=f"{member}-{i}",
            subid=clicks[member].click_id,
            status=statuses[i % 4],
            order_id=f"order-{i}",
            order_sum=Decimal("1000.00"),
            payment_sum=None,
            currency="RUB",
            action_date=ORDERED,
            status_updated=ORDERED + timedelta(minutes=i),
        )
        for member in (anna, boris)
        for i in range(4)
    ]
    stranger = NetworkAction("stranger-1", "no-such-click", "pending", "o", Decimal(1), None, "RUB", ORDERED, ORDERED)
    admitad = MemoryStatistics(page_size=3, fail_once_at_offset=6)
    admitad.report(*actions, stranger)
    container.action_statistics = lambda network: admitad
    # A time of its own: runs on DynamoDB Local outlive the test.
    now = ORDERED + timedelta(days=1, seconds=random.randrange(10**7))

    # When the run crashes on the third page, and is started again for the same time
    with pytest.raises(StatisticsDown):
        container.reconciliation.reconcile("admitad", ORDERED - timedelta(hours=1), now=now)
    run = container.reconciliation.reconcile("admitad", ORDERED - timedelta(hours=1), now=now)

    # Then the run completed over all nine actions, resumed at the third page, with the stranger listed
    assert admitad.pages_read == [0, 3, 6]
    assert (run.state, run.actions_seen, run.applied) == (RunState.COMPLETED, 9, 8)
    assert [d.action_id for d in run.differences] == ["stranger-1"]
    # and each member's purchases are as the statistics say, each once
    expected = {
        "pending": (Status.PENDING, 70),
        "approved": (Status.ACCRUED, 70),
        "approved_but_stalled": (Status.ACCRUED, 70),
        "declined": (Status.REJECTED, 0),
    }
    for action in actions:
        member = action.action_id.rsplit("-", 1)[0]
        txn = container.ledger.transaction(member, f"conversion:admitad:{action.action_id}")
        assert txn is not None
        assert (txn.status, txn.amount if txn.status is not Status.REJECTED else 0) == expected[action.status]
    # (the first-purchase bonus of 200 follows each member's first order, here the pending one)
    assert container.ledger.balances(anna) == Balances(available=140, pending=70 + 200)
    assert container.ledger.balances(anna) == container.ledger.balances(boris)
