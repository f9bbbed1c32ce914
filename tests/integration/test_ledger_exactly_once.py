"""Invariants 3-5 against DynamoDB Local, whose conditional writes and transactions are Amazon's own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from pynamodb.transactions import TransactWrite

from cashback.bootstrap import Container
from cashback.ledger.repository import Committer, EntryModel, Ledger, TransactionModel, partition
from cashback.ledger.rules import Balances, Status
from cashback.outbox.repository import Message, MessageKind
from cashback.platform.errors import Conflict, InsufficientBalance
from tests.builders import AT, accrue, adjust, credit, pending, reject, spend


def new_ledger(container: Container, *, commit: Committer | None = None) -> Ledger:
    """A ledger of its own on the container's table, as a new function container would build it."""
    table, connection = container.settings.table("LEDGER_TABLE"), container.dynamodb
    return Ledger(table, connection) if commit is None else Ledger(table, connection, commit=commit)


def test_an_operation_delivered_five_times_changes_the_balance_once(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    # Given a member
    member = new_member_id()
    # When their email bonus is delivered five times
    outcomes = [ledger.execute(member, credit("bonus:email:" + member, 15)) for _ in range(5)]

    # Then the first delivery applies, the others change nothing, and one entry and transaction are kept
    assert [o.applied for o in outcomes] == [True, False, False, False, False]
    assert ledger.balances(member) == Balances(available=15)
    assert len(ledger.entries(member)) == 1
    assert [t.amount for t in ledger.transactions(member).items] == [15]


def test_five_concurrent_deliveries_of_one_operation_apply_once(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    # Given a member
    member = new_member_id()
    # When their promo code's bonus is delivered five times at once
    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(lambda _: ledger.execute(member, credit("promo:UD2PV797", 250)), range(5)))

    # Then it applies once
    assert sum(o.applied for o in outcomes) == 1
    assert ledger.balances(member) == Balances(available=250)


def test_fifty_concurrent_spends_never_overspend(ledger: Ledger, new_member_id: Callable[[], str]) -> None:
    # Given a member with 1,000 bonuses
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

    # When they spend 100 fifty times at once
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(order, range(50)))

    # Then ten spends go through, forty are refused, and exactly the 1,000 are written off
    assert results.count("spent") == 10
    assert results.count("refused") == 40
    assert ledger.balances(member) == Balances(available=0, written_off=1_000)


class Crash(Exception):
    pass


