"""The conversion lifecycle over random deliveries: duplicates and reorderings never change the outcome
that the decisive statuses imply, and balances always equal the sum of the entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cashback.clicks.rules import Click
from cashback.ledger.rules import Balances, Status
from cashback.postbacks.rules import Postback, PostbackStatus, commands, transaction_id
from tests.fakes.ledger import MemoryLedger

AT = datetime(2026, 11, 1, 12, tzinfo=UTC)
CLICK = Click("01JDCLICK", "member-1", "aliexpress", Decimal("7"), "admitad", 30, AT - timedelta(hours=1))


def postback(status: PostbackStatus, amount: str = "1999.90") -> Postback:
    return Postback("admitad", "778899", CLICK.click_id, "A-1", Decimal(amount), "RUB", status, AT)


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
    ledger = MemoryLedger()
    for status in deliveries:
        deliver(ledger, postback(status))

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
    ledger = MemoryLedger()
    for status in (PostbackStatus.PENDING, PostbackStatus.APPROVED, PostbackStatus.PENDING):
        deliver(ledger, postback(status))
    assert ledger.balances(CLICK.member_id) == Balances(available=139)


def test_an_amount_change_while_pending_reprices_and_the_approval_accrues_the_new_amount() -> None:
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.PENDING, "1999.90"))
    deliver(ledger, postback(PostbackStatus.PENDING, "1000.00"))
    assert ledger.balances(CLICK.member_id) == Balances(pending=70)
    deliver(ledger, postback(PostbackStatus.APPROVED, "1000.00"))
    assert ledger.balances(CLICK.member_id) == Balances(available=70)


def test_an_approval_with_a_changed_amount_accrues_the_approved_amount() -> None:
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.PENDING, "1999.90"))
    deliver(ledger, postback(PostbackStatus.APPROVED, "100.00"))
    assert ledger.balances(CLICK.member_id) == Balances(available=7)


def test_a_purchase_worth_less_than_a_bonus_shows_as_zero() -> None:
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.APPROVED, "10.00"))
    txn = ledger.transaction(CLICK.member_id, transaction_id(postback(PostbackStatus.APPROVED)))
    assert txn is not None
    assert (txn.status, txn.amount) == (Status.ACCRUED, 0)


def test_the_expected_date_is_the_purchase_plus_the_partners_accrual_period() -> None:
    ledger = MemoryLedger()
    deliver(ledger, postback(PostbackStatus.PENDING))
    txn = ledger.transaction(CLICK.member_id, transaction_id(postback(PostbackStatus.PENDING)))
    assert txn is not None
    assert txn.expected_at == AT + timedelta(days=30)
    assert txn.details["partner_id"] == "aliexpress"
    assert txn.details["rate"] == "7"
