"""Billing's answers about top-ups against DynamoDB Local: however often, however concurrently, and
through whatever contention real DynamoDB would add, a refused top-up gives its bonuses back exactly
once, with one SMS and one count; and the first answer stands against a concurrent contradiction."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError

from cashback.bootstrap import Container
from cashback.ledger.audit import reconcile
from cashback.ledger.rules import Balances, Status
from cashback.members.rules import Member
from cashback.outbox.repository import OutboxModel
from cashback.settlement.repository import SettlementRepository
from cashback.settlement.rules import AnswerOutcome
from tests.builders import AT, a_member_with

MONTH = "2026-10"


def settled(container: Container) -> Member:
    """A member with 900 bonuses and a limit of 600, settled for October: 600 topped up, 300 left."""
    member = a_member_with(container, 900, limit=600)
    SettlementRepository(container.settings.table("LEDGER_TABLE"), container.dynamodb).create_run(MONTH, AT)
    container.settlement.settle_member(MONTH, member.member_id, "b-it")
    assert container.ledger.balances(member.member_id) == Balances(available=300, written_off=600)
    return member


def top_up(member: Member) -> str:
    return f"topup:{MONTH}:{member.member_id}"


def counts(container: Container) -> tuple[int, int]:
    report = container.settlement.report(MONTH)
    return report.topups_confirmed, report.topups_failed


def reconciled(container: Container, member_id: str) -> bool:
    entries = [entry.delta() for entry in container.ledger.entries(member_id)]
    return reconcile(member_id, container.ledger.balances(member_id), entries) is None


def sms_sent(top_up_id: str) -> set[str]:
    """The SMS messages about one top-up that are in the outbox."""
    found = set()
    for template in ("topup-failed", "topup-completed"):
        try:
            OutboxModel.get(f"MSG#{template}:{top_up_id}", "MSG", consistent_read=True)
        except OutboxModel.DoesNotExist:
            continue
        found.add(template)
    return found


def concurrently(calls: list[Callable[[], AnswerOutcome]]) -> Counter[AnswerOutcome]:
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], AnswerOutcome]) -> AnswerOutcome:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(run, calls))


def test_a_refusal_delivered_many_times_at_once_gives_the_bonuses_back_once(db: Any, container: Container) -> None:
    # Given a settled member, and the report's counts so far
    member = settled(container)
    before = counts(container)

    # When billing's refusal is delivered eight times at once, and then twice more
    service = container.settlement
    outcomes = concurrently([lambda: service.fail_top_up(top_up(member), "number closed") for _ in range(8)])
    outcomes += Counter(service.fail_top_up(top_up(member), "number closed") for _ in range(2))

    # Then the 600 come back once, with the reason, one SMS, one count, and the ledger adds up
    assert outcomes == {AnswerOutcome.FAILED_AND_RETURNED: 1, AnswerOutcome.REPEAT: 9}
    assert container.ledger.balances(member.member_id) == Balances(available=900)
    settlement = container.ledger.transaction(member.member_id, f"settlement:{MONTH}")
    assert settlement is not None
    assert settlement.status is Status.REJECTED
    assert settlement.reason.endswith("number closed")
    assert sms_sent(top_up(member)) == {"topup-failed"}
    assert counts(container) == (before[0], before[1] + 1)
    assert reconciled(container, member.member_id)


def test_a_confirmation_and_a_refusal_racing_leave_exactly_one_answer_standing(db: Any, container: Container) -> None:
    member = settled(container)
    before = counts(container)
    service = container.settlement

    outcomes = concurrently(
        [lambda: service.confirm_top_up(top_up(member)), lambda: service.fail_top_up(top_up(member), "closed")] * 3
    )

    # One answer won; the other kind is a contradiction, the same kind a repeat; money follows the winner only
    [winner] = [o for o in outcomes if o in (AnswerOutcome.CONFIRMED, AnswerOutcome.FAILED_AND_RETURNED)]
    assert outcomes[winner] == 1
    assert outcomes[AnswerOutcome.REPEAT] == 2
    assert outcomes[AnswerOutcome.CONFLICTING] == 3
    if winner is AnswerOutcome.CONFIRMED:
        assert container.ledger.balances(member.member_id) == Balances(available=300, written_off=600)
        assert counts(container) == (before[0] + 1, before[1])
        assert sms_sent(top_up(member)) == {"topup-completed"}
    else:
        assert container.ledger.balances(member.member_id) == Balances(available=900)
        assert counts(container) == (before[0], before[1] + 1)
        assert sms_sent(top_up(member)) == {"topup-failed"}
    assert reconciled(container, member.member_id)


# --- what DynamoDB Local never does: contention, and a response lost after the commit -----------------------


def cancelled_as_conflict(items: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled [TransactionConflict]"},
            "CancellationReasons": [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (items - 1),
        },
        "TransactWriteItems",
    )


def conflict_exception() -> ClientError:
    return ClientError({"Error": {"Code": "TransactionConflictException", "Message": "conflict"}}, "TransactWriteItems")


Failure = Callable[[dict[str, Any]], ClientError]


@pytest.fixture
def writes_fail(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, Failure, bool], None]:
    """`fail(times, error, after_commit)`: the next `times` TransactWriteItems fail with `error(params)`,
    before reaching DynamoDB Local, or (`after_commit`) once it has applied them: a lost response."""
    real = botocore.client.BaseClient._make_api_call
    plan: dict[str, Any] = {"times": 0}

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and plan["times"] > 0:
            plan["times"] -= 1
            if plan["after_commit"]:
                real(client, operation, params)
            raise plan["error"](params)
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)

    def fail(times: int, error: Failure, after_commit: bool = False) -> None:
        plan.update(times=times, error=error, after_commit=after_commit)

    return fail


@pytest.mark.parametrize(
    "error",
    [
        lambda params: cancelled_as_conflict(len(params["TransactItems"])),
        lambda params: conflict_exception(),
    ],
    ids=["TransactionCanceledException", "TransactionConflictException"],
)
@pytest.mark.parametrize("answer", ["failed", "completed"])
def test_an_answer_that_meets_contention_is_retried_and_applied_once(
    db: Any, container: Container, writes_fail: Any, error: Any, answer: str
) -> None:
    # Given a settled member, and DynamoDB cancelling the next three writes as real DynamoDB does under contention
    member = settled(container)
    before = counts(container)
    writes_fail(3, error)

    # When billing's answer arrives
    service = container.settlement
    if answer == "failed":
        outcome = service.fail_top_up(top_up(member), "number ported")
    else:
        outcome = service.confirm_top_up(top_up(member))

    # Then the retries finish the work, once
    if answer == "failed":
        assert outcome is AnswerOutcome.FAILED_AND_RETURNED
        assert container.ledger.balances(member.member_id) == Balances(available=900)
        assert counts(container) == (before[0], before[1] + 1)
    else:
        assert outcome is AnswerOutcome.CONFIRMED
        assert container.ledger.balances(member.member_id) == Balances(available=300, written_off=600)
        assert counts(container) == (before[0] + 1, before[1])
    assert reconciled(container, member.member_id)


def test_a_refusal_whose_commit_answer_is_lost_is_finished_by_the_redelivery_once(
    db: Any, container: Container, writes_fail: Any
) -> None:
    # Given a settled member, and the write of billing's refusal committed but its response lost
    member = settled(container)
    before = counts(container)
    writes_fail(1, lambda params: ClientError({"Error": {"Code": "InternalServerError", "Message": "?"}}, "x"), True)
    service = container.settlement
    with pytest.raises(TransactWriteError):  # the invocation fails: Lambda delivers the event again
        service.fail_top_up(top_up(member), "number ported")

    # When the event is delivered again
    outcome = service.fail_top_up(top_up(member), "number ported")

    # Then the bonuses came back once, counted once, with one SMS
    assert outcome is AnswerOutcome.REPEAT
    assert container.ledger.balances(member.member_id) == Balances(available=900)
    assert counts(container) == (before[0], before[1] + 1)
    assert sms_sent(top_up(member)) == {"topup-failed"}
    assert reconciled(container, member.member_id)
