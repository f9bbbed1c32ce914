"""Billing's answers about top-ups through the top-up answers function, on moto: a refusal gives the
member's bonuses back once, with the reason and an SMS; a confirmation is counted; the first answer
stands; answers that name no top-up of ours, or cannot be read, are dropped without a retry loop."""

from __future__ import annotations

import copy
import json
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pynamodb.exceptions import GetError

from cashback.bootstrap import Container
from cashback.ledger.audit import reconcile
from cashback.ledger.rules import Balances, Status
from cashback.members.rules import Goal, Language, Member
from cashback.settlement.repository import AnswerModel, SettlementRepository
from local.outbox import recent_messages
from tests.builders import AT, a_member_with
from tests.fixtures.handlers import REPO, LambdaContext, handler_module
from tests.fixtures.notifications import Postbox

pytestmark = pytest.mark.usefixtures("moto_tables")

MONTH = "2026-10"


def settled(container: Container, bonuses: int = 900, limit: int | None = 600) -> Member:
    """A phone top-up member whose October run topped up min(bonuses, limit): the run's record, and the
    member settled as its worker does (a whole run enumerates sixteen shards, slow on moto)."""
    member = a_member_with(container, bonuses, limit=limit)
    SettlementRepository(container.settings.table("LEDGER_TABLE"), container.dynamodb).create_run(MONTH, AT)
    container.settlement.settle_member(MONTH, member.member_id, "b-test")
    return member


def answer(kind: str, topup_id: str, **detail: Any) -> dict[str, Any]:
    """Delivers events/topups-<kind>.json for `topup_id`, its detail changed as given, to the function."""
    event = json.loads((REPO / "events" / f"topups-{kind}.json").read_text())
    event["detail"] |= {"topup_id": topup_id, **detail}
    result: dict[str, Any] = handler_module("topups").lambda_handler(event, LambdaContext())
    return result


def top_up(member: Member) -> str:
    return f"topup:{MONTH}:{member.member_id}"


def reconciled(container: Container, member_id: str) -> bool:
    entries = [entry.delta() for entry in container.ledger.entries(member_id)]
    return reconcile(member_id, container.ledger.balances(member_id), entries) is None


def sms_to(phone: str) -> list[dict[str, Any]]:
    return [m.body for m in recent_messages(200) if m.kind.value == "sms" and m.to == phone]


def test_a_refused_top_up_gives_the_bonuses_back_once_with_the_reason_and_an_sms(container: Container) -> None:
    # Given a member whose October top-up of 600 (of 900) was requested
    member = settled(container)

    # When billing refuses it, and the answer is delivered twice
    outcomes = [answer("failed", top_up(member), reason="number ported")["outcome"] for _ in range(2)]

    # Then the 600 are available again once, the settlement shows why, the member gets one SMS, and it is counted
    assert outcomes == ["failed_and_returned", "repeat"]
    assert container.ledger.balances(member.member_id) == Balances(available=900)
    settlement = container.ledger.transaction(member.member_id, f"settlement:{MONTH}")
    assert settlement is not None
    assert (settlement.status, settlement.amount) == (Status.REJECTED, 600)
    assert settlement.reason == f"Top-up for {MONTH} refused by billing: number ported"
    assert sms_to(member.phone) == [
        {"template": "topup_failed", "amount": 600, "month": MONTH, "reason": "number ported", "locale": "ru"}
    ]
    report = container.settlement.report(MONTH)
    assert (report.topups_confirmed, report.topups_failed) == (0, 1)
    assert reconciled(container, member.member_id)


def test_a_confirmed_top_up_is_counted_once_and_the_member_told(container: Container) -> None:
    member = settled(container)

    outcomes = [answer("completed", top_up(member))["outcome"] for _ in range(2)]

    assert outcomes == ["confirmed", "repeat"]
    assert container.ledger.balances(member.member_id) == Balances(available=300, written_off=600)
    assert sms_to(member.phone) == [{"template": "topup_completed", "amount": 600, "month": MONTH, "locale": "ru"}]
    report = container.settlement.report(MONTH)
    assert (report.topups_confirmed, report.topups_failed) == (1, 0)


@pytest.mark.parametrize(
    ("first", "then", "balances"),
    [
        ("completed", "failed", Balances(available=300, written_off=600)),
        ("failed", "completed", Balances(available=900)),
    ],
)
def test_the_first_answer_stands_and_a_contradiction_is_kept_for_support(
    container: Container, first: str, then: str, balances: Balances
) -> None:
    # Given billing answered a top-up
    member = settled(container)
    answer(first, top_up(member), reason="closed")

    # When it later says the opposite
    contradicted = answer(then, top_up(member), reason="closed")

    # Then no bonuses move, the report still counts the first answer, and the contradiction is on record
    assert contradicted["outcome"] == "conflicting"
    assert container.ledger.balances(member.member_id) == balances
    report = container.settlement.report(MONTH)
    assert (report.topups_confirmed, report.topups_failed) == ((1, 0) if first == "completed" else (0, 1))
    record = AnswerModel.get(f"MEMBER#{member.member_id}", f"SETTLEMENT#{MONTH}#ANSWER")
    assert (record.answer, record.contradicted_by, record.contradictions) == (first, then, 1)
    assert len(sms_to(member.phone)) == 1
    assert reconciled(container, member.member_id)


