"""The outbox: messages for the world outside (SMS, email, top-ups), written in the same transaction as
the change that causes them and relayed at least once, each with a stable id receivers deduplicate on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.platform import dynamodb as tables

# Delivered messages need not be kept for ever; a month covers any investigation of a delivery.
RETENTION = timedelta(days=31)


class MessageKind(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    TOPUP_REQUESTED = "topup_requested"


class OutboxModel(Model):
    class Meta:
        table_name = "unbound-outbox"

    pk = UnicodeAttribute(hash_key=True)  # "MSG#<message id>"
    sk = UnicodeAttribute(range_key=True)  # "MSG"
    message_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    to = UnicodeAttribute(null=True)
    body = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()


@dataclass(frozen=True)
class Message:
    message_id: str
    kind: MessageKind
    body: dict[str, Any]
    created_at: datetime
    to: str | None = None


class OutboxRepository:
    def __init__(self, table_name: str) -> None:
        tables.bind((OutboxModel,), table_name)

    def enqueue(self, message: Message) -> Callable[[TransactWrite], None]:
        """A ledger attachment that writes `message` with the change it belongs to, once per message id."""

        def attach(write: TransactWrite) -> None:
            write.save(_model(message), condition=OutboxModel.pk.does_not_exist())

        return attach

    def find(self, message_id: str) -> Message | None:
        try:
            return message_of(OutboxModel.get(f"MSG#{message_id}", "MSG", consistent_read=True))
        except DoesNotExist:
            return None


def _model(message: Message) -> OutboxModel:
    return OutboxModel(
        f"MSG#{message.message_id}",
        "MSG",
        message_id=message.message_id,
        kind=message.kind.value,
        to=message.to,
        body=message.body,
        created_at=message.created_at,
        expires_at=int((message.created_at + RETENTION).timestamp()),
    )


def message_of(m: OutboxModel) -> Message:
    return Message(m.message_id, MessageKind(m.kind), dict(m.body), m.created_at.astimezone(UTC), m.to)
