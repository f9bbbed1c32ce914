"""Monthly settlement against DynamoDB Local: a run that is killed mid-way, resumed, and whose messages
are delivered twice pays every member exactly once, within their limit, and leaves the ledger reconciled.

Each test has tables of its own: a run settles every candidate of the table, and other tests leave
members with balances behind.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.ledger.audit import Difference, ListingMismatch
from cashback.ledger.audit_repository import find_differences
from cashback.ledger.rules import Balances
from cashback.members.rules import Goal
from cashback.platform.config import Settings
from cashback.settlement import service as settlement
from cashback.settlement.rules import LineOutcome
from cashback.settlement.service import SettlementQueue, SettlementService
from local.secrets import EnvironmentSecrets
from local.wiring import local_container
from tests.builders import a_member_with, adjust, debit

MONTH = "2026-10"
SETTLED_AT = datetime(2026, 11, 1, 9, tzinfo=UTC)  # only the month that has just ended can be settled
AT = datetime(2026, 10, 20, tzinfo=UTC)


@pytest.fixture
def own_tables(dynamodb_local: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from local.template import create_tables, load_template, table_names

    template = load_template()
    names = table_names(template, f"settle-{uuid.uuid4().hex[:8]}")
    create_tables(template, names, dynamodb_local.endpoint)
    for variable, logical_id in (
        ("LEDGER_TABLE", "LedgerTable"),
        ("MEMBERS_TABLE", "MembersTable"),
        ("OUTBOX_TABLE", "OutboxTable"),
    ):
        monkeypatch.setenv(variable, names[logical_id])
    # Small pages and batches: a few dozen members make many pages, batches and continuations.
    monkeypatch.setattr(settlement, "PAGE_SIZE", 4)
    monkeypatch.setattr(settlement, "MEMBERS_PER_BATCH", 2)


@pytest.fixture
def container(own_tables: None) -> Container:
    """The local wiring on this test's own tables."""
    return local_container()


def wiring(queue: SettlementQueue) -> Container:
    """The wiring of a settlement worker on this test's tables whose messages go to `queue`."""
    return Container(Settings.from_environment(), secrets=EnvironmentSecrets(os.environ), settlement_queue=queue)


def differences_of(container: Container) -> tuple[int, list[Difference | ListingMismatch]]:
    return find_differences(container.dynamodb.client, container.settings.table("LEDGER_TABLE"))


@dataclass(frozen=True)
class Seeded:
    member_id: str
    goal: Goal
    available: int
    limit: int | None
    debt: int = 0

    @property
    def expected_topup(self) -> int:
        if self.goal is Goal.SMARTPHONE or self.available == 0:
            return 0
        return self.available if self.limit is None else min(self.available, self.limit)


def seed(container: Container, count: int) -> list[Seeded]:
    rng = random.Random(5)  # not money: which members get which balances
    ledger = container.ledger
    seeded = []
    for i in range(count):
        member_id = f"it-settle-{i:03d}-{uuid.uuid4().hex[:6]}"
        goal = Goal.SMARTPHONE if i % 5 == 0 else Goal.PHONE_TOPUP
        limit = rng.choice([None, None, 0, 100, 500])
        available = rng.choice([1, 99, 350, 1_000, 2_500])
        a_member_with(container, available, goal=goal, limit=limit, member_id=member_id, phone=f"+7916{i:07d}", at=AT)
        debt = 0
        if i % 7 == 3:  # a reversal after the bonuses were spent leaves a debt: nothing is available
            ledger.execute(member_id, debit("reversal", available + 200, at=AT))
            ledger.execute(member_id, adjust("partial-repay", 50, at=AT))
            available, debt = 0, 150
        seeded.append(Seeded(member_id, goal, available, limit, debt))
    return seeded


