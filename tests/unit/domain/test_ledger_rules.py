"""The ledger's rules without a database: what each command does to the balances and the transaction."""

from datetime import UTC, datetime

import pytest

from cashback.ledger.rules import (
    Accrue,
    Balances,
    Credit,
    Debit,
    Kind,
    RecordPending,
    Reject,
    Reprice,
    Source,
    Spend,
    SpendUpTo,
    Status,
    Transaction,
    decide,
)
from cashback.platform.errors import InsufficientBalance, InvalidInput, NotFound

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SOURCE = Source("conversion", "admitad:1")


def pending(amount: int = 100) -> Transaction:
    decision = decide(
        RecordPending(
            operation_id="op-p",
            transaction_id="t1",
            reason="order",
            at=AT,
            kind=Kind.PURCHASE,
            amount=amount,
            source=SOURCE,
        ),
        Balances(),
        None,
    )
    assert decision is not None
    return decision.transaction


def test_a_new_purchase_is_pending_and_counts_in_pending_only() -> None:
    cmd = RecordPending(
        operation_id="op", transaction_id="t1", reason="order", at=AT, kind=Kind.PURCHASE, amount=70, source=SOURCE
    )
    decision = decide(cmd, Balances(), None)
    assert decision is not None
    assert decision.delta == Balances(pending=70)
    assert decision.transaction.status is Status.PENDING


def test_accrual_moves_pending_to_available() -> None:
    decision = decide(
        Accrue(operation_id="op-a", transaction_id="t1", reason="approved", at=AT), Balances(pending=100), pending()
    )
    assert decision is not None
    assert Balances(pending=100) + decision.delta == Balances(available=100)
    assert decision.transaction.status is Status.ACCRUED


def test_accrual_repays_debt_first() -> None:
    decision = decide(
        Accrue(operation_id="op-a", transaction_id="t1", reason="approved", at=AT),
        Balances(pending=100, debt=30),
        pending(),
    )
    assert decision is not None
    assert Balances(pending=100, debt=30) + decision.delta == Balances(available=70)


def test_statuses_only_move_forward() -> None:
    accrued = decide(
        Accrue(operation_id="a", transaction_id="t1", reason="approved", at=AT), Balances(pending=100), pending()
    )
    assert accrued is not None
    again = Accrue(operation_id="a2", transaction_id="t1", reason="approved", at=AT)
    assert decide(again, Balances(available=100), accrued.transaction) is None
    reprice = Reprice(operation_id="r", transaction_id="t1", reason="return", at=AT, amount=50)
    assert decide(reprice, Balances(available=100), accrued.transaction) is None


def test_reversal_of_spent_bonuses_leaves_debt_instead_of_failing() -> None:
    accrued = decide(
        Accrue(operation_id="a", transaction_id="t1", reason="approved", at=AT), Balances(pending=100), pending()
    )
    assert accrued is not None
    # 80 of the 100 were already spent on a top-up
    balances = Balances(available=20, written_off=80)
    reversal = decide(
        Reject(operation_id="x", transaction_id="t1", reason="refund", at=AT), balances, accrued.transaction
    )
    assert reversal is not None
    assert balances + reversal.delta == Balances(available=0, written_off=80, debt=80)
    assert reversal.transaction.status is Status.REJECTED
    assert reversal.transaction.reason == "refund"


def test_rejecting_a_rejected_purchase_changes_nothing() -> None:
    rejected = decide(
        Reject(operation_id="x", transaction_id="t1", reason="declined", at=AT), Balances(pending=100), pending()
    )
    assert rejected is not None
    assert (
        decide(
            Reject(operation_id="y", transaction_id="t1", reason="declined", at=AT), Balances(), rejected.transaction
        )
        is None
    )
    assert (
        decide(
            Accrue(operation_id="z", transaction_id="t1", reason="approved", at=AT), Balances(), rejected.transaction
        )
        is None
    )


def test_repricing_a_pending_purchase_changes_pending_by_the_difference() -> None:
    decision = decide(
        Reprice(operation_id="r", transaction_id="t1", reason="partial return", at=AT, amount=60),
        Balances(pending=100),
        pending(),
    )
    assert decision is not None
    assert decision.delta == Balances(pending=-40)
    assert decision.transaction.amount == 60


