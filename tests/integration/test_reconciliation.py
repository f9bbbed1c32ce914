"""Invariant 2: balances equal the sum of entries for every member, the members listed for settlement are
those with bonuses available, and a planted difference of either kind is found."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime

from cashback.bootstrap import Container
from cashback.ledger.audit import Difference, ListingMismatch
from cashback.ledger.audit_repository import find_differences
from cashback.ledger.repository import ACCOUNT_SK, AccountModel, Ledger, candidate, partition
from cashback.ledger.rules import Accrue, Credit, Debit, Kind, RecordPending, Reject, Reprice, Source, Spend
from cashback.platform.errors import InsufficientBalance
from ops.reconcile import main as reconcile_command

AT = datetime(2026, 11, 24, tzinfo=UTC)


def differences_of(container: Container) -> tuple[int, list[Difference | ListingMismatch]]:
    """The audit of the container's ledger table: members checked, and every difference found."""
    return find_differences(container.dynamodb.client, container.settings.table("LEDGER_TABLE"), 4)


def random_operations(ledger: Ledger, members: list[str], rng: random.Random, count: int) -> None:
    purchases: dict[str, list[str]] = {m: [] for m in members}
    for i in range(count):
        member = rng.choice(members)
        op = f"op-{i}"
        choice = rng.randrange(7)
        src = Source("test", op)
        if choice == 0 or not purchases[member]:
            ledger.execute(
                member,
                RecordPending(
                    operation_id=op,
                    transaction_id=op,
                    reason="order",
                    at=AT,
                    kind=Kind.PURCHASE,
                    amount=rng.randint(1, 500),
                    source=src,
                ),
            )
            purchases[member].append(op)
        elif choice == 1:
            txn = rng.choice(purchases[member])
            ledger.execute(member, Accrue(operation_id=op, transaction_id=txn, reason="approved", at=AT))
        elif choice == 2:
            txn = rng.choice(purchases[member])
            ledger.execute(member, Reject(operation_id=op, transaction_id=txn, reason="declined", at=AT))
        elif choice == 3:
            txn = rng.choice(purchases[member])
            ledger.execute(
                member,
                Reprice(
                    operation_id=op, transaction_id=txn, reason="partial return", at=AT, amount=rng.randint(1, 500)
                ),
            )
        elif choice == 4:
            ledger.execute(
                member,
                Credit(
                    operation_id=op,
                    transaction_id=op,
                    reason="bonus",
                    at=AT,
                    kind=Kind.BONUS,
                    amount=rng.randint(1, 300),
                    source=src,
                ),
            )
        elif choice == 5:
            with suppress(InsufficientBalance):
                ledger.execute(
                    member,
                    Spend(
                        operation_id=op,
                        transaction_id=op,
                        reason="topup",
                        at=AT,
                        kind=Kind.SETTLEMENT,
                        amount=rng.randint(1, 300),
                        source=src,
                    ),
                )
        else:
            ledger.execute(
                member,
                Debit(
                    operation_id=op,
                    transaction_id=op,
                    reason="correction",
                    at=AT,
                    kind=Kind.ADJUSTMENT,
                    amount=rng.randint(1, 100),
                    source=src,
                ),
            )
        if rng.random() < 0.2:  # a redelivery of the same operation
            with suppress(InsufficientBalance):
                ledger.execute(
                    member,
                    Credit(
                        operation_id=op, transaction_id=op, reason="bonus", at=AT, kind=Kind.BONUS, amount=1, source=src
                    ),
                )


def test_reconciliation_is_clean_after_a_random_mix_of_operations(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    rng = random.Random(20261124)
    members = [new_member_id() for _ in range(8)]
    random_operations(ledger, members, rng, 300)

    checked, differences = differences_of(container)

    assert checked >= len(members)
    assert differences == []
    assert all(ledger.balances(m).available >= 0 for m in members)


def bonus(amount: int) -> Credit:
    return Credit(
        operation_id="c",
        transaction_id="c",
        reason="bonus",
        at=AT,
        kind=Kind.BONUS,
        amount=amount,
        source=Source("t", "c"),
    )


def test_reconciliation_finds_the_difference_a_test_plants(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str], capsys
) -> None:
    honest, tampered = new_member_id(), new_member_id()
    for member in (honest, tampered):
        ledger.execute(
            member,
            bonus(100),
        )
    account = AccountModel.get(partition(tampered), ACCOUNT_SK)
    try:
        # Someone edits the balance by hand, bypassing the ledger.
        account.update(actions=[AccountModel.available.set(1_100)], add_version_condition=False)

        _, differences = differences_of(container)
        exit_code = reconcile_command([])

        assert [d.member_id for d in differences] == [tampered]
        [difference] = differences
        assert isinstance(difference, Difference)
        assert difference.gap.available == 1_000
        assert exit_code == 1
        assert tampered in capsys.readouterr().err
    finally:
        account.update(actions=[AccountModel.available.set(100)], add_version_condition=False)
    assert differences_of(container)[1] == []


def test_reconciliation_finds_a_member_the_monthly_settlement_would_miss(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str], capsys
) -> None:
    member = new_member_id()
    ledger.execute(
        member,
        bonus(40),
    )
    listing = candidate(member)
    listing.delete()  # a restore or a write that bypassed the ledger lost the member's listing
    try:
        _, found = differences_of(container)
        exit_code = reconcile_command([])

        assert found == [ListingMismatch(member, available=40, listed=False)]
        assert exit_code == 1
        assert f"member {member}: not listed for settlement" in capsys.readouterr().err
    finally:
        listing.save()
    assert differences_of(container)[1] == []
