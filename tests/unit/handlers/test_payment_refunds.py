"""The operator's own payments, through the payments function on moto: the bank card earns 5%, a payment
id belongs to the first member it was credited to, amounts past the sanity ceiling are never credited,
and a refund takes back the cashback of what was refunded - once per refund, never more than was earned,
as debt when it was spent."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cashback.bootstrap import Container
from cashback.ledger.audit import reconcile
from cashback.ledger.rules import Balances
from cashback.payments.rules import CreditedPayment, Product, Refund, to_take_back
from tests.fixtures.handlers import REPO, LambdaContext, handler_module, invoke, sample_event

pytestmark = pytest.mark.usefixtures("moto_tables")

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def deliver(name: str, **detail: Any) -> str:
    """events/payments-<name>.json with its detail changed as given, through the payments function."""
    event = json.loads((REPO / "events" / f"payments-{name}.json").read_text())
    event["detail"].update(detail)
    result: dict[str, Any] = handler_module("payments").lambda_handler(event, LambdaContext())
    return str(result["outcome"])


def balance() -> dict[str, Any]:
    _, body = invoke("ledger", sample_event("ledger-balance"))
    return dict(body)


@pytest.fixture
def member() -> str:
    status, body = invoke("members", sample_event("members-enrol", body=None))
    assert status in (200, 201)
    return str(body["member_id"])


def test_the_bank_card_earns_five_percent(member: str) -> None:
    assert deliver("completed", product="card", amount="1999.90") == "credited"
    assert balance()["available"] == 99  # 5% of 1,999.90, rounded down


def test_a_payment_id_is_credited_to_one_member_only(member: str) -> None:
    # Given a payment of the member credited once
    assert deliver("completed") == "credited"
    # When the same payment id comes for another member's number
    invoke("members", sample_event("members-enrol", claims={"sub": "another", "phone_number": "+79161112233"}))
    other = deliver("completed", phone="+79161112233")
    # Then nothing is credited to them
    assert other == "other_member"
    other_member = {"sub": "another", "phone_number": "+79161112233"}
    _, theirs = invoke("ledger", sample_event("ledger-balance", claims=other_member))
    assert theirs["available"] == 0


@pytest.mark.parametrize("amount", ["10000000.01", "50000000000000000000.00"])
def test_an_amount_past_the_sanity_ceiling_is_never_credited(member: str, amount: str) -> None:
    assert deliver("completed", amount=amount) == "over_ceiling"
    assert balance()["available"] == 0


def test_a_partial_refund_takes_back_the_cashback_of_the_refunded_part_once(member: str) -> None:
    # Given a tariff payment of 600 that earned 300
    deliver("completed", amount="600.00")
    # When 200 of it is refunded, and the refund is delivered twice
    outcomes = [deliver("refunded", amount="200.00") for _ in range(2)]
    # Then 100 is taken back once
    assert outcomes == ["taken_back", "repeat"]
    assert balance()["available"] == 200


def test_refunds_never_take_back_more_than_the_payment_earned(member: str) -> None:
    deliver("completed", amount="600.00")  # earned 300
    first = deliver("refunded", amount="400.00", refund_id="r-1")  # 200 back
    second = deliver("refunded", amount="400.00", refund_id="r-2")  # 200 asked, 100 left
    third = deliver("refunded", amount="1.00", refund_id="r-3")  # nothing left
    assert (first, second, third) == ("taken_back", "taken_back", "nothing_earned")
    assert balance()["available"] == 0


def test_a_refund_of_spent_cashback_leaves_a_debt(member: str, container: Container) -> None:
    # Given cashback of 300 that the member has spent down to 0 (a hand debit stands in for a spend)
    deliver("completed", amount="600.00")
    invoke("admin", sample_event("admin-adjustment", body={"member_id": member, "amount": -300, "reason": "spent"}))
    # When the whole payment is refunded
    assert deliver("refunded", amount="600.00") == "taken_back"
    # Then the 300 are owed, to be repaid by future accruals
    assert container.ledger.balances(member) == Balances(available=0, debt=300)


def test_a_refund_of_a_payment_that_earned_nothing_here_changes_nothing(member: str) -> None:
    assert deliver("refunded", payment_id="never-seen") == "unknown_payment"
    assert balance()["available"] == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("100000.00"), places=2),
    parts=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000.00"), places=2), max_size=6),
)
def test_refunds_in_any_parts_take_back_at_most_what_was_earned(amount: Decimal, parts: list[Decimal]) -> None:
    credited = CreditedPayment("p", "m", Product.STORE, amount, Decimal("50"), int(amount * Decimal("0.5")))
    taken = 0
    for i, part in enumerate([*parts, amount]):  # some partial refunds, then the rest of the whole
        refund = Refund(f"r-{i}", "p", "+7", Product.STORE, part, "RUB", NOW)
        step = to_take_back(replace(credited, taken_back=taken), refund)
        assert step >= 0
        taken += step
        assert taken <= credited.cashback
    assert taken == credited.cashback  # a whole refund at the end takes back all that was left


def test_balances_stay_the_sum_of_entries_after_refunds(member: str, container: Container) -> None:
    deliver("completed", amount="999.99")
    deliver("refunded", amount="333.33", refund_id="r-1")
    deliver("refunded", amount="999.99", refund_id="r-2")
    entries = [entry.delta() for entry in container.ledger.entries(member)]
    assert reconcile(member, container.ledger.balances(member), entries) is None
    assert container.ledger.balances(member).available == 0
