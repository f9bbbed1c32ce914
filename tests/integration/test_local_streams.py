"""The local stack's stream delivery (local/gateway/streams.py) on DynamoDB Local's real streams: what a
stream-triggered function receives, and how filters, batch item failures and retries play out, as Lambda's
event source mapping would have them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.gateway.streams import StreamDelivery
from local.template import create_tables

Handler = Callable[[dict[str, Any]], Any]


def stream_template(**mapping: Any) -> dict[str, Any]:
    """A table with a NEW_IMAGE stream and two functions subscribed to it, `Notify` shaped by `mapping`."""
    notify = {
        "Stream": {"Fn::GetAtt": ["MessagesTable", "StreamArn"]},
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 3,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRetryAttempts": 2,
        **mapping,
    }
    notify = {k: v for k, v in notify.items() if v is not None}  # None: as if the template left it out
    audit = {"Stream": {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}, "StartingPosition": "TRIM_HORIZON"}
    return {
        "Resources": {
            "MessagesTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
                },
            },
            "NotifyFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Events": {"Messages": {"Type": "DynamoDB", "Properties": notify}}},
            },
            "AuditFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Events": {"Messages": {"Type": "DynamoDB", "Properties": audit}}},
            },
        }
    }


class Functions:
    """Stands in for the function host: records each invocation and answers with each function's handler."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.received: dict[str, list[list[str]]] = {"NotifyFunction": [], "AuditFunction": []}

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        self.received[function_id].append([r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]])
        handler = self.handlers.get(function_id)
        return handler(event) if handler else None

    def keys(self, function_id: str) -> list[str]:
        return [key for batch in self.received[function_id] for key in batch]


class Stream:
    def __init__(self, template: dict[str, Any], endpoint: str, positions: Path | None = None) -> None:
        self.table = f"local-streams-{uuid.uuid4().hex[:12]}"
        self.names = {"MessagesTable": self.table}
        self.endpoint = endpoint
        self.template = template
        create_tables(template, self.names, endpoint)
        self.client = boto3.client("dynamodb", endpoint_url=endpoint)
        self.functions = Functions()
        self.delivery = self.delivery_from(positions)

    def delivery_from(self, positions: Path | None) -> StreamDelivery:
        return StreamDelivery(
            self.template, self.names, self.functions.invoke, endpoint_url=self.endpoint, positions_file=positions
        )

    def put(self, *keys: str, kind: str = "sms") -> None:
        for key in keys:
            self.client.put_item(TableName=self.table, Item={"pk": {"S": key}, "kind": {"S": kind}})


@pytest.fixture
def stream(dynamodb_local: Any) -> Callable[..., Stream]:
    return lambda **mapping: Stream(stream_template(**mapping), dynamodb_local.endpoint)


def fail_once_at(key: str) -> Handler:
    """A handler that reports `key` as failed the first time it sees it."""
    seen: set[str] = set()

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            if record["dynamodb"]["Keys"]["pk"]["S"] == key and key not in seen:
                seen.add(key)
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    return handle


def test_a_function_receives_new_items_in_order_in_batches_shaped_as_lambda_sends_them(stream) -> None:
    # Given a table whose stream a function reads in batches of 3
    s = stream()
    events: list[dict[str, Any]] = []
    s.functions.handlers["NotifyFunction"] = events.append

    # When five items are written and the streams drained
    s.put("m1", "m2", "m3", "m4", "m5")
    s.delivery.drain()

    # Then the function got them in order, three then two, each record as Lambda builds it
    assert s.functions.received["NotifyFunction"] == [["m1", "m2", "m3"], ["m4", "m5"]]
    record = events[0]["Records"][0]
    assert (record["eventName"], record["eventSource"], record["eventVersion"]) == ("INSERT", "aws:dynamodb", "1.1")
    assert record["awsRegion"] == "eu-central-1"
    assert record["eventSourceARN"].startswith(f"arn:aws:dynamodb:eu-central-1:000000000000:table/{s.table}/stream/")
    change = record["dynamodb"]
    assert change["Keys"] == {"pk": {"S": "m1"}}
    assert change["NewImage"] == {"pk": {"S": "m1"}, "kind": {"S": "sms"}}
    assert change["StreamViewType"] == "NEW_IMAGE"
    assert isinstance(change["ApproximateCreationDateTime"], int)
    assert change["SizeBytes"] > 0
    assert change["SequenceNumber"]
    json.dumps(events)  # what Lambda hands a function is JSON


def test_what_was_delivered_is_not_delivered_again(stream) -> None:
    s = stream()
    s.put("m1", "m2")
    s.delivery.drain()

    s.put("m3")
    s.delivery.drain()
    s.delivery.drain()

    assert s.functions.keys("NotifyFunction") == ["m1", "m2", "m3"]


