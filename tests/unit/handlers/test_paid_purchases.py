"""After the monthly settlement the member's history shows which purchases were paid: the oldest accrued
bonuses are spent first, and each purchase they came from reads as written off, without the settlement
touching any of them (its transaction writes the same few items however long the history)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cashback.bootstrap import Container
from cashback.ledger.rules import GiveBack, Kind, Source, SpendUpTo
from tests.builders import a_recorded_click
from tests.fixtures.handlers import invoke, sample_event

MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"  # the member of the sample events
ORDERED = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": ["local-admitad-secret"]}))


def approved_order(container: Container, action: str, amount: str, days_later: int) -> None:
    click = a_recorded_click(container, member_id=MEMBER, partner_id="aliexpress", network="admitad", rate_percent="7")
    at = ORDERED + timedelta(days=days_later)
    query = {
        **sample_event("postbacks-admitad")["queryStringParameters"],
        "subid": click.click_id,
        "action_id": action,
        "status": "approved",
        "order_sum": amount,
        "payment_sum": "",
        "time": str(int(at.timestamp())),
    }
    assert invoke("postbacks", sample_event("postbacks-admitad", query=query))[0] == 200


def history(status: str | None = None) -> list[tuple[str, str, int]]:
    code, page = invoke("ledger", sample_event("ledger-transactions", query={"status": status} if status else None))
    assert code == 200, page
    return sorted((t["transaction_id"], t["status"], t["amount"]) for t in page["items"])


def settle(container: Container, limit: int | None) -> None:
    settlement = SpendUpTo(
        operation_id="settlement:2026-10",
        transaction_id="settlement:2026-10",
        reason="Monthly settlement",
        at=datetime(2026, 11, 1, tzinfo=UTC),
        kind=Kind.SETTLEMENT,
        limit=limit,
        source=Source("settlement", "2026-10"),
    )
    container.ledger.execute(MEMBER, settlement)


def test_the_purchases_a_settlement_paid_read_as_written_off(container: Container) -> None:
    # Given two approved orders: 70 with the first-purchase bonus of 200, then 70 more
    approved_order(container, "A-1", "1000.00", days_later=0)
    approved_order(container, "A-2", "1000.00", days_later=5)

    # When the monthly settlement pays 300 (the member's monthly limit)
    settle(container, limit=300)

    # Then the first order and its bonus were paid (written off); the second is still to be paid
    assert history() == [
        ("bonus:first_purchase", "written_off", 200),
        ("conversion:admitad:A-1", "written_off", 70),
        ("conversion:admitad:A-2", "accrued", 70),
        ("settlement:2026-10", "written_off", 300),
    ]
    assert [t for t, _, _ in history("written_off")] == [
        "bonus:first_purchase",
        "conversion:admitad:A-1",
        "settlement:2026-10",
    ]
    assert [t for t, _, _ in history("accrued")] == ["conversion:admitad:A-2"]


def test_a_refused_top_up_makes_the_purchases_it_paid_unpaid_again(container: Container) -> None:
    # Given an order paid by a settlement
    approved_order(container, "A-1", "1000.00", days_later=0)
    settle(container, limit=None)
    assert ("conversion:admitad:A-1", "written_off", 70) in history()

    # When billing refuses the top-up and the bonuses come back
    give_back = GiveBack(
        operation_id="topup-failed:2026-10",
        transaction_id="settlement:2026-10",
        reason="The number was ported away",
        at=datetime(2026, 11, 1, 1, tzinfo=UTC),
    )
    container.ledger.execute(MEMBER, give_back)

    # Then the purchase reads as accrued again: its bonuses are available to spend
    assert ("conversion:admitad:A-1", "accrued", 70) in history()