@pytest.mark.parametrize(
    "topup_id",
    [
        "not-a-top-up",
        "topup:2026-13:m-anna",  # no such month
        "topup:2026-10:m-nobody",  # nobody was topped up
        "topup:2026-09:{member}",  # the member, another month: no top-up was requested
        "topup:2026-10:{member}:x",
        "+79161234567",
    ],
)
def test_an_answer_about_no_top_up_of_ours_changes_nothing_and_is_not_retried(
    container: Container, topup_id: str
) -> None:
    member = settled(container)

    result = answer("failed", topup_id.format(member=member.member_id), reason="closed")

    assert result == {"outcome": "unknown"}
    assert container.ledger.balances(member.member_id) == Balances(available=300, written_off=600)
    assert sms_to(member.phone) == []


def test_an_answer_for_a_member_billing_was_never_asked_about_is_unknown(container: Container) -> None:
    # Given a smartphone member: the run skipped them, no top-up was requested
    member = a_member_with(container, 500, goal=Goal.SMARTPHONE)
    container.settlement.settle_member(MONTH, member.member_id, "b-test")

    assert answer("failed", top_up(member), reason="closed")["outcome"] == "unknown"
    assert answer("completed", top_up(member))["outcome"] == "unknown"
    assert container.ledger.balances(member.member_id) == Balances(available=500)


def broken(change: str) -> dict[str, Any]:
    event = json.loads((REPO / "events" / "topups-failed.json").read_text())
    broken_events: dict[str, Any] = {
        "no topup_id": lambda e: e["detail"].pop("topup_id"),
        "no reason": lambda e: e["detail"].pop("reason"),
        "empty reason": lambda e: e["detail"].update(reason=""),
        "numeric topup_id": lambda e: e["detail"].update(topup_id=42),
        "huge reason": lambda e: e["detail"].update(reason="x" * 10_000),
        "unknown detail-type": lambda e: e.update({"detail-type": "TopUpMaybe"}),
        "detail not an object": lambda e: e.update(detail="topup:2026-10:m-anna"),
        "no time": lambda e: e.pop("time"),
    }
    event = copy.deepcopy(event)
    broken_events[change](event)
    return event


@pytest.mark.parametrize(
    "change",
    [
        "no topup_id",
        "no reason",
        "empty reason",
        "numeric topup_id",
        "huge reason",
        "unknown detail-type",
        "detail not an object",
        "no time",
    ],
)
def test_an_unreadable_answer_is_dropped_and_counted_instead_of_retried(container: Container, change: str) -> None:
    member = settled(container)
    event = broken(change)
    if isinstance(event["detail"], dict) and "topup_id" in event["detail"] and change != "numeric topup_id":
        event["detail"]["topup_id"] = top_up(member)

    result = handler_module("topups").lambda_handler(event, LambdaContext())

    assert result == {"outcome": "malformed"}
    assert container.ledger.balances(member.member_id) == Balances(available=300, written_off=600)


def test_a_database_error_is_raised_for_lambdas_retries(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DynamoDB refuses the function's reads for a while
    member = settled(container)
    real = botocore.client.BaseClient._make_api_call

    def refused(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetItem":
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, operation)
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refused)

    # When billing's refusal arrives, Then the invocation fails (Lambda retries it, then keeps it)
    with pytest.raises(GetError):
        answer("failed", top_up(member), reason="closed")
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", real)

    # And the retry, once DynamoDB answers, gives the bonuses back
    assert answer("failed", top_up(member), reason="closed")["outcome"] == "failed_and_returned"
    assert container.ledger.balances(member.member_id) == Balances(available=900)


ANSWERS = st.lists(
    st.tuples(st.sampled_from(["completed", "failed"]), st.sampled_from(["number ported", "closed"])),
    min_size=1,
    max_size=6,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=ANSWERS)
def test_any_sequence_of_answers_gives_the_bonuses_back_at_most_once(
    container: Container, answers: list[tuple[str, str]]
) -> None:
    # Given a member topped up with 600 of 900
    member = a_member_with(container, 900, limit=600)
    container.settlement.settle_member(MONTH, member.member_id, "b-property")

    # When billing answers any number of times, repeating and contradicting itself
    outcomes = [answer(kind, top_up(member), reason=reason)["outcome"] for kind, reason in answers]

    # Then only the first answer counts: a refusal gives the 600 back once, and the ledger still adds up
    first = answers[0][0]
    assert outcomes[0] == ("failed_and_returned" if first == "failed" else "confirmed")
    assert set(outcomes[1:]) <= {"repeat", "conflicting"}
    expected = Balances(available=900) if first == "failed" else Balances(available=300, written_off=600)
    assert container.ledger.balances(member.member_id) == expected
    assert reconciled(container, member.member_id)
    assert len(sms_to(member.phone)) == 1


def test_a_member_who_reads_english_is_told_of_the_refusal_in_english(container: Container, postbox: Postbox) -> None:
    # Given a member who chose English, whose October top-up was requested
    member = settled(container)
    container.members.update_me(member.member_id, language=Language.EN)

    # When billing refuses it
    answer("failed", top_up(member), reason="number ported")

    # Then the SMS on their phone says so in English
    [sms] = [r for r in postbox.deliver() if r.to == member.phone]
    assert sms.text == (
        "We could not top up your phone with 600 bonuses for October 2026 (number ported). "
        "The bonuses are back on your balance."
    )
