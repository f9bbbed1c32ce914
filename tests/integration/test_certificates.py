"""Certificates against DynamoDB Local: no overspend under concurrency, one certificate per idempotency
key however many requests race, one redemption per certificate."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.certificates.rules import AlreadyRedeemed
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
