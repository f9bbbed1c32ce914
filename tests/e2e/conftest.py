from __future__ import annotations

from typing import Any

import pytest

from cashback.bootstrap import Container
from local.wiring import local_container
from tests.fixtures.dynamodb_local import RunningDynamoDB


@pytest.fixture
def container(dynamodb_local: RunningDynamoDB) -> Container:
    """The local wiring on the session's DynamoDB Local, to look behind the API at what a test did."""
    return local_container()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many cases the OpenAPI fuzz test sent (test_openapi_fuzz.py), when it ran."""
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "fuzz"
    ]
    if lines:
        terminalreporter.write_sep("-", "OpenAPI fuzz (schemathesis, not_a_server_error)")
        for line in lines:
            terminalreporter.write_line(line)
