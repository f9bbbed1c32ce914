"""What DynamoDB Local never does and real DynamoDB does under contention, injected: transactions
cancelled as conflicts, reads cancelled by a concurrent write, throttling. The ledger retries those until
they succeed, exactly once; an error no retry can get past (access denied) is surfaced at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError

from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Balances, Credit
from tests.builders import credit


def welcome_bonus(operation: str) -> Credit:
    return credit(operation, 100, reason="welcome bonus")


def cancelled(reason: str, items: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": f"Transaction cancelled [{reason}]"},
            "CancellationReasons": [{"Code": reason}] + [{"Code": "None"}] * (items - 1),
        },
        "TransactWriteItems",
    )


def refused(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


@pytest.fixture
def dynamodb_fails(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int, Callable[[], ClientError]], list[str]]:
    """`fail(operation, times, error)`: the next `times` calls of `operation` fail with `error()` before
    reaching DynamoDB Local; returns the list of calls of that operation that were made."""
    real = botocore.client.BaseClient._make_api_call
    plans: dict[str, list[Any]] = {}

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        plan = plans.get(operation)
        if plan is not None:
            plan[2].append(operation)
            if plan[0] > 0:
                plan[0] -= 1
                raise plan[1]()
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)

    def fail(operation: str, times: int, error: Callable[[], ClientError]) -> list[str]:
        calls: list[str] = []
        plans[operation] = [times, error, calls]
        return calls

    return fail


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("TransactWriteItems", lambda: cancelled("TransactionConflict", 4)),
        ("TransactWriteItems", lambda: refused("TransactionConflictException", "TransactWriteItems")),
        ("TransactWriteItems", lambda: refused("ProvisionedThroughputExceededException", "TransactWriteItems")),
        ("TransactWriteItems", lambda: cancelled("ThrottlingError", 4)),
        ("TransactGetItems", lambda: cancelled("TransactionConflict", 3)),
        ("TransactGetItems", lambda: refused("ThrottlingException", "TransactGetItems")),
    ],
)
def test_a_change_that_meets_contention_is_retried_and_applied_once(
    ledger: Ledger, new_member_id: Callable[[], str], dynamodb_fails: Any, operation: str, error: Any
) -> None:
    # Given DynamoDB refuses the next three attempts as real DynamoDB does under contention
    member = new_member_id()
    calls = dynamodb_fails(operation, 3, error)
    # When the ledger credits the member
    outcome = ledger.execute(member, welcome_bonus("welcome"))
    # Then the credit went through after the refusals, once
    assert outcome.applied
    assert len(calls) == 4
    assert ledger.balances(member) == Balances(available=100)
    assert not ledger.execute(member, welcome_bonus("welcome")).applied


def test_a_write_no_retry_can_get_past_is_surfaced_at_once(
    ledger: Ledger, new_member_id: Callable[[], str], dynamodb_fails: Any
) -> None:
    # Given the function's role may not write the ledger (a grant missing from its policy)
    member = new_member_id()
    calls = dynamodb_fails("TransactWriteItems", 100, lambda: refused("AccessDeniedException", "TransactWriteItems"))
    # When the ledger credits the member, then the error comes back after one attempt, not as "busy"
    with pytest.raises(TransactWriteError) as raised:
        ledger.execute(member, welcome_bonus("welcome"))
    assert raised.value.cause_response_code == "AccessDeniedException"
    assert len(calls) == 1
    assert ledger.balances(member) == Balances()


def test_a_transaction_cancelled_for_a_reason_no_retry_fixes_is_surfaced(
    ledger: Ledger, new_member_id: Callable[[], str], dynamodb_fails: Any
) -> None:
    member = new_member_id()
    calls = dynamodb_fails("TransactWriteItems", 100, lambda: cancelled("ValidationError", 4))
    with pytest.raises(TransactWriteError):
        ledger.execute(member, welcome_bonus("welcome"))
    assert len(calls) == 1
