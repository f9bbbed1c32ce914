"""Invariant 2: balances equal the sum of entries for every member, the members listed for settlement are
those with bonuses available, and a planted difference of either kind is found."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

from cashback.bootstrap import Container
from cashback.ledger.audit import Difference, ListingMismatch
from cashback.ledger.audit_repository import find_differences
from cashback.ledger.repository import ACCOUNT_SK, AccountModel, Ledger, candidate, partition
from cashback.platform.errors import InsufficientBalance
from local import stack_state
from ops.reconcile import main as reconcile_command
from tests.builders import accrue, credit, debit, pending, reject, reprice, spend
from tests.fixtures.dynamodb_local import ENDPOINT_VARIABLE, RunningDynamoDB


def differences_of(container: Container) -> tuple[int, list[Difference | ListingMismatch]]:
    """The audit of the container's ledger table: members checked, and every difference found."""
    return find_differences(container.dynamodb.client, container.settings.table("LEDGER_TABLE"), 4)


def random_operations(ledger: Ledger, members: list[str], rng: random.Random, count: int) -> None:
    purchases: dict[str, list[str]] = {m: [] for m in members}
    for i in range(count):
        member = rng.choice(members)
        op = f"op-{i}"
        choice = rng.randrange(7)
        if choice == 0 or not purchases[member]:
            ledger.execute(member, pending(op, rng.randint(1, 500)))
            purchases[member].append(op)
        elif choice == 1:
            ledger.execute(member, accrue(op, rng.choice(purchases[member])))
        elif choice == 2:
            ledger.execute(member, reject(op, rng.choice(purchases[member])))
        elif choice == 3:
            txn = rng.choice(purchases[member])
            ledger.execute(member, reprice(op, txn, rng.randint(1, 500)))
        elif choice == 4:
            ledger.execute(member, credit(op, rng.randint(1, 300)))
        elif choice == 5:
            with suppress(InsufficientBalance):
                ledger.execute(member, spend(op, rng.randint(1, 300)))
        else:
            ledger.execute(member, debit(op, rng.randint(1, 100)))
        if rng.random() < 0.2:  # a redelivery of the same operation
            with suppress(InsufficientBalance):
                ledger.execute(member, credit(op, 1))


def test_reconciliation_is_clean_after_a_random_mix_of_operations(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    # Given eight members and 300 purchases, bonuses, top-ups and corrections among them, some delivered twice
    rng = random.Random(20261124)
    members = [new_member_id() for _ in range(8)]
    random_operations(ledger, members, rng, 300)

    # When the ledger is reconciled
    checked, differences = differences_of(container)

    # Then every member is checked, no difference is found, and no balance is negative
    assert checked >= len(members)
    assert differences == []
    assert all(ledger.balances(m).available >= 0 for m in members)


def test_reconciliation_finds_the_difference_a_test_plants(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str], capsys
) -> None:
    # Given two members with 100 bonuses each
    honest, tampered = new_member_id(), new_member_id()
    for member in (honest, tampered):
        ledger.execute(member, credit("c", 100))
    account = AccountModel.get(partition(tampered), ACCOUNT_SK)
    try:
        # Given someone edits one balance by hand, bypassing the ledger
        account.update(actions=[AccountModel.available.set(1_100)], add_version_condition=False)

        # When the ledger is reconciled, in code and by the operator's command
        _, differences = differences_of(container)
        exit_code = reconcile_command([])

        # Then that member's gap of 1,000 is found and reported, and the command fails
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
    # Given a member with 40 bonuses whose listing for settlement was lost
    member = new_member_id()
    ledger.execute(member, credit("c", 40))
    listing = candidate(member)
    listing.delete()  # a restore or a write that bypassed the ledger lost the member's listing
    try:
        # When the ledger is reconciled, in code and by the operator's command
        _, found = differences_of(container)
        exit_code = reconcile_command([])

        # Then the unlisted member is found and reported, and the command fails
        assert found == [ListingMismatch(member, available=40, listed=False)]
        assert exit_code == 1
        assert f"member {member}: not listed for settlement" in capsys.readouterr().err
    finally:
        listing.save()
    assert differences_of(container)[1] == []


def test_the_operators_command_finds_the_running_local_stack_by_itself(
    container: Container,
    ledger: Ledger,
    new_member_id: Callable[[], str],
    db: RunningDynamoDB,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a member whose balance was edited by hand on a running local stack (`make run` writes its file)
    member = new_member_id()
    ledger.execute(member, credit("c", 100))
    account = AccountModel.get(partition(member), ACCOUNT_SK)
    tables = {variable: name for variable, name in db.environment.items() if variable != ENDPOINT_VARIABLE}
    state = stack_state.write(stack_state.LocalStack(db.endpoint, tables, os.getpid()), tmp_path / "local-stack.json")
    monkeypatch.setenv("LOCAL_STACK_FILE", str(state))
    # Given a shell that names no table and no endpoint
    for variable in db.environment:
        monkeypatch.delenv(variable)
    account.update(actions=[AccountModel.available.set(1_100)], add_version_condition=False)
    try:
        # When the operator reconciles without exporting anything
        exit_code = reconcile_command([])

        # Then the command worked on the local stack and found the difference there
        assert exit_code == 1
        err = capsys.readouterr().err
        assert f"reconciling the local stack (DynamoDB Local at {db.endpoint})" in err
        assert f"member {member}: account" in err
    finally:
        account.update(actions=[AccountModel.available.set(100)], add_version_condition=False)
