"""The ledger's rules without a database: what each command does to the balances and the transaction."""

import pytest

from cashback.ledger.rules import Balances, Status, Transaction, decide
from cashback.platform.errors import InsufficientBalance, InvalidInput, NotFound
from tests.builders import accrue, credit, debit, give_back, pending, reject, reprice, spend, spend_up_to


def a_pending_purchase(amount: int = 100) -> Transaction:
    """Purchase t1, recorded and awaiting the partner's confirmation."""
    decision = decide(pending("op-p", amount, transaction="t1"), Balances(), None)
    assert decision is not None
    return decision.transaction


def test_a_new_purchase_is_pending_and_counts_in_pending_only() -> None:
    # When a purchase of 70 is recorded
    decision = decide(pending("op", 70, transaction="t1"), Balances(), None)
    # Then the 70 count as pending, and the purchase is pending
    assert decision is not None
    assert decision.delta == Balances(pending=70)
    assert decision.transaction.status is Status.PENDING


def test_accrual_moves_pending_to_available() -> None:
    # Given a pending purchase of 100
    purchase = a_pending_purchase()
    # When the partner confirms it
    decision = decide(accrue("op-a", "t1"), Balances(pending=100), purchase)
    # Then the 100 become available and the purchase is accrued
    assert decision is not None
    assert Balances(pending=100) + decision.delta == Balances(available=100)
    assert decision.transaction.status is Status.ACCRUED


def test_accrual_repays_debt_first() -> None:
    # Given a pending purchase of 100 and a debt of 30
    purchase, balances = a_pending_purchase(), Balances(pending=100, debt=30)
    # When the partner confirms the purchase
    decision = decide(accrue("op-a", "t1"), balances, purchase)
    # Then the debt is repaid and the rest is available
    assert decision is not None
    assert balances + decision.delta == Balances(available=70)


def test_statuses_only_move_forward() -> None:
    # Given an accrued purchase
    accrued = decide(accrue("a", "t1"), Balances(pending=100), a_pending_purchase())
    assert accrued is not None
    # When it is confirmed again, or re-priced
    again = decide(accrue("a2", "t1"), Balances(available=100), accrued.transaction)
    repriced = decide(reprice("r", "t1", 50), Balances(available=100), accrued.transaction)
    # Then nothing changes
    assert again is None
    assert repriced is None


def test_reversal_of_spent_bonuses_leaves_debt_instead_of_failing() -> None:
    # Given an accrued purchase of 100, of which 80 were already spent on a top-up
    accrued = decide(accrue("a", "t1"), Balances(pending=100), a_pending_purchase())
    assert accrued is not None
    balances = Balances(available=20, written_off=80)
    # When the partner reverses it
    reversal = decide(reject("x", "t1", reason="refund"), balances, accrued.transaction)
    # Then the 80 already spent become debt, and the purchase shows as rejected with the reason
    assert reversal is not None
    assert balances + reversal.delta == Balances(available=0, written_off=80, debt=80)
    assert reversal.transaction.status is Status.REJECTED
    assert reversal.transaction.reason == "refund"


def test_rejecting_a_rejected_purchase_changes_nothing() -> None:
    # Given a rejected purchase
    rejected = decide(reject("x", "t1"), Balances(pending=100), a_pending_purchase())
    assert rejected is not None
    # When it is declined again, or confirmed
    again = decide(reject("y", "t1"), Balances(), rejected.transaction)
    accrued = decide(accrue("z", "t1"), Balances(), rejected.transaction)
    # Then nothing changes
    assert again is None
    assert accrued is None


def test_repricing_a_pending_purchase_changes_pending_by_the_difference() -> None:
    # Given a pending purchase of 100
    purchase = a_pending_purchase()
    # When part of the order is returned and it is now worth 60
    decision = decide(reprice("r", "t1", 60), Balances(pending=100), purchase)
    # Then pending falls by 40, and the purchase is worth 60
    assert decision is not None
    assert decision.delta == Balances(pending=-40)
    assert decision.transaction.amount == 60


def test_spending_more_than_available_is_refused() -> None:
    # Given a spend of 500
    spending = spend("s", 500)
    # Then it is refused while only 499 are available
    with pytest.raises(InsufficientBalance):
        decide(spending, Balances(available=499), None)
    # When 500 are available
    decision = decide(spending, Balances(available=500), None)
    # Then all 500 are written off
    assert decision is not None
    assert Balances(available=500) + decision.delta == Balances(written_off=500)


@pytest.mark.parametrize(
    ("available", "limit", "spent"),
    [(1_000, 700, 700), (300, 700, 300), (300, None, 300), (700, 700, 700)],
)
def test_spending_up_to_a_limit_takes_what_is_available_within_it(
    available: int, limit: int | None, spent: int
) -> None:
    # Given bonuses available, and some already written off
    balances = Balances(available=available, written_off=5)
    # When the month is settled up to the member's limit
    decision = decide(spend_up_to("2026-10", limit), balances, None)
    # Then what is available within the limit is written off
    assert decision is not None
    assert balances + decision.delta == Balances(available=available - spent, written_off=5 + spent)
    assert (decision.transaction.amount, decision.transaction.status) == (spent, Status.WRITTEN_OFF)


