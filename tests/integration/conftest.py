from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from cashback.ledger.repository import Ledger
from tests.fixtures.caches import reset_clients


@pytest.fixture
def db(dynamodb_local):  # type: ignore[no-untyped-def]
    """DynamoDB Local with the template's tables; each test works on members of its own."""
    reset_clients()
    return dynamodb_local


@pytest.fixture
def ledger(db) -> Ledger:  # type: ignore[no-untyped-def]
    return Ledger()


@pytest.fixture
def new_member_id() -> Callable[[], str]:
    return lambda: f"it-{uuid.uuid4()}"
