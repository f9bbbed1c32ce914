"""DynamoDB streams as Lambda's event source mappings deliver them: template.yaml's `Type: DynamoDB` events,
read from DynamoDB Local's stream API and handed to the functions in batches.

What Lambda does and this does too: records in order per shard, parents before children; the event Lambda
builds (`Records` with eventID, eventName, dynamodb {Keys, NewImage, SequenceNumber, ...} and
eventSourceARN); FilterCriteria applied first, a record no filter matches skipped for good; BatchSize;
with ReportBatchItemFailures, the next try starting at the first failed record; a batch that keeps failing
dropped after MaximumRetryAttempts (Lambda would send it to its on-failure destination: here it is logged
and kept in `dropped`). Each mapping keeps its own position per shard.

What it does not: batching windows and backoff (`drain()` delivers everything pending at once and retries
at once), BisectBatchOnFunctionError (a failed batch is retried whole), and parallelisation. With no
MaximumRetryAttempts (Lambda retries until the record expires) a failing batch waits for the next `drain()`.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.gateway.account import ACCOUNT_ID, region
from local.gateway.eventbridge import pattern_matches
from local.template import StreamSubscription, stream_subscriptions

Invoke = Callable[[str, dict[str, Any]], Any]
RECORDS_PER_READ = 1000  # GetRecords' maximum


@dataclass(frozen=True)
class DroppedBatch:
    """A batch given up after its retries, with what Lambda's on-failure destination would be told."""

    function_logical_id: str
    event_id: str
    shard_id: str
    first_sequence_number: str
    last_sequence_number: str
    size: int
    reason: str


@dataclass
class _Mapping:
    subscription: StreamSubscription
    positions: dict[str, str] = field(default_factory=dict)  # "<stream arn> <shard id>" -> last sequence done
    finished: set[str] = field(default_factory=set)  # closed shards read to their end

    @property
    def key(self) -> str:
        return f"{self.subscription.function_logical_id}.{self.subscription.event_id}"


def _lambda_value(value: Any) -> Any:
    # boto3 hands binary attributes over as bytes; Lambda's JSON event has them in base64.
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _lambda_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lambda_value(v) for v in value]
    return value


def _lambda_stream_arn(stream_arn: str) -> str:
    # DynamoDB Local names its own region and account ("ddblocal", "000000000000"); Lambda names the table's.
    parts = stream_arn.split(":", 5)
    return ":".join([*parts[:3], region(), ACCOUNT_ID, parts[5]]) if len(parts) == 6 else stream_arn


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One GetRecords record as Lambda puts it in the event's `Records`."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    converted = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region(),
        "dynamodb": _lambda_value(change),
        "eventSourceARN": _lambda_stream_arn(stream_arn),
    }
    if "userIdentity" in record:  # TTL deletions
        converted["userIdentity"] = record["userIdentity"]
    return converted


def _failed_index(subscription: StreamSubscription, batch: list[dict[str, Any]], result: Any) -> int | None:
    """Where the batch failed (Lambda retries from there), or None when it succeeded."""
    if not subscription.report_batch_item_failures or not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if not failures:
        return None
    sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
    failed = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in sequences:
            return 0  # an empty or unknown identifier fails the whole batch, as in Lambda
        failed.append(sequences.index(identifier))
    return min(failed)


