"""The outbox: messages for the world outside (SMS, email, top-ups), written in the same transaction as
the change that causes them and relayed at least once, each with a stable id receivers deduplicate on.

Next to each SMS or email message, its delivery record (`MSG#<message id>` / `DELIVERY`) makes "at least
once" also "never twice": a sender claims the message with a conditional write and a lease, and marks it
sent once the provider has accepted it. A sender that crashed between the two leaves the claim to expire:
the stream's retry after the lease sends again (the one case a member may get a message twice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.platform import dynamodb as tables

# Delivered messages need not be kept for ever; a month covers any investigation of a delivery.
RETENTION = timedelta(days=31)


DELIVERY_SK = "DELIVERY"


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


class DeliveryModel(Model):
    class Meta:
        table_name = "unbound-outbox"

    pk = UnicodeAttribute(hash_key=True)  # "MSG#<message id>"
    sk = UnicodeAttribute(range_key=True)  # DELIVERY_SK
    message_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    state = UnicodeAttribute()
    lease_until = NumberAttribute()  # epoch seconds: a "sending" claim older than this may be taken over
    provider_message_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute()


class DeliveryState(StrEnum):
    SENDING = "sending"
    SENT = "sent"


class Claim(StrEnum):
    CLAIMED = "claimed"  # this sender sends it now
    SENT = "sent"  # sent before: a repeat, nothing to do
    HELD = "held"  # another sender holds the lease (or crashed holding it): try again after the lease


@dataclass(frozen=True)
class Delivery:
    message_id: str
    channel: str
    state: DeliveryState
    provider_message_id: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class Message:
    message_id: str
    kind: MessageKind
    body: dict[str, Any]
    created_at: datetime
    to: str | None = None


class OutboxRepository:
    def __init__(self, table_name: str) -> None:
        tables.bind((OutboxModel, DeliveryModel), table_name)

    def enqueue(self, message: Message) -> Callable[[TransactWrite], None]:
        """A ledger attachment that writes `message` with the change it belongs to, once per message id."""

        def attach(write: TransactWrite) -> None:
            write.save(_model(message), condition=OutboxModel.pk.does_not_exist())

        return attach

    # --- deliveries -------------------------------------------------------------------------------

    def delivery(self, message_id: str) -> Delivery | None:
        try:
            found = DeliveryModel.get(f"MSG#{message_id}", DELIVERY_SK, consistent_read=True)
        except DoesNotExist:
            return None
        sent_at = found.sent_at.astimezone(UTC) if found.sent_at else None
        return Delivery(found.message_id, found.channel, DeliveryState(found.state), found.provider_message_id, sent_at)

    def claim_delivery(self, message: Message, now: datetime, lease: timedelta) -> Claim:
        """Takes `message` for sending: a new claim, or one whose lease has run out (its sender crashed)."""
        record = DeliveryModel(
            f"MSG#{message.message_id}",
            DELIVERY_SK,
            message_id=message.message_id,
            channel=message.kind.value,
            state=DeliveryState.SENDING.value,
            lease_until=int((now + lease).timestamp()),
            expires_at=int((now + RETENTION).timestamp()),
        )
        expired = (DeliveryModel.state == DeliveryState.SENDING.value) & (
            DeliveryModel.lease_until < int(now.timestamp())
        )
        try:
            record.save(condition=DeliveryModel.pk.does_not_exist() | expired)
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            found = self.delivery(message.message_id)
            return Claim.SENT if found is not None and found.state is DeliveryState.SENT else Claim.HELD
        return Claim.CLAIMED

    def mark_sent(self, message_id: str, provider_message_id: str, at: datetime) -> None:
        DeliveryModel(f"MSG#{message_id}", DELIVERY_SK).update(
            actions=[
                DeliveryModel.state.set(DeliveryState.SENT.value),
                DeliveryModel.provider_message_id.set(provider_message_id),
                DeliveryModel.sent_at.set(at),
            ],
            condition=DeliveryModel.pk.exists(),
        )

    def release_delivery(self, message_id: str) -> None:
        """Gives a claim up after the provider refused the message, so that the retry need not wait out the lease."""
        try:
            DeliveryModel(f"MSG#{message_id}", DELIVERY_SK).update(
                actions=[DeliveryModel.lease_until.set(0)],
                condition=DeliveryModel.state == DeliveryState.SENDING.value,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

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


def message_from_image(image: dict[str, Any]) -> Message | None:
    """The message a stream record's NEW_IMAGE holds; None for anything else (a delivery record)."""
    if image.get("sk", {}).get("S") != "MSG":
        return None
    return message_of(OutboxModel.from_raw_data(image))