def test_spending_more_than_available_is_refused() -> None:
    spend = Spend(
        operation_id="s",
        transaction_id="c1",
        reason="certificate",
        at=AT,
        kind=Kind.CERTIFICATE,
        amount=500,
        source=Source("certificate", "c1"),
    )
    with pytest.raises(InsufficientBalance):
        decide(spend, Balances(available=499), None)
    decision = decide(spend, Balances(available=500), None)
    assert decision is not None
    assert Balances(available=500) + decision.delta == Balances(written_off=500)


def spend_up_to(limit: int | None) -> SpendUpTo:
    return SpendUpTo(
        operation_id="settlement:2026-10",
        transaction_id="settlement:2026-10",
        reason="top-up",
        at=AT,
        kind=Kind.SETTLEMENT,
        limit=limit,
        source=Source("settlement", "2026-10"),
    )


@pytest.mark.parametrize(
    ("available", "limit", "spent"),
    [(1_000, 700, 700), (300, 700, 300), (300, None, 300), (700, 700, 700)],
)
def test_spending_up_to_a_limit_takes_what_is_available_within_it(
    available: int, limit: int | None, spent: int
) -> None:
    decision = decide(spend_up_to(limit), Balances(available=available, written_off=5), None)
    assert decision is not None
    assert Balances(available=available, written_off=5) + decision.delta == Balances(
        available=available - spent, written_off=5 + spent
    )
    assert (decision.transaction.amount, decision.transaction.status) == (spent, Status.WRITTEN_OFF)


@pytest.mark.parametrize("balances", [Balances(), Balances(debt=120), Balances(available=50)])
def test_spending_up_to_a_limit_with_nothing_to_spend_changes_nothing(balances: Balances) -> None:
    limit = 0 if balances.available else 500
    assert decide(spend_up_to(limit), balances, None) is None


def test_spending_up_to_a_limit_once_recorded_is_not_repeated() -> None:
    first = decide(spend_up_to(None), Balances(available=80), None)
    assert first is not None
    assert decide(spend_up_to(None), Balances(available=40), first.transaction) is None


def test_a_negative_spending_limit_is_refused() -> None:
    with pytest.raises(InvalidInput):
        decide(spend_up_to(-1), Balances(available=80), None)


def test_a_debit_by_hand_takes_what_is_available_and_records_the_rest_as_debt() -> None:
    debit = Debit(
        operation_id="d",
        transaction_id="d",
        reason="fraud",
        at=AT,
        kind=Kind.ADJUSTMENT,
        amount=50,
        source=Source("adjustment", "d"),
    )
    decision = decide(debit, Balances(available=20), None)
    assert decision is not None
    assert Balances(available=20) + decision.delta == Balances(debt=30)
    assert decision.transaction.amount == -50


def test_credit_is_available_at_once() -> None:
    credit = Credit(
        operation_id="c",
        transaction_id="c",
        reason="welcome",
        at=AT,
        kind=Kind.BONUS,
        amount=15,
        source=Source("bonus_rule", "email"),
    )
    decision = decide(credit, Balances(), None)
    assert decision is not None
    assert decision.delta == Balances(available=15)
    assert decision.transaction.status is Status.ACCRUED


@pytest.mark.parametrize("amount", [0, -5, True])
def test_amounts_are_positive_whole_bonuses(amount: int) -> None:
    with pytest.raises(InvalidInput):
        decide(
            Credit(
                operation_id="c", transaction_id="c", reason="x", at=AT, kind=Kind.BONUS, amount=amount, source=SOURCE
            ),
            Balances(),
            None,
        )


def test_a_reason_is_required() -> None:
    with pytest.raises(InvalidInput):
        Credit(operation_id="c", transaction_id="c", reason="  ", at=AT, kind=Kind.BONUS, amount=1, source=SOURCE)


def test_moving_an_unrecorded_transaction_is_not_found() -> None:
    with pytest.raises(NotFound):
        decide(Accrue(operation_id="a", transaction_id="nope", reason="approved", at=AT), Balances(), None)