def test_records_no_filter_matches_are_skipped_for_good(stream) -> None:
    # Given a function that takes only INSERTs of SMS and email
    s = stream(
        FilterCriteria={
            "Filters": [
                {"Pattern": '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["sms"]}}}}'},
                {"Pattern": '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["email"]}}}}'},
            ]
        }
    )

    # When a top-up, an SMS, an email and a change to the SMS are written
    s.put("topup-1", kind="topup_requested")
    s.put("sms-1", kind="sms")
    s.put("email-1", kind="email")
    s.client.update_item(
        TableName=s.table,
        Key={"pk": {"S": "sms-1"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": {"S": "sent"}},
    )
    s.delivery.drain()
    s.delivery.drain()

    # Then it got the SMS and the email once each, while a mapping without filters got every change
    assert s.functions.received["NotifyFunction"] == [["sms-1", "email-1"]]
    assert s.functions.keys("AuditFunction") == ["topup-1", "sms-1", "email-1", "sms-1"]


def test_after_a_batch_item_failure_the_next_delivery_starts_at_the_failed_record(stream) -> None:
    # Given a function that fails m2 the first time it sees it
    s = stream()
    s.functions.handlers["NotifyFunction"] = fail_once_at("m2")

    # When four items are written and the streams drained
    s.put("m1", "m2", "m3", "m4")
    s.delivery.drain()

    # Then the batch is tried again from m2 on, and m1 is not sent twice
    assert s.functions.received["NotifyFunction"] == [["m1", "m2", "m3"], ["m2", "m3", "m4"]]


def test_a_function_that_raises_gets_the_whole_batch_again(stream) -> None:
    s = stream()
    failures = iter([RuntimeError("SNS throttled")])

    def handle(event: dict[str, Any]) -> None:
        error = next(failures, None)
        if error is not None:
            raise error

    s.functions.handlers["NotifyFunction"] = handle
    s.put("m1", "m2")

    s.delivery.drain()

    assert s.functions.received["NotifyFunction"] == [["m1", "m2"], ["m1", "m2"]]
    assert s.delivery.dropped == []


def test_a_batch_that_keeps_failing_is_dropped_after_its_retries_and_the_stream_moves_on(stream, capsys) -> None:
    # Given a function that always fails m1 (two retries allowed) and succeeds for anything else
    s = stream(BatchSize=2)

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        failed = [r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] == "m1"]
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed]}

    s.functions.handlers["NotifyFunction"] = handle

    # When three items are written and the streams drained
    s.put("m1", "m2", "m3")
    s.delivery.drain()

    # Then the first batch is tried three times in all, then dropped (logged), and m3 is still delivered
    assert s.functions.received["NotifyFunction"] == [["m1", "m2"]] * 3 + [["m3"]]
    [dropped] = s.delivery.dropped
    assert (dropped.function_logical_id, dropped.size) == ("NotifyFunction", 2)
    assert "NotifyFunction.Messages dropped 2 records" in capsys.readouterr().err

    # And a later drain does not try the dropped batch again
    s.delivery.drain()
    assert len(s.functions.received["NotifyFunction"]) == 4


def test_without_a_retry_limit_a_failing_batch_waits_for_the_next_drain(stream) -> None:
    s = stream(MaximumRetryAttempts=None)
    s.functions.handlers["NotifyFunction"] = fail_once_at("m1")
    s.put("m1", "m2")

    s.delivery.drain()
    assert s.functions.received["NotifyFunction"] == [["m1", "m2"]]

    s.delivery.drain()
    assert s.functions.received["NotifyFunction"] == [["m1", "m2"], ["m1", "m2"]]


def test_each_mapping_keeps_its_own_position(stream) -> None:
    # Given one function that fails m1 forever (no retry limit) and another that takes everything
    s = stream(MaximumRetryAttempts=None)
    s.functions.handlers["NotifyFunction"] = lambda event: {
        "batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }

    s.put("m1", "m2")
    s.delivery.drain()
    s.put("m3")
    s.delivery.drain()

    # Then the failing one is held at m1 while the other has read on
    assert s.functions.keys("AuditFunction") == ["m1", "m2", "m3"]
    assert [batch[0] for batch in s.functions.received["NotifyFunction"]] == ["m1", "m1"]


def test_positions_kept_in_a_file_survive_a_restart(stream, tmp_path: Path) -> None:
    s = stream()
    positions = tmp_path / "stream-positions.json"
    s.delivery = s.delivery_from(positions)
    s.put("m1", "m2")
    s.delivery.drain()

    # When the stack restarts (a new delivery from the same file) and one more item comes
    s.put("m3")
    s.delivery_from(positions).drain()

    assert s.functions.keys("NotifyFunction") == ["m1", "m2", "m3"]


def test_a_latest_mapping_starts_after_what_the_stream_already_holds(stream) -> None:
    s = stream(StartingPosition="LATEST")
    s.put("before")
    s.delivery.drain()

    s.put("after")
    s.delivery.drain()

    assert s.functions.keys("NotifyFunction") == ["after"]
