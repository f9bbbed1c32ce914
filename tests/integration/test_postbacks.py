"""Postbacks on DynamoDB Local: a real click, the real ledger, deliveries repeated and reordered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.calls import counting_calls
from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.ledger.audit_repository import find_differences
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Balances, Status
from cashback.postbacks import service as postbacks
from cashback.postbacks.networks import PostbackRequest
from cashback.postbacks.rules import PostbackStatus
from local.wiring import local_container
from tests.builders import ADMITAD_SECRET, a_recorded_click, an_admitad_request, spend

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def container(db: Any, monkeypatch: pytest.MonkeyPatch) -> Container:
    """The local wiring, given Admitad's postback secret."""
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": [ADMITAD_SECRET]}))
    return local_container()


def a_click_by(container: Container, member_id: str) -> Click:
    """The member's click on AliExpress at 7 %, two hours ago; its cashback accrues 30 days after the order."""
    return a_recorded_click(container, member_id=member_id, accrual_days=30, clicked_at=NOW - timedelta(hours=2))


def admitad(click_id: str, action_id: str, status: str, **query: str) -> PostbackRequest:
    """Admitad's postback about an order placed an hour ago."""
    return an_admitad_request(click_id, action_id, status, at=NOW - timedelta(hours=1), **query)


def deliver(container: Container, request: PostbackRequest) -> postbacks.Receipt:
    return container.postbacks.receive("admitad", request, now=NOW)


@pytest.fixture
def member(ledger: Ledger, new_member_id: Callable[[], str]) -> str:
    return new_member_id()


def test_pending_then_approved_twice_accrues_once_with_the_first_purchase_bonus(
    container: Container, ledger: Ledger, member: str
) -> None:
    # Given a member's click on AliExpress
    click = a_click_by(container, member)
    action = uuid.uuid4().hex

    # When Admitad reports the order of 1,999.90 as pending
    first = deliver(container, admitad(click.click_id, action, "pending"))
    # Then the member sees 139 bonuses pending, expected 30 days after the order, and the first-purchase
    # bonus of 200 pending with it
    assert (first.outcome, first.status) == (postbacks.Outcome.APPLIED, "pending")
    pending = {t.kind.value: t for t in ledger.transactions(member).items}
    assert {k: (t.status, t.amount) for k, t in pending.items()} == {
        "purchase": (Status.PENDING, 139),
        "bonus": (Status.PENDING, 200),
    }
    assert pending["purchase"].expected_at == NOW - timedelta(hours=1) + timedelta(days=30)
    assert ledger.balances(member) == Balances(pending=139 + 200)

    # When Admitad approves it, twice
    receipts = [deliver(container, admitad(click.click_id, action, "approved")) for _ in range(2)]

    # Then the 139 and the first purchase bonus of 200 are accrued once
    assert [r.outcome for r in receipts] == [postbacks.Outcome.APPLIED, postbacks.Outcome.UNCHANGED]
    assert ledger.balances(member) == Balances(available=139 + 200)
    reasons = sorted((t.reason, t.status.value, t.amount) for t in ledger.transactions(member).items)
    assert reasons == [("Confirmed by the partner", "accrued", 139), ("First purchase", "accrued", 200)]


def test_the_first_purchase_bonus_comes_with_the_first_order_of_500_roubles_only(
    container: Container, ledger: Ledger, member: str
) -> None:
    # When an order of 100.00, then two of 1,000.00, through three clicks are approved
    for amount in ("100.00", "1000.00", "1000.00"):
        click = a_click_by(container, member)
        deliver(container, admitad(click.click_id, uuid.uuid4().hex, "approved", amount=amount))
    # Then each earns 7 %, and only the first order of at least 500 roubles brings the first purchase bonus
    assert ledger.balances(member) == Balances(available=7 + 70 + 70 + 200)


def test_a_decline_shows_as_rejected_with_the_reason(container: Container, ledger: Ledger, member: str) -> None:
    # Given a pending order
    click = a_click_by(container, member)
    action = uuid.uuid4().hex
    deliver(container, admitad(click.click_id, action, "pending"))
    # When Admitad declines it
    deliver(container, admitad(click.click_id, action, "declined"))

    # Then the purchase and its first-purchase bonus show as rejected with the reason, and nothing is pending
    txns = {t.kind.value: t for t in ledger.transactions(member).items}
    assert (txns["purchase"].status, txns["purchase"].reason) == (Status.REJECTED, "Declined by the partner")
    assert txns["bonus"].status is Status.REJECTED
    assert ledger.balances(member) == Balances()


