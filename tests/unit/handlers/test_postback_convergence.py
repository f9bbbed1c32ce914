"""The network's latest word decides (PRODUCT.md "Partner postbacks"), through the postbacks handler on
moto: whatever order Admitad's notifications arrive in, Anna's purchase ends where the most recent one,
by Admitad's own time, puts it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.ledger.rules import Balances, Kind, Source, Spend, Status
from tests.builders import a_recorded_click
from tests.fixtures.handlers import invoke, sample_event
from tests.unit.catalog.support import forget_warm_state

ORDERED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": ["local-admitad-secret"]}))


def click_of(container: Container, member: str = "anna") -> Click:
    """The member's click to AliExpress at 7 %, through Admitad."""
    return a_recorded_click(container, member_id=member, partner_id="aliexpress", network="admitad", rate_percent="7")


def admitad(click: Click, status: str, amount: str, hours_later: int, action: str = "1048576001") -> dict[str, Any]:
    """Admitad's notification, sent `hours_later` after the order by Admitad's clock."""
    at = ORDERED + timedelta(hours=hours_later)
    query = {
        **sample_event("postbacks-admitad")["queryStringParameters"],
        "subid": click.click_id,
        "action_id": action,
        "status": status,
        "order_sum": amount,
        "payment_sum": "",
        "time": str(int(at.timestamp())),
    }
    status_code, receipt = invoke("postbacks", sample_event("postbacks-admitad", query=query))
    assert status_code == 200, receipt
    return receipt


def purchase(container: Container, member: str = "anna", action: str = "1048576001") -> tuple[Status, int]:
    txn = container.ledger.transaction(member, f"conversion:admitad:{action}")
    assert txn is not None
    return txn.status, txn.amount


def first_purchase_bonus(container: Container, member: str = "anna") -> Status | None:
    txn = container.ledger.transaction(member, "bonus:first_purchase")
    return txn.status if txn else None


def test_a_partial_return_after_approval_takes_back_the_difference(container: Container) -> None:
    # Given Anna's order of 10,000 approved: 700 bonuses, and the first-purchase bonus of 200
    click = click_of(container)
    admitad(click, "approved", "10000.00", hours_later=1)
    assert container.ledger.balances("anna") == Balances(available=700 + 200)

    # When Admitad reports, later, that she returned part of it: the order is now 2,000
    receipt = admitad(click, "approved", "2000.00", hours_later=48)

    # Then she keeps the cashback of 2,000 only (140), and the bonus, as the order is still over 500
    assert receipt["outcome"] == "applied"
    assert purchase(container) == (Status.ACCRUED, 140)
    assert container.ledger.balances("anna") == Balances(available=140 + 200)


def test_a_partial_return_after_the_bonuses_were_spent_leaves_debt(container: Container) -> None:
    # Given Anna's approved order of 10,000 whose 900 bonuses were all spent
    click = click_of(container)
    admitad(click, "approved", "10000.00", hours_later=1)
    spend = Spend(
        operation_id="topup-1",
        transaction_id="topup-1",
        reason="Monthly settlement",
        at=ORDERED,
        kind=Kind.SETTLEMENT,
        amount=900,
        source=Source("settlement", "2026-11"),
    )
    container.ledger.execute("anna", spend)

    # When the order is reduced to 2,000 by a partial return
    admitad(click, "approved", "2000.00", hours_later=48)

    # Then the 560 she was paid too much become debt, repaid from her next accruals
    assert container.ledger.balances("anna") == Balances(written_off=900, debt=560)


def test_a_late_stale_re_delivery_changes_nothing(container: Container) -> None:
    # Given Anna's order reported pending at 10,000, then reduced to 2,000 while pending
    click = click_of(container)
    admitad(click, "pending", "10000.00", hours_later=1)
    admitad(click, "pending", "2000.00", hours_later=5)

    # When Admitad's first notification arrives again, late, and the second one again too
    late = admitad(click, "pending", "10000.00", hours_later=1)
    again = admitad(click, "pending", "2000.00", hours_later=5)

    # Then neither changes anything, and the approval accrues the cashback of 2,000
    assert (late["outcome"], again["outcome"]) == ("unchanged", "unchanged")
    assert purchase(container) == (Status.PENDING, 140)
    admitad(click, "approved", "2000.00", hours_later=72)
    assert purchase(container) == (Status.ACCRUED, 140)


