from __future__ import annotations

import pytest

from cashback.bootstrap import Container
from local.wiring import local_container
from tests.fixtures.dynamodb_local import RunningDynamoDB


@pytest.fixture
def container(dynamodb_local: RunningDynamoDB) -> Container:
    """The local wiring on the session's DynamoDB Local, to look behind the API at what a test did."""
    return local_container()
