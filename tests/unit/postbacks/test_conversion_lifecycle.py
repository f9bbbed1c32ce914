"""The conversion lifecycle over random deliveries: duplicates and reorderings never change the outcome
that the decisive statuses imply, and balances always equal the sum of the entries."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cashback.ledger.rules import Balances, Status
from cashback.postbacks.rules import Postback, PostbackStatus, commands, transaction_id
from tests.builders import AT, a_click, a_postback
from tests.fakes.ledger import MemoryLedger

CLICK = a_click("01JDCLICK", accrual_days=30, clicked_at=AT - timedelta(hours=1))  # AliExpress at 7 %, via Admitad


def postback(status: PostbackStatus, amount: str = "1999.90") -> Postback:
    """Admitad's report, at AT, of an order of `amount` through CLICK: 139 bonuses at the default amount."""
    return a_postback(CLICK, status, amount=amount)


def deliver(ledger: MemoryLedger, pb: Postback) -> None:
    current = ledger.transaction(CLICK.member_id, transaction_id(pb))
    for cmd in commands(pb, CLICK, current):
        ledger.execute(CLICK.member_id, cmd)


def expected(deliveries: list[PostbackStatus]) -> Status:
    if PostbackStatus.DECLINED in deliveries:
        return Status.REJECTED  # a decline is decisive whenever it comes: pending dropped, accrual reversed
    if PostbackStatus.APPROVED in deliveries:
        return Status.ACCRUED
    return Status.PENDING


statuses = st.lists(st.sampled_from(list(PostbackStatus)), min_size=1, max_size=12)


@settings(max_examples=400, deadline=None)
@given(statuses)
def test_any_sequence_of_deliveries_ends_where_its_decisive_statuses_say(deliveries: list[PostbackStatus]) -> None:
    # When the partner reports the order with any sequence of statuses, repeated and out of order
    ledger = MemoryLedger()
    for status in deliveries:
        deliver(ledger, postback(status))

    # Then the purchase ends where its decisive statuses say, and balances equal the sum of the entries
    txn = ledger.transaction(CLICK.member_id, transaction_id(postback(deliveries[0])))
    assert txn is not None
    assert txn.status is expected(deliveries)
    assert txn.amount == 139  # 1999.90 x 7 % = 139.993, rounded down
    balances = ledger.balances(CLICK.member_id)
    assert balances == ledger.sum_of_entries(CLICK.member_id)
    assert (
        balances
        == {
            Status.PENDING: Balances(pending=139),
            Status.ACCRUED: Balances(available=139),
            Status.REJECTED: Balances(),
        }[txn.status]
    )


def test_a_late_pending_after_approval_changes_nothing() -> None:
    # When the order is reported pending, approved, and then pending again
    ledger = MemoryLedger()
    for status in (PostbackStatus.PENDING, PostbackStatus.APPROVED, PostbackStatus.PENDING):
        deliver(ledger, postback(status))
    # Then the 139 stay available
    assert ledger.balances(CLICK.member_id) == Balances(available=139)


def test_an_amount_change_while_pending_reprices_and_the_approval_accrues_the_new_amount() -> None:
    # Given a pending order of 1,999.90
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.PENDING, "1999.90"))
    # When it is reported again, still pending, at 1,000.00, Then 70 are pending
    deliver(ledger, postback(PostbackStatus.PENDING, "1000.00"))
    assert ledger.balances(CLICK.member_id) == Balances(pending=70)
    # When it is approved at 1,000.00, Then the 70 are available
    deliver(ledger, postback(PostbackStatus.APPROVED, "1000.00"))
    assert ledger.balances(CLICK.member_id) == Balances(available=70)


def test_an_approval_with_a_changed_amount_accrues_the_approved_amount() -> None:
    # Given a pending order of 1,999.90
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.PENDING, "1999.90"))
    # When it is approved at 100.00
    deliver(ledger, postback(PostbackStatus.APPROVED, "100.00"))
    # Then 7 bonuses are available
    assert ledger.balances(CLICK.member_id) == Balances(available=7)


def test_a_purchase_worth_less_than_a_bonus_shows_as_zero() -> None:
    # When an order of 10.00 is approved
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.APPROVED, "10.00"))
    # Then the purchase shows as accrued, worth 0
    txn = ledger.transaction(CLICK.member_id, transaction_id(postback(PostbackStatus.APPROVED)))
    assert txn is not None
    assert (txn.status, txn.amount) == (Status.ACCRUED, 0)


def test_the_expected_date_is_the_purchase_plus_the_partners_accrual_period() -> None:
    # When an order is reported pending
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.PENDING))
    # Then it is expected the partner's 30 days after the purchase, with the partner and rate shown
    txn = ledger.transaction(CLICK.member_id, transaction_id(postback(PostbackStatus.PENDING)))
    assert txn is not None
    assert txn.expected_at == AT + timedelta(days=30)
    assert txn.details["partner_id"] == "aliexpress"
    assert txn.details["rate"] == "7"
