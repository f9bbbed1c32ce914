"""The outbox relay: new top-up requests of the outbox (the table's stream, NEW_IMAGE) become EventBridge
events for billing. SMS and email are sent by the notifications function, never put on a bus.

Each event carries the message id (`detail.message_id`) so that receivers drop repeats: the relay
delivers at least once. PutEvents takes ten entries a call; an entry it refuses fails its stream record,
which the stream delivers again (with the records after it, hence the message ids).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

SOURCE = "cashback.outbox"
DETAIL_TYPES = {"topup_requested": "TopUpRequested"}
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class OutboundEvent:
    sequence_number: str  # the stream record's, to report it as failed
    entry: dict[str, Any]


def _plain(image: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def _json_safe(value: Any) -> Any:
    # The stream's numbers are Decimal; the outbox's bodies hold whole numbers only (bonuses).
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def outbound_event(sequence_number: str, new_image: dict[str, Any], bus_name: str) -> OutboundEvent | None:
    """The event for one new outbox item; None for anything that is not a top-up request."""
    item = _plain(new_image)
    if item.get("sk") != "MSG" or item.get("kind") not in DETAIL_TYPES:
        return None
    body = item.get("body")
    body = json.loads(body) if isinstance(body, str) else _json_safe(body or {})
    detail = {"message_id": item["message_id"], **body}
    if item.get("to") is not None:
        detail["to"] = item["to"]
    entry = {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPES[item["kind"]],
        "Detail": json.dumps(detail, separators=(",", ":")),
        "EventBusName": bus_name,
    }
    return OutboundEvent(sequence_number, entry)


class EventPublisher:
    """PutEvents on the bus the template names; the client is built on the first publish."""

    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self._client = client

    def publish(self, events: Sequence[OutboundEvent]) -> list[str]:
        if self._client is None:
            import boto3

            self._client = boto3.client("events")
        return publish(events, self._client)


def publish(events: Sequence[OutboundEvent], client: Any) -> list[str]:
    """PutEvents in chunks of ten; the sequence numbers of the entries that were not accepted."""
    failed: list[str] = []
    for start in range(0, len(events), 10):
        chunk = events[start : start + 10]
        answer = client.put_events(Entries=[e.entry for e in chunk])
        if answer.get("FailedEntryCount", 0):
            failed += [e.sequence_number for e, r in zip(chunk, answer["Entries"], strict=True) if r.get("ErrorCode")]
    return failed
