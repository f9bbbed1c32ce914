"""The store payments' maturity job against DynamoDB Local: it reads only the maturity index's day
partitions, accrues each payment whose return window has passed exactly once however many runs overlap,
leaves the index empty behind it, and a refund racing it ends with the same balances either way."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cashback.bootstrap import Container
from cashback.ledger.rules import Balances, Status
from cashback.payments.repository import PaymentRepository
from cashback.payments.rules import Payment, Product, Refund, days_to_mature
from tests.builders import a_member


def a_day_of_its_own() -> datetime:
    """A moment no other test files payments around: the index is shared by the whole table."""
    return datetime(2060, 1, 1, 12, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 100_000)


def store_payment(container: Container, phone: str, at: datetime, amount: str = "1000.00") -> str:
    payment_id = f"it-{uuid.uuid4()}"
    payment = Payment(payment_id, phone, Product.STORE, Decimal(amount), "RUB", at)
    assert container.payments.receive_payment(payment).value == "credited"
    return payment_id


def test_overlapping_runs_accrue_each_matured_payment_once_and_empty_the_index(container: Container) -> None:
    # Given three members' store payments whose window has passed, and one still in its window
    paid_at = a_day_of_its_own()
    members = [a_member(container) for _ in range(3)]
    for member in members:
        store_payment(container, member.phone, paid_at)
    young = a_member(container)
    store_payment(container, young.phone, paid_at + timedelta(days=10))
    now = paid_at + timedelta(days=15)

    # When four runs overlap
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: container.payments.mature(now), range(4)))

    # Then each matured payment was accrued by exactly one run, and only the young one is still filed
    assert sum(report.accrued for report in reports) == 3
    assert sum(report.failed for report in reports) == 0
    for member in members:
        assert container.ledger.balances(member.member_id) == Balances(available=500)
    assert container.ledger.balances(young.member_id) == Balances(pending=500)
    repository = PaymentRepository(container.settings.table("LEDGER_TABLE"))
    filed = [m.member_id for day in days_to_mature(now + timedelta(days=10)) for m in repository.maturing_on(day)]
    assert filed == [young.member_id]


def test_a_refund_racing_the_job_ends_the_same_either_way(container: Container) -> None:
    paid_at = a_day_of_its_own()
    member = a_member(container)
    payment_id = store_payment(container, member.phone, paid_at)
    refund = Refund(f"r-{uuid.uuid4()}", payment_id, member.phone, Product.STORE, Decimal("400.00"), "RUB", paid_at)

    with ThreadPoolExecutor(2) as pool:
        job = pool.submit(container.payments.mature, paid_at + timedelta(days=15))
        taken = pool.submit(container.payments.receive_refund, refund)
        assert (job.result().failed, taken.result().value) == (0, "taken_back")
    container.payments.mature(paid_at + timedelta(days=15))  # whichever came first, the job is done now

    # 500 earned, 200 taken back: 300 available, nothing pending, whichever won
    assert container.ledger.balances(member.member_id) == Balances(available=300)
    purchase = container.ledger.transaction(member.member_id, f"payment:{payment_id}")
    assert purchase is not None
    assert purchase.status is Status.ACCRUED
