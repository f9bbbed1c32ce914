"""Adjustments by hand in the member's history, on DynamoDB Local: a debit reads as a negative adjustment,
accrued; one stored the old way (written off) reads so too and is restated by the operator's command."""

from __future__ import annotations

from collections.abc import Callable

from cashback.bootstrap import Container
from cashback.ledger.audit import reconcile
from cashback.ledger.repository import TXN_PREFIX, TransactionModel, partition
from cashback.ledger.rules import Balances, Status
from ops.restate_debits import restate_debits
from tests.builders import a_member


def listed(container: Container, member_id: str, status: Status | None = None) -> list[tuple[Status, int]]:
    page = container.ledger_service.history(member_id, status, 100, None)
    return [(t.status, t.amount) for t in page.items]


def test_an_old_written_off_debit_reads_as_accrued_and_is_restated_once(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    # Given a member credited 100 and debited 130, the debit stored the way debits once were (written off)
    member = a_member(container, member_id=new_member_id()).member_id
    service = container.ledger_service
    service.adjust(member, 100, "Goodwill credit", actor="support", idempotency_key=f"c-{member}")
    service.adjust(member, -130, "Fraud", actor="support", idempotency_key=f"d-{member}")
    old = TransactionModel.get(partition(member), f"{TXN_PREFIX}adjustment:d-{member}")
    old.update(
        actions=[
            TransactionModel.status.set(Status.WRITTEN_OFF.value),
            TransactionModel.status_listed.set(f"{Status.WRITTEN_OFF.value}#{old.listed}"),
        ]
    )

    # Then the member sees it as an accrued -130 already, and not among the written-off ones
    assert listed(container, member) == [(Status.ACCRUED, -130), (Status.ACCRUED, 100)]
    assert listed(container, member, Status.WRITTEN_OFF) == []

    # When the operator restates the old debits, twice
    table = container.settings.table("LEDGER_TABLE")
    first = restate_debits(container.dynamodb.client, table)
    second = restate_debits(container.dynamodb.client, table)

    # Then it is rewritten once and listed as accrued; the balances and entries still agree, debt 30
    assert first >= 1
    assert second == 0
    assert listed(container, member, Status.ACCRUED) == [(Status.ACCRUED, -130), (Status.ACCRUED, 100)]
    balances = container.ledger.balances(member)
    assert balances == Balances(debt=30)
    assert reconcile(member, balances, [e.delta() for e in container.ledger.entries(member)]) is None