def test_a_decline_after_the_bonuses_were_spent_leaves_debt(container: Container, ledger: Ledger, member: str) -> None:
    # Given an approved order of 10,000.00, whose 900 bonuses were all spent on a top-up
    click = a_click_by(container, member)
    action = uuid.uuid4().hex
    approved = admitad(click.click_id, action, "approved", amount="10000.00")
    deliver(container, approved)  # 700 + the 200 first-purchase bonus
    ledger.execute(member, spend("topup", 900))

    # When Admitad declines the order after all, an hour later
    deliver(container, admitad(click.click_id, action, "declined", time=str(int(NOW.timestamp()))))

    # Then the order's 700 and the first-purchase bonus it brought become debt
    assert ledger.balances(member) == Balances(available=0, written_off=900, debt=700 + 200)


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"subid": "never-clicked"}, "unknown click id"), ({"currency": "GBP"}, "currency GBP is not RUB")],
)
def test_an_unusable_postback_is_kept_for_support_and_answered(
    container: Container, member: str, change: dict[str, Any], reason: str
) -> None:
    # Given a postback about an unknown click, or in another currency
    click = a_click_by(container, member)
    action = uuid.uuid4().hex
    request = admitad(click.click_id, action, "pending", **change)

    # When it is delivered twice
    receipts = [deliver(container, request) for _ in range(2)]

    # Then it is answered and kept for support with the reason, without Admitad's secret
    assert {r.outcome for r in receipts} == {postbacks.Outcome.KEPT_FOR_SUPPORT}
    orphan = container.claim_repository.orphan(f"admitad:{action}")
    assert orphan is not None
    assert orphan.reason == reason
    assert orphan.raw["order_sum"] == "1999.90"
    assert "token" not in orphan.raw


statuses = st.lists(st.sampled_from(list(PostbackStatus)), min_size=1, max_size=6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=statuses)
def test_random_deliveries_end_where_their_decisive_statuses_say(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str], deliveries: list[PostbackStatus]
) -> None:
    # Given a member's click
    member = new_member_id()
    click = a_click_by(container, member)
    action = uuid.uuid4().hex
    # When Admitad reports the order with any sequence of statuses
    for status in deliveries:
        deliver(container, admitad(click.click_id, action, status.value, amount="1000.00"))

    # Then a decline wins over an approval, which wins over pending; balances equal the sum of the entries
    [purchase] = [t for t in ledger.transactions(member).items if t.kind.value == "purchase"]
    if PostbackStatus.DECLINED in deliveries:
        assert purchase.status is Status.REJECTED
    elif PostbackStatus.APPROVED in deliveries:
        assert purchase.status is Status.ACCRUED
    else:
        assert purchase.status is Status.PENDING
    entries = Balances()
    for entry in ledger.entries(member):
        entries = entries + entry.delta()
    assert ledger.balances(member) == entries


def test_the_ledger_reconciles_after_the_postbacks(container: Container, ledger: Ledger) -> None:
    assert find_differences(container.dynamodb.client, container.settings.table("LEDGER_TABLE"))[1] == []


def test_a_postback_is_one_read_and_one_write_and_a_repeat_one_read(
    container: Container, ledger: Ledger, member: str
) -> None:
    # Given a member's click (its id names the member, as the redirect's do)
    click = a_click_by(container, member)
    action = uuid.uuid4().hex
    ordered = admitad(click.click_id, action, "pending", amount="1999.90")
    approved = admitad(click.click_id, action, "approved", amount="1999.90", time=str(int(NOW.timestamp())))

    # When Admitad reports the member's first order, repeats it, then approves it
    calls = []
    for request in (ordered, ordered, approved):
        with counting_calls() as counts:
            deliver(container, request)
        calls.append(dict(counts))

    # Then the purchase and its first-purchase bonus moved together, each time in one read and one write,
    # and the repeat was answered from its read alone
    assert calls == [
        {"TransactGetItems": 1, "TransactWriteItems": 1},
        {"TransactGetItems": 1},
        {"TransactGetItems": 1, "TransactWriteItems": 1},
    ]
    assert ledger.balances(member) == Balances(available=139 + 200)
