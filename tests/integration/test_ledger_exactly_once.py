"""Invariants 3-5 against DynamoDB Local, whose conditional writes and transactions are Amazon's own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from pynamodb.transactions import TransactWrite

from cashback.bootstrap import Container
from cashback.ledger.repository import Committer, EntryModel, Ledger, TransactionModel, partition
from cashback.ledger.rules import Accrue, Balances, Credit, Kind, RecordPending, Reject, Source, Spend, Status
from cashback.outbox.repository import Message, MessageKind
from cashback.platform.errors import Conflict, InsufficientBalance

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def credit(op: str, amount: int, reason: str = "welcome bonus") -> Credit:
    return Credit(
        operation_id=op,
        transaction_id=op,
        reason=reason,
        at=AT,
        kind=Kind.BONUS,
        amount=amount,
        source=Source("bonus_rule", op),
    )


def new_ledger(container: Container, *, commit: Committer | None = None) -> Ledger:
    """A ledger of its own on the container's table, as a new function container would build it."""
    table, connection = container.settings.table("LEDGER_TABLE"), container.dynamodb
    return Ledger(table, connection) if commit is None else Ledger(table, connection, commit=commit)


def spend(op: str, amount: int) -> Spend:
    return Spend(
        operation_id=op,
        transaction_id=op,
        reason="smartphone certificate",
        at=AT,
        kind=Kind.CERTIFICATE,
        amount=amount,
        source=Source("certificate", op),
    )


def test_an_operation_delivered_five_times_changes_the_balance_once(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    member = new_member_id()
    outcomes = [ledger.execute(member, credit("bonus:email:" + member, 15)) for _ in range(5)]

    assert [o.applied for o in outcomes] == [True, False, False, False, False]
    assert ledger.balances(member) == Balances(available=15)
    assert len(ledger.entries(member)) == 1
    assert [t.amount for t in ledger.transactions(member).items] == [15]


def test_five_concurrent_deliveries_of_one_operation_apply_once(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    member = new_member_id()
    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(lambda _: ledger.execute(member, credit("promo:UD2PV797", 250)), range(5)))

    assert sum(o.applied for o in outcomes) == 1
    assert ledger.balances(member) == Balances(available=250)


def test_fifty_concurrent_spends_never_overspend(ledger: Ledger, new_member_id: Callable[[], str]) -> None:
    member = new_member_id()
    ledger.execute(member, credit("seed", 1_000))
    start = threading.Barrier(50)

    def order(i: int) -> str:
        start.wait()  # all fifty reach the database together
        try:
            ledger.execute(member, spend(f"certificate-{i}", 100))
        except InsufficientBalance:
            return "refused"
        return "spent"

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(order, range(50)))

    assert results.count("spent") == 10
    assert results.count("refused") == 40
    assert ledger.balances(member) == Balances(available=0, written_off=1_000)


class Crash(Exception):
    pass


def test_a_crash_before_the_commit_leaves_nothing_and_the_retry_completes(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    member = new_member_id()

    def crash_before(write: TransactWrite) -> None:
        raise Crash("the container died after building the transaction")

    with pytest.raises(Crash):
        new_ledger(container, commit=crash_before).execute(member, credit("bonus:profile", 30))

    ledger = new_ledger(container)
    assert ledger.balances(member) == Balances()
    assert ledger.entries(member) == []
    assert ledger.transactions(member).items == []

    retry = ledger.execute(member, credit("bonus:profile", 30))
    assert retry.applied
    assert ledger.balances(member) == Balances(available=30)


def test_a_crash_after_the_commit_is_retried_without_applying_twice(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    member = new_member_id()

    def crash_after(write: TransactWrite) -> None:
        write._commit()
        raise Crash("the response was lost")

    with pytest.raises(Crash):
        new_ledger(container, commit=crash_after).execute(member, credit("bonus:profile", 30))

    ledger = new_ledger(container)
    retry = ledger.execute(member, credit("bonus:profile", 30))
    assert not retry.applied
    assert ledger.balances(member) == Balances(available=30)
    assert len(ledger.entries(member)) == 1


def test_an_outbox_message_commits_with_its_ledger_change_or_not_at_all(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    outbox = container.outbox
    member = new_member_id()
    ledger.execute(member, credit("seed", 500))
    message = Message(f"sms-{member}", MessageKind.SMS, {"text": "Your certificate code"}, AT, to="+79161234567")

    with pytest.raises(InsufficientBalance):
        ledger.execute(member, spend("too-much", 600), attachments=[outbox.enqueue(message)])
    assert outbox.find(message.message_id) is None

    ledger.execute(member, spend("certificate", 500), attachments=[outbox.enqueue(message)])
    assert outbox.find(message.message_id) == message
    assert ledger.balances(member) == Balances(written_off=500)


def test_an_attachment_that_conflicts_rolls_back_the_ledger_change(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    outbox = container.outbox
    member = new_member_id()
    ledger.execute(member, credit("seed", 500))
    message = Message(f"dup-{member}", MessageKind.SMS, {"text": "code"}, AT, to="+79161234567")
    ledger.execute(member, spend("first", 100), attachments=[outbox.enqueue(message)])

    with pytest.raises(Conflict):
        ledger.execute(member, spend("second", 100), attachments=[outbox.enqueue(message)])

    assert ledger.balances(member) == Balances(available=400, written_off=100)
    assert ledger.transaction(member, "second") is None


def test_the_purchase_lifecycle_with_a_reversal_after_spending(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    member = new_member_id()
    details = {"partner_id": "aliexpress", "order_amount": "1999.90", "rate": "7"}
    ledger.execute(
        member,
        RecordPending(
            operation_id="pb:admitad:1:pending",
            transaction_id="conv:admitad:1",
            reason="order placed",
            at=AT,
            kind=Kind.PURCHASE,
            amount=139,
            source=Source("conversion", "admitad:1"),
            details=details,
        ),
    )
    assert ledger.balances(member) == Balances(pending=139)

    ledger.execute(
        member, Accrue(operation_id="pb:admitad:1:approved", transaction_id="conv:admitad:1", reason="approved", at=AT)
    )
    ledger.execute(member, spend("topup-2026-12", 100))
    ledger.execute(
        member,
        Reject(operation_id="pb:admitad:1:declined", transaction_id="conv:admitad:1", reason="goods returned", at=AT),
    )

    assert ledger.balances(member) == Balances(available=0, written_off=100, debt=100)
    purchase = ledger.transaction(member, "conv:admitad:1")
    assert purchase is not None
    assert purchase.status is Status.REJECTED
    assert purchase.reason == "goods returned"
    assert purchase.details == details

    ledger.execute(member, credit("later-bonus", 250))
    assert ledger.balances(member) == Balances(available=150, written_off=100, debt=0)


def test_entries_are_kept_with_their_kind_reason_source_and_actor(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    member = new_member_id()
    cmd = Credit(
        operation_id="adjustment:k1",
        transaction_id="adjustment:k1",
        reason="goodwill after a complaint",
        at=AT,
        actor="arn:aws:iam::1:user/support",
        kind=Kind.ADJUSTMENT,
        amount=40,
        source=Source("adjustment", "k1"),
    )
    ledger.execute(member, cmd)

    entry = EntryModel.get(partition(member), "ENTRY#adjustment:k1")
    assert (entry.kind, entry.reason, entry.source_type, entry.actor) == (
        "adjustment",
        "goodwill after a complaint",
        "adjustment",
        "arn:aws:iam::1:user/support",
    )
    assert entry.delta() == Balances(available=40)
    assert TransactionModel.get(partition(member), "TXN#adjustment:k1").status == "accrued"