@pytest.mark.parametrize("balances", [Balances(), Balances(debt=120), Balances(available=50)])
def test_spending_up_to_a_limit_with_nothing_to_spend_changes_nothing(balances: Balances) -> None:
    limit = 0 if balances.available else 500
    assert decide(spend_up_to("2026-10", limit), balances, None) is None


def test_spending_up_to_a_limit_once_recorded_is_not_repeated() -> None:
    # Given the month's settlement, recorded
    first = decide(spend_up_to("2026-10", None), Balances(available=80), None)
    assert first is not None
    # When it comes again
    again = decide(spend_up_to("2026-10", None), Balances(available=40), first.transaction)
    # Then nothing changes
    assert again is None


def a_settled_month(available: int) -> Transaction:
    settled = decide(spend_up_to("2026-10", None), Balances(available=available), None)
    assert settled is not None
    return settled.transaction


def test_a_refused_top_up_gives_its_bonuses_back_as_available_with_the_reason() -> None:
    # Given 600 bonuses written off by the October settlement, and 40 earned since
    balances = Balances(available=40, written_off=600)
    # When billing refuses the top-up
    returned = decide(give_back("2026-10", reason="number ported"), balances, a_settled_month(600))
    # Then the 600 are available again, no longer written off, and the settlement shows why
    assert returned is not None
    assert balances + returned.delta == Balances(available=640)
    assert (returned.transaction.status, returned.transaction.reason) == (Status.REJECTED, "number ported")
    assert returned.transaction.amount == 600


def test_bonuses_given_back_repay_debt_first() -> None:
    # Given a settled top-up of 600, then a purchase reversed after it was spent: a debt of 100
    balances = Balances(written_off=600, debt=100)
    # When billing refuses the top-up
    returned = decide(give_back("2026-10"), balances, a_settled_month(600))
    # Then the debt is repaid from the 600 and the rest is available
    assert returned is not None
    assert balances + returned.delta == Balances(available=500)


def test_only_a_written_off_spend_can_be_given_back() -> None:
    settled = a_settled_month(600)
    given_back = decide(give_back("2026-10"), Balances(written_off=600), settled)
    assert given_back is not None
    debited = decide(debit("d", 50), Balances(available=80), None)
    assert debited is not None
    # A top-up already given back, or bonuses taken back by hand, do not come back
    assert decide(give_back("2026-10"), Balances(available=600), given_back.transaction) is None
    assert decide(give_back("2026-10"), Balances(available=30), debited.transaction) is None
    with pytest.raises(NotFound):
        decide(give_back("2026-09"), Balances(), None)


def test_a_negative_spending_limit_is_refused() -> None:
    with pytest.raises(InvalidInput):
        decide(spend_up_to("2026-10", -1), Balances(available=80), None)


def test_a_debit_by_hand_takes_what_is_available_and_records_the_rest_as_debt() -> None:
    # Given 20 available
    balances = Balances(available=20)
    # When the back office takes back 50
    decision = decide(debit("d", 50), balances, None)
    # Then the 20 are taken and the other 30 become debt
    assert decision is not None
    assert balances + decision.delta == Balances(debt=30)
    assert decision.transaction.amount == -50


def test_a_debit_by_hand_is_settled_at_once_and_final() -> None:
    # When the back office takes back 50 of 80
    decision = decide(debit("d", 50), Balances(available=80), None)
    # Then it reads as accrued (settled at once) with -50: nothing went to the member's goal
    assert decision is not None
    assert (decision.transaction.status, decision.transaction.amount) == (Status.ACCRUED, -50)
    assert decision.delta.written_off == 0
    # And no later command on its transaction moves it (a reversal would credit the 50 back unasked)
    for move in (reject("r", "d"), accrue("a", "d"), reprice("p", "d", 10), give_back("d")):
        assert decide(move, Balances(available=30), decision.transaction) is None


def test_credit_is_available_at_once() -> None:
    # When a bonus of 15 is credited
    decision = decide(credit("c", 15), Balances(), None)
    # Then the 15 are available at once, and the bonus is accrued
    assert decision is not None
    assert decision.delta == Balances(available=15)
    assert decision.transaction.status is Status.ACCRUED


@pytest.mark.parametrize("amount", [0, -5, True])
def test_amounts_are_positive_whole_bonuses(amount: int) -> None:
    with pytest.raises(InvalidInput):
        decide(credit("c", amount), Balances(), None)


def test_a_reason_is_required() -> None:
    with pytest.raises(InvalidInput):
        credit("c", 1, reason="  ")


def test_moving_an_unrecorded_transaction_is_not_found() -> None:
    with pytest.raises(NotFound):
        decide(accrue("a", "nope"), Balances(), None)
