"""Monthly settlement through its handlers on moto: the start (API and schedule), SQS batches through the
worker with partial failures, and the outbox relay to EventBridge."""

from __future__ import annotations

import copy
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cashback.bootstrap import Container
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Status
from cashback.platform.config import Settings
from cashback.settlement import service as settlement
from cashback.settlement.service import SettlementService, SqsQueue
from local.outbox import recent_messages
from local.secrets import EnvironmentSecrets
from tests.builders import adjust, spend
from tests.fixtures.handlers import REPO, LambdaContext, handler_module, invoke, sample_event
from tests.fixtures.wiring import use_container

pytestmark = pytest.mark.usefixtures("moto_tables")

MONTH = "2026-10"
# Only the month that has just ended can be settled: the service's clock is set in November 2026 (Moscow).
SETTLED_AT = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def in_november(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settlement, "_now", lambda now=None: (now or SETTLED_AT).astimezone(UTC))


@pytest.fixture
def queue_url(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName=f"settlement-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("SETTLEMENT_QUEUE_URL", url)
    # The start and the worker are wired as in AWS, to the queue (the local wiring would settle in process):
    # messages wait on it until `drain` feeds them to the worker.
    for function in ("settlement_start", "settlement_worker"):
        queue = SqsQueue(url)
        use_container(
            handler_module(function),
            Container(Settings.from_environment(), secrets=EnvironmentSecrets(os.environ), settlement_queue=queue),
        )
    return url


def member(
    container: Container, sub: str, phone: str, bonuses: int, goal: str = "phone_topup", limit: int | None = None
) -> str:
    claims = {"sub": sub, "phone_number": phone}
    assert invoke("members", sample_event("members-enrol", body=None, claims=claims))[0] in (200, 201)
    change: dict[str, Any] = {"goal": goal}
    if limit is not None:
        change["monthly_writeoff_limit"] = limit
    assert invoke("members", sample_event("members-update", body=change, claims=claims))[0] == 200
    if bonuses:
        container.ledger.execute(sub, adjust("seed", bonuses))
    return sub


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    template = json.loads((REPO / "events" / "settlement-worker.json").read_text())["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        record |= {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
        }
        record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
        records.append(record)
    return {"Records": records}


def drain(url: str, *, duplicate: bool = False) -> int:
    """Feeds the queue to the worker as Lambda's event source mapping does, until it is empty."""
    sqs, worker, handled = boto3.client("sqs"), handler_module("settlement_worker"), 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            return handled
        event = sqs_event(got)
        result = worker.lambda_handler(event, LambdaContext())
        assert result == {"batchItemFailures": []}
        if duplicate:  # SQS delivers every message twice
            assert worker.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(got)


def start(month: str = MONTH) -> tuple[int, Any]:
    return invoke("settlement_start", sample_event("settlement-start", body={"month": month}))


def report(month: str = MONTH) -> tuple[int, Any]:
    event = sample_event("settlement-report")
    event["pathParameters"] = {"month": month}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/admin/settlements/{month}"
    return invoke("settlement_start", event)


def topups() -> dict[str, dict[str, Any]]:
    return {m.to or "": m.body for m in recent_messages(200) if m.kind.value == "topup_requested"}


def test_a_run_tops_up_phone_members_within_their_limit_and_skips_smartphone_members(
    moto_tables: dict[str, str], queue_url: str, container: Container
) -> None:
    # Given phone top-up members with and without a limit, a smartphone member, and one with nothing accrued
    anna = member(container, "m-anna", "+79161110001", 350)
    boris = member(container, "m-boris", "+79161110002", 1_000, limit=300)
    member(container, "m-vera", "+79161110003", 800, goal="smartphone")
    member(container, "m-gleb", "+79161110004", 0)  # nothing accrued: never enumerated

    # When the month's run is started and its queue drained
    status, started = start()
    drain(queue_url)
    _, done = report()

    # Then the phones are topped up within their limits, the smartphone member is skipped, all of it reported
    assert status == 202
    assert started["state"] == "running"
    assert {k: done[k] for k in ("state", "members_settled", "bonuses_paid", "skipped", "failures")} == {
        "state": "completed",
        "members_settled": 2,
        "bonuses_paid": 650,
        "skipped": 1,
        "failures": 0,
    }
    assert topups() == {
        "+79161110001": {"topup_id": f"topup:{MONTH}:m-anna", "phone": "+79161110001", "amount": 350, "month": MONTH},
        "+79161110002": {"topup_id": f"topup:{MONTH}:m-boris", "phone": "+79161110002", "amount": 300, "month": MONTH},
    }
    assert container.ledger.balances(anna).available == 0
    assert container.ledger.balances(boris).available == 700
    settled = container.ledger.transaction(anna, f"settlement:{MONTH}")
    assert settled is not None
    assert (settled.status, settled.amount, settled.reason) == (
        Status.WRITTEN_OFF,
        350,
        f"Top-up of +79161110001 for {MONTH}",
    )


def listed(container: Container) -> set[str]:
    from cashback.settlement.repository import SettlementRepository
    from cashback.settlement.rules import SHARDS

    settlements = SettlementRepository(container.settings.table("LEDGER_TABLE"), container.dynamodb)
    return {member_id for shard in range(SHARDS) for member_id in settlements.candidates(shard, None, 100)[0]}


def test_the_run_lists_exactly_the_members_with_bonuses_available(
    moto_tables: dict[str, str], container: Container
) -> None:
    # Given a member with 350 bonuses and one with none, Then only the first is listed
    anna = member(container, "m-anna", "+79161110001", 350)
    member(container, "m-gleb", "+79161110002", 0)
    assert listed(container) == {anna}

    # When she spends all of them, Then nobody is listed
    container.ledger.execute(anna, spend("certificate", 350))  # a certificate takes everything
    assert listed(container) == set()

    # When she is credited 40 more, Then she is listed again
    container.ledger.execute(anna, adjust("later", 40))
    assert listed(container) == {anna}


def test_every_message_delivered_twice_and_the_run_started_again_change_nothing(
    moto_tables: dict[str, str], queue_url: str, container: Container
) -> None:
    # Given two phone top-up members
    member(container, "m-anna", "+79161110001", 350)
    member(container, "m-boris", "+79161110002", 1_000, limit=300)

    # When the run is started twice, and every message is delivered twice
    start()
    drain(queue_url, duplicate=True)
    start()  # the operator presses the button again: a completed run stays as it is
    drain(queue_url, duplicate=True)
    _, done = report()

    # Then each member is topped up once
    assert (done["state"], done["members_settled"], done["bonuses_paid"]) == ("completed", 2, 650)
    assert sorted(b["amount"] for b in topups().values()) == [300, 350]


def test_the_schedule_settles_the_month_that_has_just_ended_without_a_queue_locally(
    moto_tables: dict[str, str], container: Container
) -> None:
    # Given a member with 120 bonuses
    member(container, "m-anna", "+79161110001", 120)

    # When the monthly schedule fires
    result = handler_module("settlement_start").lambda_handler(
        json.loads((REPO / "events" / "settlement-schedule.json").read_text()), LambdaContext()
    )

    # Then last month is settled in full, in process
    assert result["state"] == "completed"
    assert result["bonuses_paid"] == 120
    assert result["month"] == MONTH


@pytest.mark.parametrize("month", ["2026-13", "26-10", "2999-01", "2026-11", "2026-12"])
def test_a_month_that_is_not_one_or_is_not_over_is_refused(month: str) -> None:
    status, error = start(month)
    assert (status, error["error"]["code"]) == (422, "invalid_month")


@pytest.mark.parametrize("month", ["1999-01", "2026-09", "2025-10"])
def test_a_month_before_the_one_that_has_just_ended_is_refused_and_pays_nothing(
    moto_tables: dict[str, str], queue_url: str, container: Container, month: str
) -> None:
    # Given a phone top-up member with 350 bonuses, in November
    member(container, "m-anna", "+79161110001", 350)

    # When an operator asks to settle an older month
    status, error = start(month)

    # Then it is refused, nothing is queued or paid, and there is no run to report
    assert (status, error["error"]["code"]) == (422, "invalid_month")
    assert drain(queue_url) == 0
    assert topups() == {}
    assert container.ledger.balances("m-anna").available == 350
    assert report(month)[0] == 404


def test_an_older_months_report_stays_readable(
    moto_tables: dict[str, str], queue_url: str, container: Container
) -> None:
    # Given October settled in November
    member(container, "m-anna", "+79161110001", 350)
    assert start()[0] == 202
    drain(queue_url)

    # When December comes, Then October can no longer be settled, and its report is still there
    with pytest.MonkeyPatch.context() as later:
        later.setattr(settlement, "_now", lambda now=None: (now or datetime(2026, 12, 5, tzinfo=UTC)).astimezone(UTC))
        refused = start()
        status, october = report()
    assert (refused[0], refused[1]["error"]["code"]) == (422, "invalid_month")
    assert (status, october["state"], october["bonuses_paid"]) == (200, "completed", 350)


def test_a_month_never_run_has_no_report() -> None:
    status, error = report("2020-01")
    assert (status, error["error"]["code"]) == (404, "settlement_not_found")


def test_a_member_that_keeps_failing_is_reported_and_the_run_ends_failed(
    moto_tables: dict[str, str], queue_url: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two members, and billing down for one of them
    member(container, "m-anna", "+79161110001", 350)
    member(container, "m-boris", "+79161110002", 200)
    original = SettlementService.settle_member

    def flaky(self: SettlementService, month: str, member_id: str, batch: str, **kw: Any) -> Any:
        if member_id == "m-boris":
            raise RuntimeError("billing is down")
        return original(self, month, member_id, batch, **kw)

    # When the run gives up on that member, billing recovers, and the operator resumes the run
    monkeypatch.setattr(SettlementService, "settle_member", flaky)
    monkeypatch.setattr(settlement, "MAX_RECEIVES", 1)  # the first receive is the last one
    start()
    drain(queue_url)
    _, failed = report()
    monkeypatch.setattr(SettlementService, "settle_member", original)
    start()  # resumed: a new attempt for the failed member only
    drain(queue_url)
    _, resumed = report()

    # Then the first run ends failed with the one failure, and the resumed one completes
    assert (failed["state"], failed["members_settled"], failed["failures"]) == ("failed", 1, 1)
    assert (resumed["state"], resumed["members_settled"], resumed["bonuses_paid"], resumed["failures"]) == (
        "completed",
        2,
        550,
        0,
    )


def test_a_failing_batch_is_reported_to_sqs_for_a_retry(
    moto_tables: dict[str, str], queue_url: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a member, and settling that always fails
    member(container, "m-anna", "+79161110001", 350)

    def broken(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("throttled")

    monkeypatch.setattr(SettlementService, "settle_member", broken)
    # When the run is started and the worker handles its batches
    start()
    sqs, settles, failures = boto3.client("sqs"), [], []
    while got := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in got:
            message["Attributes"] = {"ApproximateReceiveCount": "1"}
        settles += [m["MessageId"] for m in got if json.loads(m["Body"])["type"] == "settle"]
        result = handler_module("settlement_worker").lambda_handler(sqs_event(got), LambdaContext())
        failures += [f["itemIdentifier"] for f in result["batchItemFailures"]]
        for message in got:
            if message["MessageId"] not in failures:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    # Then every settle message is reported back to SQS, and the run is still running
    assert settles
    assert failures == settles
    assert report()[1]["state"] == "running"


# --- the outbox relay ---------------------------------------------------------------------------------


def test_the_relay_puts_a_top_up_on_the_bus_with_its_message_id() -> None:
    from cashback.outbox.relay import outbound_event

    # Given a top-up written to the outbox, as its stream delivers it
    record = json.loads((REPO / "events" / "outbox-stream.json").read_text())["Records"][0]["dynamodb"]

    # When it is turned into a bus event
    event = outbound_event(record["SequenceNumber"], record["NewImage"], "default")

    # Then it is a TopUpRequested carrying its message id, and the relay puts it on the bus
    assert event is not None
    assert (event.entry["Source"], event.entry["DetailType"]) == ("cashback.outbox", "TopUpRequested")
    assert json.loads(event.entry["Detail"]) == {
        "message_id": "topup:2026-10:6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10",
        "topup_id": "topup:2026-10:6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10",
        "phone": "+79161234567",
        "amount": 350,
        "month": "2026-10",
        "to": "+79161234567",
    }
    result = handler_module("outbox_relay").lambda_handler(
        json.loads((REPO / "events" / "outbox-stream.json").read_text()), LambdaContext()
    )
    assert result == {"batchItemFailures": []}


def test_the_relay_sends_ten_entries_a_call_and_reports_the_refused_ones() -> None:
    from cashback.outbox.relay import OutboundEvent, publish

    class Bus:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            self.calls.append(len(Entries))
            refused = [{"ErrorCode": "InternalFailure"} if e["Detail"] == "3" else {"EventId": "x"} for e in Entries]
            return {"FailedEntryCount": sum("ErrorCode" in r for r in refused), "Entries": refused}

    # When 23 entries are published to a bus that refuses one of them
    bus = Bus()
    failed = publish([OutboundEvent(f"seq-{i}", {"Detail": str(i)}) for i in range(23)], client=bus)

    # Then they go ten a call, and the refused one is reported
    assert bus.calls == [10, 10, 3]
    assert failed == ["seq-3"]


def test_a_batch_that_cannot_even_be_read_is_reported_as_failures_on_its_last_delivery(
    moto_tables: dict[str, str], queue_url: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two members to settle, and a ledger the worker cannot read (a grant missing from its policy)
    member(container, "m-anna", "+79161110001", 350)
    member(container, "m-boris", "+79161110002", 200)

    def denied(*args: Any, **kw: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, "BatchGetItem")

    monkeypatch.setattr(Ledger, "snapshots", denied)
    monkeypatch.setattr(settlement, "MAX_RECEIVES", 1)  # the first receive is the last one
    # When the month is settled
    start()
    drain(queue_url)
    # Then the run ends, failed, counting both members, instead of staying "running" with nothing reported
    _, failed = report()
    assert (failed["state"], failed["members_settled"], failed["failures"]) == ("failed", 0, 2)
