"""The stream delivery's promises for any stream and any failures, on an in-memory stream (the behaviour on
DynamoDB Local's real streams is in tests/integration/test_local_streams.py)."""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from local.gateway.streams import StreamDelivery

STREAM_ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/messages/stream/2026-11-26T00:00:00.000"


class MemoryStream:
    """The few calls of DynamoDB and DynamoDB Streams the delivery makes, on one shard held in memory."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def put(self, key: str, kind: str) -> None:
        sequence = f"{len(self.records) + 1:021d}"
        self.records.append(
            {
                "eventID": f"e{sequence}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "ddblocal",
                "dynamodb": {
                    "Keys": {"pk": {"S": key}},
                    "NewImage": {"pk": {"S": key}, "kind": {"S": kind}},
                    "SequenceNumber": sequence,
                    "SizeBytes": 20,
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        )

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"LatestStreamArn": STREAM_ARN}}

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        after = int(request["SequenceNumber"]) if request["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER" else 0
        return {"ShardIterator": str(after)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        page = self.records[start : start + min(Limit, 7)]  # short pages, as a real stream may give
        return {"Records": page, "NextShardIterator": str(start + len(page))}


def template(batch_size: int, retries: int) -> dict[str, Any]:
    properties = {
        "Stream": {"Fn::GetAtt": ["MessagesTable", "StreamArn"]},
        "BatchSize": batch_size,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRetryAttempts": retries,
        "FilterCriteria": {"Filters": [{"Pattern": '{"dynamodb": {"NewImage": {"kind": {"S": ["sms"]}}}}'}]},
    }
    function = {
        "Type": "AWS::Serverless::Function",
        "Properties": {"Events": {"S": {"Type": "DynamoDB", "Properties": properties}}},
    }
    return {"Resources": {"Notify": function}}


messages = st.lists(st.sampled_from(["sms", "topup_requested"]), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    kinds=messages,
    batch_size=st.integers(1, 10),
    failing_once=st.sets(st.integers(0, 39)),
    retries=st.integers(1, 3),
)
def test_every_matching_record_arrives_in_order_and_none_before_a_failure_arrives_twice(
    kinds: list[str], batch_size: int, failing_once: set[int], retries: int
) -> None:
    # Given a stream of SMS and top-ups, and a function that fails some SMS once each
    stream = MemoryStream()
    for index, kind in enumerate(kinds):
        stream.put(f"m{index}", kind)
    failed: set[str] = set()
    received: list[list[str]] = []

    def notify(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        received.append(keys)
        for record, key in zip(event["Records"], keys, strict=True):
            if int(key[1:]) in failing_once and key not in failed:
                failed.add(key)
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    delivery = StreamDelivery(
        template(batch_size, retries), {"MessagesTable": "messages"}, notify, clients=(stream, stream)
    )

    # When the stream is drained
    delivery.drain()

    # Then the function got exactly what Lambda would give it: the SMS only, BatchSize at a time, each
    # batch after a failure starting again at the record that failed
    assert received == expected_batches(kinds, batch_size, failing_once)
    assert delivery.dropped == []  # each fails once: a retry always gets past it

    # And a second drain has nothing left to deliver
    calls = len(received)
    delivery.drain()
    assert len(received) == calls


def expected_batches(kinds: list[str], batch_size: int, failing_once: set[int]) -> list[list[str]]:
    sms = [f"m{i}" for i, kind in enumerate(kinds) if kind == "sms"]
    batches, failed, position = [], set(), 0
    while position < len(sms):
        batch = sms[position : position + batch_size]
        batches.append(batch)
        failing = [j for j, key in enumerate(batch) if int(key[1:]) in failing_once and key not in failed]
        if failing:
            failed.add(batch[failing[0]])
            position += failing[0]
        else:
            position += len(batch)
    return batches


def test_started_delivery_drains_in_the_background_until_stopped() -> None:
    # Given a stream with one SMS and a delivery polling it in the background, as `make run` does
    stream = MemoryStream()
    stream.put("m0", "sms")
    arrived = threading.Event()

    def notify(function_id: str, event: dict[str, Any]) -> None:
        arrived.set()

    delivery = StreamDelivery(template(10, 1), {"MessagesTable": "messages"}, notify, clients=(stream, stream))

    # When it is started, the SMS arrives without anyone asking for a drain
    delivery.start(interval_seconds=0.01)
    try:
        assert arrived.wait(timeout=10)
    finally:
        delivery.stop()
