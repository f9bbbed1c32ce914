"""The whole postback path (adapter, service, the ledger's rules) over random networks' histories, on the
in-memory ledger: thousands of steps a run. `tests/integration/test_conversion_convergence.py` plays
the same machine on DynamoDB Local."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from cashback.claims.rules import Orphan
from cashback.clicks.rules import Click
from cashback.ledger.plans import ItemKey, RawItem
from cashback.ledger.rules import Balances, Transaction
from cashback.postbacks.service import PostbackService
from tests.builders import ADMITAD_SECRET
from tests.fakes.ledger import MemoryLedger
from tests.fixtures.conversion_histories import ConversionHistories, settlement

STEPS_EXAMPLES = 150


class MemoryClicks:
    """Clicks kept where the in-memory ledger's snapshot reads them, as DynamoDB reads them in one call."""

    def __init__(self, ledger: MemoryLedger) -> None:
        self._ledger = ledger
        self._clicks: dict[str, Click] = {}

    def record(self, click: Click) -> None:
        self._clicks[click.click_id] = click
        self._ledger.records[self.click_key(click.click_id)] = {"click_id": {"S": click.click_id}}

    def find_click(self, click_id: str) -> Click | None:
        return self._clicks.get(click_id)

    def click_key(self, click_id: str) -> ItemKey:
        return ItemKey("clicks", f"CLICK#{click_id}", "CLICK")

    def click_of(self, item: RawItem | None) -> Click | None:
        return self._clicks[item["click_id"]["S"]] if item else None


class Orphans:
    def __init__(self) -> None:
        self.kept: list[Orphan] = []

    def keep(self, orphan: Orphan) -> None:
        self.kept.append(orphan)


class Credentials:
    def for_network(self, network: str, partner_id: str | None = None) -> list[str]:
        return [ADMITAD_SECRET]


class MemoryWorld:
    def __init__(self) -> None:
        self.ledger = MemoryLedger()
        self.clicks = MemoryClicks(self.ledger)
        self.orphans = Orphans()
        self.postbacks = PostbackService(
            self.ledger, clicks=self.clicks, orphans=self.orphans, credentials=Credentials()
        )

    def new_member(self) -> str:
        return f"m-{uuid.uuid4()}"

    def record_click(self, click: Click) -> None:
        self.clicks.record(click)

    def between_read_and_write(self, hook: Callable[[], None]) -> None:
        self.ledger.between_read_and_write = hook

    def unused_hook(self) -> Callable[[], None] | None:
        hook, self.ledger.between_read_and_write = self.ledger.between_read_and_write, None
        return hook

    def spend_all(self, member_id: str, operation: str) -> int:
        outcome = self.ledger.execute(member_id, settlement(operation))
        return outcome.transaction.amount if outcome.applied and outcome.transaction else 0

    def balances(self, member_id: str) -> Balances:
        return self.ledger.balances(member_id)

    def sum_of_entries(self, member_id: str) -> Balances:
        return self.ledger.sum_of_entries(member_id)

    def transaction(self, member_id: str, transaction_id: str) -> Transaction | None:
        return self.ledger.transaction(member_id, transaction_id)


class InMemoryHistories(ConversionHistories):
    make_world = MemoryWorld


def test_conversions_converge_to_the_latest_word_over_10_000_steps() -> None:
    before = InMemoryHistories.steps_taken
    run_state_machine_as_test(
        InMemoryHistories, settings=settings(max_examples=STEPS_EXAMPLES, stateful_step_count=100, deadline=None)
    )
    # What the issue asks of a CI run: at least 10,000 steps of histories in all (each step checked).
    assert InMemoryHistories.steps_taken - before >= 10_000
