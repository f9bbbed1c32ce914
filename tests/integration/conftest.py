from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from cashback.bootstrap import Container
from cashback.ledger.repository import Ledger


@pytest.fixture
def db(dynamodb_local):
    """DynamoDB Local with the template's tables; each test works on members of its own."""
    return dynamodb_local


@pytest.fixture
def ledger(db, container: Container) -> Ledger:
    return container.ledger


@pytest.fixture
def new_member_id() -> Callable[[], str]:
    return lambda: f"it-{uuid.uuid4()}"


@pytest.fixture
def container(db) -> Container:
    """The composition root's wiring against DynamoDB Local."""
    from local.wiring import local_container

    return local_container()