def test_a_crash_before_the_commit_leaves_nothing_and_the_retry_completes(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    # Given a member
    member = new_member_id()

    def crash_before(write: TransactWrite) -> None:
        raise Crash("the container died after building the transaction")

    # When the function dies before committing their profile bonus
    with pytest.raises(Crash):
        new_ledger(container, commit=crash_before).execute(member, credit("bonus:profile", 30))

    # Then nothing was written
    ledger = new_ledger(container)
    assert ledger.balances(member) == Balances()
    assert ledger.entries(member) == []
    assert ledger.transactions(member).items == []

    # When the bonus is retried
    retry = ledger.execute(member, credit("bonus:profile", 30))
    # Then it applies
    assert retry.applied
    assert ledger.balances(member) == Balances(available=30)


def test_a_crash_after_the_commit_is_retried_without_applying_twice(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    # Given a member whose profile bonus was committed, but the function died before it could answer
    member = new_member_id()

    def crash_after(write: TransactWrite) -> None:
        write._commit()
        raise Crash("the response was lost")

    with pytest.raises(Crash):
        new_ledger(container, commit=crash_after).execute(member, credit("bonus:profile", 30))

    # When the bonus is retried
    ledger = new_ledger(container)
    retry = ledger.execute(member, credit("bonus:profile", 30))
    # Then the retry changes nothing: the bonus was credited once
    assert not retry.applied
    assert ledger.balances(member) == Balances(available=30)
    assert len(ledger.entries(member)) == 1


def test_an_outbox_message_commits_with_its_ledger_change_or_not_at_all(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    # Given a member with 500 bonuses, and an SMS to send with their spend
    outbox = container.outbox
    member = new_member_id()
    ledger.execute(member, credit("seed", 500))
    message = Message(f"sms-{member}", MessageKind.SMS, {"text": "Your certificate code"}, AT, to="+79161234567")

    # When they spend 600, it is refused and no SMS is queued
    with pytest.raises(InsufficientBalance):
        ledger.execute(member, spend("too-much", 600), attachments=[outbox.enqueue(message)])
    assert outbox.find(message.message_id) is None

    # When they spend 500
    ledger.execute(member, spend("certificate", 500), attachments=[outbox.enqueue(message)])
    # Then the SMS is queued with the spend
    assert outbox.find(message.message_id) == message
    assert ledger.balances(member) == Balances(written_off=500)


def test_an_attachment_that_conflicts_rolls_back_the_ledger_change(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    # Given a member who spent 100 of 500, with an SMS queued
    outbox = container.outbox
    member = new_member_id()
    ledger.execute(member, credit("seed", 500))
    message = Message(f"dup-{member}", MessageKind.SMS, {"text": "code"}, AT, to="+79161234567")
    ledger.execute(member, spend("first", 100), attachments=[outbox.enqueue(message)])

    # When a second spend queues the same SMS again, it conflicts
    with pytest.raises(Conflict):
        ledger.execute(member, spend("second", 100), attachments=[outbox.enqueue(message)])

    # Then the second spend left nothing behind
    assert ledger.balances(member) == Balances(available=400, written_off=100)
    assert ledger.transaction(member, "second") is None


def test_the_purchase_lifecycle_with_a_reversal_after_spending(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    # Given a member's purchase of 139 bonuses, pending
    member = new_member_id()
    details = {"partner_id": "aliexpress", "order_amount": "1999.90", "rate": "7"}
    ledger.execute(member, pending("pb:admitad:1:pending", 139, transaction="conv:admitad:1", details=details))
    assert ledger.balances(member) == Balances(pending=139)

    # When it is confirmed, 100 are spent on a top-up, and then the goods are returned
    ledger.execute(member, accrue("pb:admitad:1:approved", "conv:admitad:1"))
    ledger.execute(member, spend("topup-2026-12", 100))
    ledger.execute(member, reject("pb:admitad:1:declined", "conv:admitad:1", reason="goods returned"))

    # Then the 100 spent become debt, and the purchase shows as rejected with the reason and its details
    assert ledger.balances(member) == Balances(available=0, written_off=100, debt=100)
    purchase = ledger.transaction(member, "conv:admitad:1")
    assert purchase is not None
    assert purchase.status is Status.REJECTED
    assert purchase.reason == "goods returned"
    assert purchase.details == details

    # When a later bonus of 250 comes, it repays the debt first
    ledger.execute(member, credit("later-bonus", 250))
    assert ledger.balances(member) == Balances(available=150, written_off=100, debt=0)


def test_entries_are_kept_with_their_kind_reason_source_and_actor(
    ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    # When support credits a member 40 by hand, with a reason
    member = new_member_id()
    cmd = adjust("adjustment:k1", 40, reason="goodwill after a complaint", actor="arn:aws:iam::1:user/support")
    ledger.execute(member, cmd)

    # Then the entry keeps its kind, reason, source and who made it
    entry = EntryModel.get(partition(member), "ENTRY#adjustment:k1")
    assert (entry.kind, entry.reason, entry.source_type, entry.actor) == (
        "adjustment",
        "goodwill after a complaint",
        "adjustment",
        "arn:aws:iam::1:user/support",
    )
    assert entry.delta() == Balances(available=40)
    assert TransactionModel.get(partition(member), "TXN#adjustment:k1").status == "accrued"


def test_a_repeat_racing_a_spend_that_empties_the_balance_is_a_repeat_not_a_conflict(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    # Given a member with 100 bonuses, and a spend of all of them carrying a record of its own (as a
    # certificate's), which also takes the member off the settlement's list (a delete, sent before puts)
    member = new_member_id()
    new_ledger(container).execute(member, credit("seed", 100))
    message = Message(f"sms-{member}", MessageKind.SMS, {"text": "Your certificate code"}, AT, to="+79161234567")
    attach = container.outbox.enqueue(message)

    def the_repeat_lands_first(write: TransactWrite) -> None:
        new_ledger(container).execute(member, spend("certificate:1", 100), [attach])
        write._commit()

    # When a repeat of the spend commits between this delivery's read and its write
    racing = new_ledger(container, commit=the_repeat_lands_first)
    outcome = racing.execute(member, spend("certificate:1", 100), [attach])

    # Then this delivery is told it is a repeat (not a conflict), and the bonuses were spent once
    assert not outcome.applied
    assert new_ledger(container).balances(member) == Balances(written_off=100)