class StreamDelivery:
    """Delivers the template's DynamoDB stream events to functions through `invoke(function_id, event)`.

    `drain()` delivers whatever is pending, synchronously; `start(interval)` drains in a background thread.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        table_names: Mapping[str, str],
        invoke: Invoke,
        *,
        endpoint_url: str | None = None,
        positions_file: Path | None = None,
        before_drain: Callable[[], object] | None = None,
        clients: tuple[Any, Any] | None = None,
    ) -> None:
        """`before_drain` readies what the functions send to (moto's identities, say) before each drain;
        `clients` (dynamodb, dynamodbstreams) replaces the boto3 clients built on the first drain."""
        self._table_names = table_names
        self._before_drain = before_drain
        self._invoke = invoke
        self._endpoint_url = endpoint_url
        self._positions_file = positions_file
        self._mappings = [_Mapping(s) for s in stream_subscriptions(template) if s.enabled]
        self._saved_state: str | None = None
        self._load_positions()
        self._lock = threading.Lock()
        self._clients = clients
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped: list[DroppedBatch] = []

    # ------------------------------------------------------------------------------------------ public

    def drain(self) -> int:
        """Deliver every pending record of every mapping; the number of records the functions received."""
        if not self._mappings:
            return 0
        with self._lock:
            if self._before_drain is not None:
                self._before_drain()
            delivered = sum(self._drain_mapping(mapping) for mapping in self._mappings)
            self._save_positions()
            return delivered

    def start(self, interval_seconds: float = 0.5) -> StreamDelivery:
        """Drain every `interval_seconds` in a daemon thread, as the event source mappings poll."""

        def poll() -> None:
            while not self._stop.wait(interval_seconds):
                try:
                    self.drain()
                except Exception:  # DynamoDB Local gone, say: report it and poll again
                    traceback.print_exc()

        self._stop.clear()
        self._thread = threading.Thread(target=poll, name="local-streams", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # ----------------------------------------------------------------------------------------- reading

    def _client(self) -> tuple[Any, Any]:
        if self._clients is None:
            import boto3

            endpoint = self._endpoint_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
            self._clients = (
                boto3.client("dynamodb", endpoint_url=endpoint, region_name=region()),
                boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=region()),
            )
        return self._clients

    def _shards(self, stream_arn: str) -> list[dict[str, Any]]:
        """The stream's shards, each parent before its children."""
        streams = self._client()[1]
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": stream_arn}
        while True:
            description = streams.describe_stream(**request)["StreamDescription"]
            shards += description.get("Shards", [])
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            request["ExclusiveStartShardId"] = last
        known = {s["ShardId"] for s in shards}
        ordered: list[dict[str, Any]] = []
        placed: set[str] = set()

        def place(shard: dict[str, Any]) -> None:
            if shard["ShardId"] in placed:
                return
            parent = shard.get("ParentShardId")
            if parent in known and parent not in placed:
                place(next(s for s in shards if s["ShardId"] == parent))
            placed.add(shard["ShardId"])
            ordered.append(shard)

        for shard in shards:
            place(shard)
        return ordered

    def _pending(self, stream_arn: str, shard_id: str, after: str | None) -> tuple[list[dict[str, Any]], bool]:
        """The shard's records after `after` (all of them when None), and whether the shard is closed and
        read to its end."""
        streams = self._client()[1]
        request = {"StreamArn": stream_arn, "ShardId": shard_id}
        if after is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        iterator = streams.get_shard_iterator(**request).get("ShardIterator")
        records: list[dict[str, Any]] = []
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=RECORDS_PER_READ)
            records += page.get("Records", [])
            iterator = page.get("NextShardIterator")
            if not page.get("Records"):
                break  # an open shard's iterator never ends: an empty page is its end for now
        return records, iterator is None

    # -------------------------------------------------------------------------------------- delivering

    def _drain_mapping(self, mapping: _Mapping) -> int:
        subscription = mapping.subscription
        table = self._client()[0].describe_table(TableName=self._table_names[subscription.table_logical_id])
        stream_arn = table["Table"].get("LatestStreamArn")
        if not stream_arn:
            return 0
        delivered = 0
        for shard in self._shards(stream_arn):
            shard_key = f"{stream_arn} {shard['ShardId']}"
            if shard_key in mapping.finished:
                continue
            first_sight = shard_key not in mapping.positions
            records, closed = self._pending(stream_arn, shard["ShardId"], mapping.positions.get(shard_key))
            if first_sight and subscription.starting_position == "LATEST":
                # Lambda starts a LATEST mapping after what the stream already holds.
                records = self._skip_existing(mapping, shard_key, records)
            lambda_records = [lambda_record(r, stream_arn) for r in records]
            done, count = self._deliver(mapping, shard_key, lambda_records)
            delivered += count
            if not done:
                break  # a later shard must wait for this one, as the stream's order requires
            if closed:
                mapping.finished.add(shard_key)
        return delivered

    def _skip_existing(self, mapping: _Mapping, shard_key: str, records: list[dict[str, Any]]) -> list[Any]:
        if records:
            mapping.positions[shard_key] = records[-1]["dynamodb"]["SequenceNumber"]
        return []

    def _matches(self, subscription: StreamSubscription, record: dict[str, Any]) -> bool:
        return not subscription.filters or any(pattern_matches(p, record) for p in subscription.filters)

    def _batch_end(self, subscription: StreamSubscription, records: list[dict[str, Any]], start: int) -> int:
        """Where the batch that starts at `start` ends: after BatchSize matching records, or at the end."""
        end, size = start, 0
        while end < len(records) and size < subscription.batch_size:
            size += self._matches(subscription, records[end])
            end += 1
        return end

    def _deliver(self, mapping: _Mapping, shard_key: str, records: list[dict[str, Any]]) -> tuple[bool, int]:
        """Deliver `records` in batches; (whether all were done, delivered or dropped; records invoked with)."""
        subscription = mapping.subscription
        start, retries, invoked = 0, 0, 0
        while start < len(records):
            end = self._batch_end(subscription, records, start)
            batch = [r for r in records[start:end] if self._matches(subscription, r)]
            failed_at = self._invoke_batch(subscription, batch) if batch else None
            invoked += len(batch)
            if failed_at is None:
                mapping.positions[shard_key] = records[end - 1]["dynamodb"]["SequenceNumber"]
                start, retries = end, 0
                continue
            first_failed = records.index(batch[failed_at], start)
            if first_failed > start:  # the records before the failed one are done (or filtered out)
                mapping.positions[shard_key] = records[first_failed - 1]["dynamodb"]["SequenceNumber"]
            start = first_failed
            if failed_at > 0:  # progress: the retries count again from the failed record
                retries = 0
                continue
            retries += 1
            if subscription.maximum_retry_attempts < 0:
                return False, invoked  # retried until the record expires: on the next drain
            if retries > subscription.maximum_retry_attempts:
                self._drop(mapping, shard_key, records[start:end], batch, retries)
                mapping.positions[shard_key] = records[end - 1]["dynamodb"]["SequenceNumber"]
                start, retries = end, 0
        return True, invoked

    def _invoke_batch(self, subscription: StreamSubscription, batch: list[dict[str, Any]]) -> int | None:
        try:
            result = self._invoke(subscription.function_logical_id, {"Records": batch})
        except Exception:
            traceback.print_exc()
            return 0
        return _failed_index(subscription, batch, result)

    def _drop(
        self, mapping: _Mapping, shard_key: str, span: list[dict[str, Any]], batch: list[dict[str, Any]], tries: int
    ) -> None:
        subscription = mapping.subscription
        dropped = DroppedBatch(
            function_logical_id=subscription.function_logical_id,
            event_id=subscription.event_id,
            shard_id=shard_key.rsplit(" ", 1)[-1],
            first_sequence_number=span[0]["dynamodb"]["SequenceNumber"],
            last_sequence_number=span[-1]["dynamodb"]["SequenceNumber"],
            size=len(batch),
            reason=f"RetryAttemptsExhausted after {tries} attempts",
        )
        self.dropped.append(dropped)
        print(
            f"local streams: {mapping.key} dropped {dropped.size} records "
            f"({dropped.first_sequence_number}..{dropped.last_sequence_number}): {dropped.reason}; "
            "in AWS they would go to the mapping's on-failure destination",
            file=sys.stderr,
        )

    # ----------------------------------------------------------------------------------------- positions

    def _load_positions(self) -> None:
        if self._positions_file is None or not self._positions_file.exists():
            return
        try:
            saved = json.loads(self._positions_file.read_text())
        except ValueError:
            return  # a damaged file: start again from each mapping's starting position
        for mapping in self._mappings:
            own = saved.get(mapping.key) or {}
            mapping.positions.update(own.get("positions") or {})
            mapping.finished.update(own.get("finished") or [])

    def _save_positions(self) -> None:
        if self._positions_file is None:
            return
        state = json.dumps(
            {m.key: {"positions": m.positions, "finished": sorted(m.finished)} for m in self._mappings}, indent=1
        )
        if state == self._saved_state:
            return  # `make run` drains twice a second: the file is written only when a position moved
        temporary = self._positions_file.with_suffix(".tmp")
        temporary.write_text(state)
        temporary.replace(self._positions_file)
        self._saved_state = state