def test_an_approval_after_a_decline_accrues_it(container: Container) -> None:
    # Given Anna's order declined by the store
    click = click_of(container)
    admitad(click, "declined", "1999.90", hours_later=1)
    assert purchase(container) == (Status.REJECTED, 139)
    assert first_purchase_bonus(container) is None  # a declined order earns no first-purchase bonus

    # When the store accepts her appeal and Admitad approves it
    receipt = admitad(click, "approved", "1999.90", hours_later=96)

    # Then the purchase is accrued, with the first-purchase bonus it now earns
    assert (receipt["outcome"], receipt["status"]) == ("applied", "accrued")
    assert purchase(container) == (Status.ACCRUED, 139)
    assert first_purchase_bonus(container) is Status.ACCRUED
    assert container.ledger.balances("anna") == Balances(available=139 + 200)


def test_a_decline_after_approval_reverses_the_purchase_and_its_bonus(container: Container) -> None:
    click = click_of(container)
    admitad(click, "approved", "1999.90", hours_later=1)

    admitad(click, "declined", "1999.90", hours_later=30)

    assert purchase(container) == (Status.REJECTED, 139)
    assert first_purchase_bonus(container) is Status.REJECTED
    assert container.ledger.balances("anna") == Balances()


def test_a_pending_after_approval_changes_nothing_even_when_newer(container: Container) -> None:
    click = click_of(container)
    admitad(click, "approved", "1999.90", hours_later=2)

    receipt = admitad(click, "pending", "5000.00", hours_later=3)

    assert receipt["outcome"] == "unchanged"
    assert purchase(container) == (Status.ACCRUED, 139)


def test_an_approval_delivered_before_its_pending_stays_approved(container: Container) -> None:
    click = click_of(container)
    admitad(click, "approved", "1999.90", hours_later=24)

    admitad(click, "pending", "1999.90", hours_later=1)

    assert purchase(container) == (Status.ACCRUED, 139)
    assert container.ledger.balances("anna") == Balances(available=139 + 200)


def test_the_first_purchase_bonus_goes_to_the_next_qualifying_order_after_a_decline(container: Container) -> None:
    # Given Anna's first order, pending with the first-purchase bonus, then declined
    first, second = click_of(container), click_of(container)
    admitad(first, "pending", "1999.90", hours_later=1, action="A-1")
    assert first_purchase_bonus(container) is Status.PENDING
    admitad(first, "declined", "1999.90", hours_later=20, action="A-1")
    assert first_purchase_bonus(container) is Status.REJECTED

    # When her next order of at least 500 roubles is approved
    admitad(second, "approved", "800.00", hours_later=30, action="A-2")

    # Then that order earns the bonus
    assert first_purchase_bonus(container) is Status.ACCRUED
    assert container.ledger.balances("anna") == Balances(available=56 + 200)


def test_an_order_under_500_roubles_earns_no_first_purchase_bonus(container: Container) -> None:
    admitad(click_of(container), "approved", "499.99", hours_later=1)

    assert first_purchase_bonus(container) is None
    assert container.ledger.balances("anna") == Balances(available=34)


def test_a_conversion_never_credits_a_second_member(container: Container) -> None:
    # Given Admitad's conversion credited to Anna's click
    admitad(click_of(container, "anna"), "approved", "1999.90", hours_later=1, action="A-7")

    # When the same conversion id names Boris's click
    receipt = admitad(click_of(container, "boris"), "approved", "1999.90", hours_later=2, action="A-7")

    # Then Boris gets nothing (no cashback, no first-purchase bonus) and support sees why
    assert receipt["outcome"] == "kept_for_support"
    assert container.ledger.balances("boris") == Balances()
    orphan = container.claim_repository.orphan("admitad:A-7#conversion_of_another_click")
    assert orphan is not None
    assert orphan.reason == "conversion_of_another_click"


def test_the_first_purchase_threshold_is_configurable(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the operator lowered the first purchase's threshold to 300 roubles
    monkeypatch.setenv("FIRST_PURCHASE_MIN_ORDER", "300")
    forget_warm_state()

    # When Anna's first order is of 400 roubles
    admitad(click_of(container), "approved", "400.00", hours_later=1)

    # Then it earns the first-purchase bonus
    assert first_purchase_bonus(container) is Status.ACCRUED
