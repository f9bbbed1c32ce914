"""Certificates against DynamoDB Local: no overspend under concurrency, one certificate per idempotency
key however many requests race, one redemption per certificate."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from cashback.bootstrap import Container
from cashback.certificates.rules import AlreadyRedeemed, OrderAlreadyDiscounted
from cashback.ledger.audit_repository import find_differences
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Balances
from cashback.members.rules import Goal
from cashback.platform.errors import InsufficientBalance
from cashback.platform.web.identity import MemberIdentity
from local.outbox import recent_messages
from tests.builders import a_member_with


@pytest.fixture
def smartphone_member(container: Container, ledger: Ledger) -> Callable[[int], MemberIdentity]:
    def create(bonuses: int) -> MemberIdentity:
        member = a_member_with(container, bonuses, goal=Goal.SMARTPHONE, member_id=f"it-{uuid.uuid4()}")
        return MemberIdentity(member.member_id, member.phone)

    return create


def test_fifty_concurrent_orders_on_one_balance_never_overspend(
    container: Container, ledger: Ledger, smartphone_member: Callable[[int], MemberIdentity]
) -> None:
    # Given a smartphone member with 1,000 bonuses
    service = container.certificates
    member = smartphone_member(1_000)
    start = threading.Barrier(50)

    def order(i: int) -> str:
        start.wait()
        try:
            service.issue_certificate(member.sub, 100, f"order-{i:04d}-concurrent")
        except InsufficientBalance:
            return "refused"
        return "issued"

    # When they order fifty certificates of 100 at once
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(order, range(50)))

    # Then ten are issued, each with its SMS, and exactly the 1,000 are written off
    assert results.count("issued") == 10
    assert ledger.balances(member.sub) == Balances(available=0, written_off=1_000)
    assert len(service.list_certificates(member.sub, limit=200).items) == 10
    assert len([m for m in recent_messages(200) if m.to == member.phone]) == 10


def test_one_key_from_five_threads_gives_one_certificate(
    container: Container, ledger: Ledger, smartphone_member: Callable[[int], MemberIdentity]
) -> None:
    # Given a smartphone member with 1,000 bonuses
    service = container.certificates
    member = smartphone_member(1_000)
    start = threading.Barrier(5)

    def order(_: int) -> Any:
        start.wait()
        return service.issue_certificate(member.sub, 500, "one-order-from-a-flaky-network")

    # When one order of 500, with one idempotency key, arrives five times at once
    with ThreadPoolExecutor(max_workers=5) as pool:
        issued = list(pool.map(order, range(5)))

    # Then one certificate is issued, paid for once, with one SMS
    assert len({(i.certificate.certificate_id, i.code) for i in issued}) == 1
    assert sum(i.created for i in issued) == 1
    assert ledger.balances(member.sub) == Balances(available=500, written_off=500)
    assert len([m for m in recent_messages(200) if m.to == member.phone]) == 1


def test_five_terminals_redeeming_one_code_at_once_redeem_it_once(
    container: Container, ledger: Ledger, smartphone_member: Callable[[int], MemberIdentity]
) -> None:
    # Given a member's certificate of 5,000
    service = container.certificates
    member = smartphone_member(5_000)
    code = service.issue_certificate(member.sub, 5_000, "order-for-redeem-race").code
    start = threading.Barrier(5)

    def redeem(i: int) -> str:
        start.wait()
        try:
            service.redeem_certificate(
                code,
                store_id=f"store-{i}",
                order_id=f"o-{i}",
                price="49990.00",
                item="smartphone",
                operator=f"terminal-{i}",
                operator_store_id=f"store-{i}",
            )
        except AlreadyRedeemed:
            return "refused"
        return "redeemed"

    # When five stores' terminals redeem its code at once
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(redeem, range(5)))

    # Then one redeems it, four are refused, and the ledger reconciles
    assert sorted(results) == ["redeemed"] + ["refused"] * 4
    _, differences = find_differences(container.dynamodb.client, container.settings.table("LEDGER_TABLE"))
    assert differences == []


def test_different_certificates_raced_on_one_store_order_discount_it_once(
    container: Container, ledger: Ledger, smartphone_member: Callable[[int], MemberIdentity]
) -> None:
    # Given five certificates of 20,000 (of two members) and one store order of a 79,990 phone
    service = container.certificates
    members = [smartphone_member(60_000), smartphone_member(40_000)]
    codes = [service.issue_certificate(members[i % 2].sub, 20_000, f"order-race-{i:04d}").code for i in range(5)]
    order_id = f"o-{uuid.uuid4()}"
    start = threading.Barrier(5)

    def redeem(i: int) -> str:
        start.wait()
        try:
            service.redeem_certificate(
                codes[i],
                store_id="store-1",
                order_id=order_id,
                price="79990.00",
                item="smartphone",
                operator=f"terminal-{i}",
                operator_store_id="store-1",
            )
        except OrderAlreadyDiscounted:
            return "refused"
        return "redeemed"

    # When five terminals of the store redeem them on that order at once
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(redeem, range(5)))

    # Then exactly one discounts the order, and the four refused are still good on another order
    assert sorted(results) == ["redeemed"] + ["refused"] * 4
    refused = [codes[i] for i, result in enumerate(results) if result == "refused"]
    for i, code in enumerate(refused):
        again = service.redeem_certificate(
            code,
            store_id="store-1",
            order_id=f"{order_id}-{i}",
            price="79990.00",
            item="smartphone",
            operator="terminal-0",
            operator_store_id="store-1",
        )
        assert again.discount == 20_000


def test_a_redemption_cancelled_as_a_conflict_is_retried(
    container: Container, smartphone_member: Callable[[int], MemberIdentity], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a certificate, and DynamoDB cancelling the next two transactions as conflicts (DynamoDB Local never
    # does; real DynamoDB does when two terminals race on one order)
    service = container.certificates
    code = service.issue_certificate(smartphone_member(1_000).sub, 1_000, "order-for-conflict").code
    real, conflicts = botocore.client.BaseClient._make_api_call, [2]

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and conflicts[0] > 0:
            conflicts[0] -= 1
            reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}]
            error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled [TransactionConflict]"}
            raise ClientError({"Error": error, "CancellationReasons": reasons}, operation)
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)

    # When a terminal redeems it, Then it is redeemed after the conflicts, not refused
    redemption = service.redeem_certificate(
        code,
        store_id="store-1",
        order_id=f"o-{uuid.uuid4()}",
        price="79990.00",
        item="smartphone",
        operator="terminal-1",
        operator_store_id="store-1",
    )
    assert (redemption.discount, conflicts[0]) == (1_000, 0)
