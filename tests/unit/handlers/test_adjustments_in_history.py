"""Adjustments by hand as the member sees them, through the handlers on moto: kind adjustment, the amount
signed as their bonuses moved, the operator's reason, and accrued (settled at once) either way; a debit
is no write-off to the member's goal, and the balances keep their meaning."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cashback.bootstrap import Container
from cashback.ledger.audit import reconcile
from cashback.ledger.repository import TXN_PREFIX, TransactionModel, partition
from cashback.ledger.rules import Balances, Status
from ops.restate_debits import restate_debits
from tests.builders import a_member
from tests.fixtures.handlers import invoke, sample_event

MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"
pytestmark = pytest.mark.usefixtures("moto_tables")


def adjust(amount: int, reason: str, key: str) -> dict[str, Any]:
    body = {"member_id": MEMBER, "amount": amount, "reason": reason}
    status, result = invoke("admin", sample_event("admin-adjustment", body=body, headers={"idempotency-key": key}))
    assert status == 201
    return result


def history(status: str | None = None) -> list[tuple[str, str, int, str]]:
    query = {"status": status} if status else None
    code, page = invoke("ledger", sample_event("ledger-transactions", query=query))
    assert code == 200
    return [(t["kind"], t["status"], t["amount"], t["reason"]) for t in page["items"]]


def balance() -> tuple[int, int, int, int]:
    code, body = invoke("ledger", sample_event("ledger-balance"))
    assert code == 200
    return body["available"], body["pending"], body["written_off"], body["debt"]


def test_a_credit_and_a_debit_read_as_adjustments_with_their_sign_and_reason() -> None:
    # Given an enrolled member credited 100 by hand
    invoke("members", sample_event("members-enrol"))
    adjust(100, "Goodwill credit", "k-1")

    # When the back office takes 30 back
    debited = adjust(-30, "Credited twice by mistake", "k-2")

    # Then the answer and the history show the debit as an adjustment of -30, settled at once
    assert (debited["transaction"]["kind"], debited["transaction"]["status"]) == ("adjustment", "accrued")
    assert debited["transaction"]["amount"] == -30
    assert history() == [
        ("adjustment", "accrued", -30, "Credited twice by mistake"),
        ("adjustment", "accrued", 100, "Goodwill credit"),
    ]
    # And nothing was written off to the member's goal: 70 available, as before this change
    assert balance() == (70, 0, 0, 0)
    assert history("written_off") == []
    assert [amount for _, _, amount, _ in history("accrued")] == [-30, 100]


def test_a_debit_beyond_the_balance_reads_as_the_whole_debit_and_leaves_debt() -> None:
    # Given a member with 20 available
    invoke("members", sample_event("members-enrol"))
    adjust(20, "Goodwill credit", "k-1")
    # When the back office takes 50 back
    adjust(-50, "Bonus of a fraudulent order", "k-2")
    # Then the member sees -50, and a debt of 30 that their next accruals repay
    assert history()[0] == ("adjustment", "accrued", -50, "Bonus of a fraudulent order")
    assert balance() == (0, 0, 0, 30)


def test_a_debit_stored_before_as_written_off_reads_as_accrued_and_is_restated_once(
    container: Container, moto_tables: dict[str, str]
) -> None:
    # Given a member with a credit of 100 and a debit of 30 stored the way debits once were (written off)
    invoke("members", sample_event("members-enrol"))
    adjust(100, "Goodwill credit", "k-1")
    adjust(-30, "Credited twice by mistake", "k-2")
    old = TransactionModel.get(partition(MEMBER), TXN_PREFIX + "adjustment:k-2")
    old.update(
        actions=[
            TransactionModel.status.set(Status.WRITTEN_OFF.value),
            TransactionModel.status_listed.set(f"{Status.WRITTEN_OFF.value}#{old.listed}"),
        ]
    )

    # Then the member already sees it as an accrued -30, and not among the written-off ones
    assert history()[0] == ("adjustment", "accrued", -30, "Credited twice by mistake")
    assert history("written_off") == []

    # When the operator restates the old debits, twice
    table = container.settings.table("LEDGER_TABLE")
    restated = [restate_debits(container.dynamodb.client, table) for _ in range(2)]

    # Then it is rewritten once, listed as accrued, and the balances are as they were
    assert restated == [1, 0]
    assert [amount for _, _, amount, _ in history("accrued")] == [-30, 100]
    assert balance() == (70, 0, 0, 0)


ADJUSTMENTS = st.lists(
    st.integers(min_value=-500, max_value=500).filter(lambda amount: amount != 0), min_size=1, max_size=8
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=ADJUSTMENTS)
def test_balances_are_the_sum_of_the_signed_adjustments_in_the_history(
    container: Container, amounts: list[int]
) -> None:
    # Given a member
    member = a_member(container).member_id

    # When the back office credits and debits them by hand, in any order
    for i, amount in enumerate(amounts):
        container.ledger_service.adjust(member, amount, f"adjustment {i}", actor="support", idempotency_key=f"{i}")

    # Then the history shows each adjustment with its sign, accrued, newest first
    page = container.ledger_service.history(member, None, 100, None)
    assert [(t.status, t.amount) for t in page.items] == [(Status.ACCRUED, a) for a in reversed(amounts)]
    # And available less debt is the sum of those signed amounts; nothing is pending or written off
    balances = container.ledger.balances(member)
    assert balances.available - balances.debt == sum(amounts)
    assert (balances.pending, balances.written_off) == (0, 0)
    assert min(balances.available, balances.debt) == 0  # debt is repaid before anything is available
    # And the ledger reconciles: balances are the sum of the entries
    entries = [entry.delta() for entry in container.ledger.entries(member)]
    assert reconcile(member, balances, entries) is None
    assert balances == sum(entries, Balances())
