"""Environment every test starts from: fake credentials, a region, powertools quiet and deterministic.

moto is imported before any client exists so that no boto3 client escapes the mock; clients and tables
are built lazily by the code under test, after these variables are set.
"""

from __future__ import annotations

import os
import tempfile

import moto  # noqa: F401  (imported first on purpose, see above)
import pytest

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_SERVICE_NAME": "cashback-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "CashbackTests",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "AWS_LAMBDA_FUNCTION_NAME": "cashback-tests",
        "MEMBERS_TABLE": "cashback-test-members",
        "LEDGER_TABLE": "cashback-test-ledger",
        "OUTBOX_TABLE": "cashback-test-outbox",
        # The roles the sample events' operators assumed (events/admin-*.json, certificates-redeem.json).
        "ADMIN_CALLER_ROLE": "cashback-dev-admin-caller",
        "POS_CALLER_ROLE": "cashback-dev-pos-caller",
        # A developer's running `make run` stack (.data/local-stack.json) is never the tests': ops such as
        # reconcile would otherwise work on it. Tests that want one write their own file and point here.
        "LOCAL_STACK_FILE": os.path.join(tempfile.gettempdir(), f"cashback-tests-{os.getpid()}-no-local-stack.json"),
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_PROFILE", None)

pytest_plugins = [
    "tests.fixtures.aws",
    "tests.fixtures.dynamodb_local",
    "tests.fixtures.wiring",
    "tests.fixtures.iam",
    "tests.fixtures.notifications",
    "tests.fixtures.admitad",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `pytest -n 2 --dist loadgroup` (make test) the fast moto tests run on one worker and the tests
    of the local stack (DynamoDB Local, the gateway) on the other. A moto test leaves its mocked clients and
    model connections behind in its process; a gateway started after it in the same process would serve
    from them, so the two kinds never share a process (serially the local stack's tests run first)."""
    for item in items:
        kind = "unit" if item.nodeid.startswith("tests/unit/") else "local_stack"
        item.add_marker(pytest.mark.xdist_group(kind))
