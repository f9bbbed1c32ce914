"""Goods from the operator's online store can be returned within 14 days: their cashback stays pending
through the window (not spendable), the daily maturity job accrues it once the window has passed, and a
refund within the window takes back from the pending amount - once per refund, whichever way the refund
and the job race."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pynamodb.transactions import TransactWrite

from cashback.bootstrap import Container
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Balances
from cashback.payments.repository import PaymentRepository
from cashback.payments.rules import Payment, Product, Refund
from cashback.payments.service import MaturityReport, PaymentService
from tests.fixtures.handlers import REPO, LambdaContext, handler_module, invoke, sample_event

pytestmark = pytest.mark.usefixtures("moto_tables")

NOW = datetime.now(UTC)
WINDOW = timedelta(days=14)


def deliver(name: str, **detail: Any) -> str:
    """events/payments-<name>.json as a store payment, with its detail changed as given."""
    event = json.loads((REPO / "events" / f"payments-{name}.json").read_text())
    event["detail"].update({"product": "store", "amount": "1000.00", **detail})
    result: dict[str, Any] = handler_module("payments").lambda_handler(event, LambdaContext())
    return str(result["outcome"])


def run_the_job() -> dict[str, Any]:
    """The daily schedule fires the maturity function (its event's content is not read)."""
    event = json.loads((REPO / "events" / "payment-maturity-schedule.json").read_text())
    result: dict[str, Any] = handler_module("payment_maturity").lambda_handler(event, LambdaContext())
    return result


def days_ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def balance() -> dict[str, Any]:
    _, body = invoke("ledger", sample_event("ledger-balance"))
    return dict(body)


def history() -> list[dict[str, Any]]:
    _, body = invoke("ledger", sample_event("ledger-transactions", query={"limit": "20"}))
    return list(body["items"])


@pytest.fixture
def member() -> str:
    status, body = invoke("members", sample_event("members-enrol", body=None))
    assert status in (200, 201)
    return str(body["member_id"])


def test_a_store_payment_is_pending_until_its_window_ends_and_cannot_be_spent(member: str) -> None:
    # Given a member saving for a smartphone, whose store payment of 1000 earned 500
    invoke("members", sample_event("members-update", body={"goal": "smartphone"}))
    assert deliver("completed", occurred_at=days_ago(1)) == "credited"

    # Then the 500 are pending, expected when the 14 days have passed
    assert (balance()["available"], balance()["pending"]) == (0, 500)
    [purchase] = history()
    assert (purchase["status"], purchase["amount"]) == ("pending", 500)
    assert datetime.fromisoformat(purchase["expected_at"]) == NOW - timedelta(days=1) + WINDOW
    # And a certificate cannot be bought with them
    status, body = invoke("certificates", sample_event("certificates-issue", body={"denomination": 500}))
    assert (status, body["error"]["code"]) == (409, "insufficient_balance")

    # And the job leaves them pending while the window lasts
    assert run_the_job()["accrued"] == 0
    assert balance()["pending"] == 500


def test_the_job_accrues_a_payment_whose_window_has_passed_once(member: str) -> None:
    # Given a store payment made 15 days ago, and one made yesterday
    deliver("completed", payment_id="old", occurred_at=days_ago(15))
    deliver("completed", payment_id="new", occurred_at=days_ago(1), amount="200.00")

    # When the daily job runs, twice
    first, second = run_the_job(), run_the_job()

    # Then the old one's cashback is available, once; the new one stays pending
    assert (first["accrued"], second["accrued"], second["unchanged"]) == (1, 0, 0)
    assert (balance()["available"], balance()["pending"]) == (500, 100)
    statuses = {item["transaction_id"]: item["status"] for item in history()}
    assert statuses == {"payment:old": "accrued", "payment:new": "pending"}


def test_a_run_missed_for_days_is_caught_up(member: str, container: Container) -> None:
    deliver("completed", occurred_at=days_ago(20))  # the window ended six days ago
    assert container.payments.mature(NOW) == MaturityReport(accrued=1)
    assert container.payments.mature(NOW) == MaturityReport()  # its index item went after the accrual


def test_other_products_are_still_accrued_at_once(member: str) -> None:
    assert deliver("completed", product="tariff", amount="600.00") == "credited"
    assert (balance()["available"], balance()["pending"]) == (300, 0)


def test_a_partial_refund_in_the_window_reduces_the_pending_cashback_once(member: str) -> None:
    deliver("completed", occurred_at=days_ago(3))  # 500 pending
    # When 400 of it is refunded, delivered twice
    outcomes = [deliver("refunded", amount="400.00", occurred_at=days_ago(2)) for _ in range(2)]
    # Then 200 are taken from pending, once, and the rest matures later
    assert outcomes == ["taken_back", "repeat"]
    assert (balance()["available"], balance()["pending"]) == (0, 300)
    [purchase] = history()
    assert (purchase["status"], purchase["amount"]) == ("pending", 300)


def test_a_whole_refund_in_the_window_rejects_the_cashback(member: str, container: Container) -> None:
    deliver("completed", occurred_at=days_ago(15))
    deliver("refunded", amount="1000.00", occurred_at=days_ago(14))  # before the job ran
    report = container.payments.mature(NOW)
    assert report == MaturityReport(unchanged=1)  # its index item was harmless, and is gone
    assert container.ledger.balances(member) == Balances()
    [purchase] = history()
    assert purchase["status"] == "rejected"


def test_a_refund_after_the_window_takes_back_accrued_cashback_as_debt_if_spent(
    member: str, container: Container
) -> None:
    # Given a store payment whose window has passed, accrued, then spent (a hand debit stands in for a spend)
    deliver("completed", occurred_at=days_ago(20))
    run_the_job()
    invoke("admin", sample_event("admin-adjustment", body={"member_id": member, "amount": -500, "reason": "spent"}))
    # When 600 of it is refunded
    assert deliver("refunded", amount="600.00") == "taken_back"
    # Then the 300 are owed
    assert container.ledger.balances(member) == Balances(available=0, debt=300)


# --- the refund racing the maturity job, on the service layer ---------------------------------------------


def _service(container: Container, before_commit: Callable[[], object]) -> PaymentService:
    """The payment service on a ledger that runs `before_commit` once, between its read and its write."""
    fired: list[bool] = []

    def commit(write: TransactWrite) -> None:
        if not fired:
            fired.append(True)
            before_commit()
        write._commit()

    ledger = Ledger(container.settings.table("LEDGER_TABLE"), container.dynamodb, commit=commit)
    return PaymentService(ledger, container.members, PaymentRepository(container.settings.table("LEDGER_TABLE")))


def _store_payment(container: Container, member: str) -> None:
    payment = Payment("p-race", "+79161234567", Product.STORE, Decimal("1000.00"), "RUB", NOW - timedelta(days=15))
    assert container.payments.receive_payment(payment).value == "credited"


def _refund(amount: str) -> Refund:
    return Refund("r-race", "p-race", "+79161234567", Product.STORE, Decimal(amount), "RUB", NOW - timedelta(days=2))


@pytest.mark.parametrize(("refunded", "available", "status"), [("400.00", 300, "accrued"), ("1000.00", 0, "rejected")])
def test_a_refund_that_loses_the_race_to_the_job_takes_back_from_the_accrual(
    member: str, container: Container, refunded: str, available: int, status: str
) -> None:
    # Given a store payment of 1000 (500 pending) whose window has passed
    _store_payment(container, member)
    # When the job accrues it after the refund read it as pending, before the refund's write
    service = _service(container, lambda: container.payments.mature(NOW))
    assert service.receive_refund(_refund(refunded)).value == "taken_back"
    # Then the refund is taken back from what was accrued, exactly once
    assert container.ledger.balances(member) == Balances(available=available)
    assert container.payments.receive_refund(_refund(refunded)).value in ("repeat", "nothing_earned")
    assert container.ledger.balances(member) == Balances(available=available)
    assert {t["transaction_id"]: t["status"] for t in history()}["payment:p-race"] == status


@pytest.mark.parametrize(("refunded", "available", "status"), [("400.00", 300, "accrued"), ("1000.00", 0, "rejected")])
def test_a_job_that_loses_the_race_to_the_refund_accrues_what_is_left(
    member: str, container: Container, refunded: str, available: int, status: str
) -> None:
    _store_payment(container, member)
    # When the refund reprices the payment after the job read it as pending, before the job's write
    service = _service(container, lambda: container.payments.receive_refund(_refund(refunded)))
    assert service.mature(NOW).failed == 0
    # Then what the refund left is accrued, and a second run changes nothing
    assert container.ledger.balances(member) == Balances(available=available)
    container.payments.mature(NOW)
    assert container.ledger.balances(member) == Balances(available=available)
    assert {t["transaction_id"]: t["status"] for t in history()}["payment:p-race"] == status