class ChaosQueue:
    """SQS as a worker sees it on a bad day: messages come back after a crash (with a higher receive
    count) and some are delivered twice. `settlement` is the service whose messages it carries."""

    def __init__(self, seed_value: int) -> None:
        self.pending: deque[tuple[dict[str, Any], int]] = deque()
        self.rng = random.Random(seed_value)  # not money
        self.settlement: SettlementService = wiring(self).settlement
        # A worker that dies after recording a page, before sending anything.
        self._dying: SettlementService = wiring(_Nowhere()).settlement

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        for message in messages:
            self.pending.append((message, 1))
            if self.rng.random() < 0.2:
                self.pending.append((message, 1))  # a duplicate delivery

    def step(self, *, crash_rate: float) -> None:
        index = self.rng.randrange(len(self.pending))  # SQS does not keep order
        self.pending.rotate(-index)
        message, receives = self.pending.popleft()
        if self.rng.random() < crash_rate:
            self._crash(message, receives)
            self.pending.append((message, receives + 1))  # back after the visibility timeout
            return
        self.settlement.handle_message(message, receive_count=receives)

    def _crash(self, message: dict[str, Any], receives: int) -> None:
        if message["type"] == "settle":  # the worker dies after settling part of the batch
            for member_id in message["member_ids"][: len(message["member_ids"]) // 2]:
                self.settlement.settle_member(message["month"], member_id, message["batch"])
        else:  # the worker dies after recording the page, before sending anything
            self._dying.handle_message(message, receive_count=receives)

    def drain(self, *, crash_rate: float = 0.0, limit: int | None = None) -> None:
        handled = 0
        while self.pending and (limit is None or handled < limit):
            self.step(crash_rate=crash_rate)
            handled += 1


class _Nowhere:
    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        pass


def assert_paid_exactly_once(container: Container, seeded: list[Seeded]) -> None:
    ledger, outbox = container.ledger, container.outbox
    for member in seeded:
        entries = [e for e in ledger.entries(member.member_id) if e.operation_id == f"settlement:{MONTH}"]
        paid = -sum(int(e.d_available) for e in entries)
        assert (len(entries) if member.expected_topup else 0, paid) == (
            1 if member.expected_topup else 0,
            member.expected_topup,
        ), member
        after = member.available - member.expected_topup
        assert ledger.balances(member.member_id).available == after
        assert ledger.balances(member.member_id).debt == member.debt
        message = outbox.find(f"topup:{MONTH}:{member.member_id}")
        assert (message.body["amount"] if message else 0) == member.expected_topup


def test_a_run_killed_mid_way_and_resumed_pays_every_member_exactly_once(container: Container) -> None:
    # Given thirty members with balances, goals and limits, and a queue that loses and repeats messages
    seeded = seed(container, 30)
    queue = ChaosQueue(seed_value=11)

    # When the month's run crashes as it goes, dies, and the operator resumes it
    queue.settlement.start_settlement(MONTH, now=SETTLED_AT)
    queue.drain(crash_rate=0.3, limit=25)  # then the whole thing dies
    queue.settlement.start_settlement(MONTH, now=SETTLED_AT)  # the operator resumes it
    queue.drain(crash_rate=0.2)
    report = container.settlement.report(MONTH)

    # Then every member is paid exactly once, the report adds up, and the ledger reconciles
    assert_paid_exactly_once(container, seeded)
    paying = [m for m in seeded if m.expected_topup]
    assert (report.state.value, report.members_settled, report.bonuses_paid, report.failures) == (
        "completed",
        len(paying),
        sum(m.expected_topup for m in paying),
        0,
    )
    # Skipped: listed, but not paid (smartphone goal, or a limit of 0). Members in debt have nothing
    # available, so the ledger never listed them.
    assert report.skipped == len([m for m in seeded if m.available and not m.expected_topup])
    assert report.batches_done == report.batches_sent
    assert differences_of(container) == (len(seeded), [])


def test_a_second_run_of_the_month_and_every_duplicate_change_nothing(container: Container) -> None:
    # Given twelve members, settled for the month
    seeded = seed(container, 12)
    queue = ChaosQueue(seed_value=3)
    queue.settlement.start_settlement(MONTH, now=SETTLED_AT)
    queue.drain()
    first = container.settlement.report(MONTH)

    # When the run is started again, and a stray duplicate of every batch arrives after it is over
    queue.settlement.start_settlement(MONTH, now=SETTLED_AT)
    queue.drain()
    for member in [m for m in seeded if m.available]:  # a stray duplicate of every batch, after the run is over
        assert container.settlement.settle_member(MONTH, member.member_id, "a1-s00-p000000-b0").outcome is None

    # Then the report is as it was, every member was paid once, and the ledger reconciles
    assert container.settlement.report(MONTH) == first
    assert_paid_exactly_once(container, seeded)
    assert differences_of(container) == (len(seeded), [])


def test_a_balance_that_changed_after_the_batch_was_read_is_settled_as_it_is_now(container: Container) -> None:
    # Given a phone top-up member without a limit, with 1,000 bonuses as their batch read them
    ledger, outbox = container.ledger, container.outbox
    [member] = [m for m in seed(container, 3) if m.goal is Goal.PHONE_TOPUP and m.limit is None]
    assert member.available == 1_000
    operation = f"settlement:{MONTH}"
    [known] = ledger.snapshots([member.member_id], operation_id=operation, transaction_id=operation).values()

    # When 30 more are credited before the member is settled
    ledger.execute(member.member_id, adjust("accrued-meanwhile", 30))
    settled = container.settlement.settle_member(MONTH, member.member_id, "a1-s00-p000000-b0", known=known)

    # Then all 1,030 are paid and written off
    assert (settled.outcome, settled.amount) == (LineOutcome.SETTLED, 1_030)
    assert ledger.balances(member.member_id) == Balances(written_off=1_030)
    message = outbox.find(f"topup:{MONTH}:{member.member_id}")
    assert message is not None
    assert message.body["amount"] == 1_030


def test_a_member_in_debt_gets_no_top_up_and_later_accruals_repay_the_debt_first(container: Container) -> None:
    # Given a member in debt, and the month's run over
    ledger, outbox = container.ledger, container.outbox
    [member] = [m for m in seed(container, 4) if m.debt]
    queue = ChaosQueue(seed_value=1)
    queue.settlement.start_settlement(MONTH, now=SETTLED_AT)
    queue.drain()

    # When 400 bonuses are credited after the run
    ledger.execute(member.member_id, adjust("after-the-run", 400))

    # Then the member got no top-up, and the 400 repay the debt of 150 first
    assert outbox.find(f"topup:{MONTH}:{member.member_id}") is None
    assert ledger.balances(member.member_id) == Balances(available=250)
    assert container.settlement.report(MONTH).state.value == "completed"
