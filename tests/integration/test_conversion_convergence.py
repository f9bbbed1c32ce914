"""The histories of `tests/fixtures/conversion_histories.py` on DynamoDB Local: the real ledger's single
read and single write, its conditions and retries, the conversion and delivery records, the clicks table."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from pynamodb.connection import Connection

from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.ledger import repository
from cashback.ledger.rules import Balances, Transaction
from cashback.postbacks.service import PostbackService
from local.wiring import local_container
from tests.builders import ADMITAD_SECRET
from tests.fixtures.conversion_histories import ConversionHistories, settlement


class DynamoDBWorld:
    container: Container  # set once per test: building a container per history would dominate the run

    def __init__(self) -> None:
        self._hook: Callable[[], None] | None = None
        ledger = self.container.ledger
        ledger._commit_raw = self._commit  # the seam crash tests use: between the read and the write
        self.postbacks: PostbackService = self.container.postbacks

    def _commit(self, connection: Connection, items: list[dict[str, Any]]) -> None:
        hook, self._hook = self._hook, None
        if hook is not None:
            hook()
        repository._commit_raw(connection, items)

    def new_member(self) -> str:
        return f"it-{uuid.uuid4()}"

    def record_click(self, click: Click) -> None:
        self.container.clicks.record(click)

    def between_read_and_write(self, hook: Callable[[], None]) -> None:
        self._hook = hook

    def unused_hook(self) -> Callable[[], None] | None:
        hook, self._hook = self._hook, None
        return hook

    def spend_all(self, member_id: str, operation: str) -> int:
        outcome = self.container.ledger.execute(member_id, settlement(operation))
        return outcome.transaction.amount if outcome.applied and outcome.transaction else 0

    def balances(self, member_id: str) -> Balances:
        return self.container.ledger.balances(member_id)

    def sum_of_entries(self, member_id: str) -> Balances:
        total = Balances()
        for entry in self.container.ledger.entries(member_id):
            total = total + entry.delta()
        return total

    def transaction(self, member_id: str, transaction_id: str) -> Transaction | None:
        return self.container.ledger.transaction(member_id, transaction_id)


class DynamoDBHistories(ConversionHistories):
    make_world = DynamoDBWorld


def test_conversions_converge_on_dynamodb_local(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": [ADMITAD_SECRET]}))
    DynamoDBWorld.container = local_container()
    before = DynamoDBHistories.steps_taken
    run_state_machine_as_test(
        DynamoDBHistories, settings=settings(max_examples=8, stateful_step_count=40, deadline=None)
    )
    assert DynamoDBHistories.steps_taken - before >= 120
