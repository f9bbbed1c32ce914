"""What left the system, as `/_local/outbox` and the tests read it: each SMS and email as its recipient
got it, from moto (which stands in for SNS and SES locally) through the message's delivery record, and
each top-up as billing got it, from the archive of the bus the outbox relay puts it on.

Scans, fine on a small local table and the reason this is not in the deployed layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cashback.outbox.repository import (
    DeliveryState,
    Message,
    MessageKind,
    OutboxModel,
    OutboxRepository,
    message_of,
)
from cashback.platform import dynamodb
from cashback.platform.config import Settings
from local import moto_server

TOPUP_DETAIL_TYPE = "TopUpRequested"


@dataclass(frozen=True)
class Delivered:
    """One thing that left: `body` is the SMS's text, the email's {"subject", "text"}, or the top-up's detail."""

    id: str
    kind: MessageKind
    body: Any
    created_at: datetime  # when it left
    to: str | None = None


def _outbox_table() -> str:
    return Settings.from_environment().table("OUTBOX_TABLE")


def recent_messages(limit: int = 50) -> list[Message]:
    """The outbox table's messages (what is to leave, not what left), newest first; their delivery records
    (sk DELIVERY) share the table and are left out."""
    dynamodb.bind((OutboxModel,), _outbox_table())
    models = sorted(OutboxModel.scan(OutboxModel.sk == "MSG"), key=lambda m: m.created_at, reverse=True)
    return [message_of(m) for m in models[:limit]]


def _sent(repository: OutboxRepository, message: Message) -> Delivered | None:
    delivery = repository.delivery(message.message_id)
    if delivery is None or delivery.state is not DeliveryState.SENT or not delivery.provider_message_id:
        return None
    sent_at = delivery.sent_at or message.created_at
    if message.kind is MessageKind.SMS:
        sms = moto_server.sent_sms(delivery.provider_message_id)
        if sms is None:  # sent by a moto that has since stopped: its content is gone
            return None
        phone, text = sms
        return Delivered(message.message_id, message.kind, text, sent_at, phone)
    email = moto_server.sent_email(delivery.provider_message_id)
    if email is None:
        return None
    to = email["to"][0] if email["to"] else None
    return Delivered(
        message.message_id, message.kind, {"subject": email["subject"], "text": email["text"]}, sent_at, to
    )


def _topups() -> list[Delivered]:
    topups = []
    for event in moto_server.archived_events():
        if event.get("detail-type") != TOPUP_DETAIL_TYPE:
            continue
        detail = event.get("detail") or {}
        left = datetime.fromtimestamp(float(event["time"]), UTC)
        topups.append(Delivered(str(detail.get("message_id", event["id"])), MessageKind.TOPUP_REQUESTED, detail, left))
    return topups


def delivered_messages(limit: int = 50) -> list[Delivered]:
    """What left, newest first: SMS and email delivered, top-ups put on the bus."""
    table = _outbox_table()
    repository = OutboxRepository(table)
    dynamodb.bind((OutboxModel,), table)
    sent = []
    for model in OutboxModel.scan(OutboxModel.sk == "MSG"):
        message = message_of(model)
        if message.kind in (MessageKind.SMS, MessageKind.EMAIL):
            delivered = _sent(repository, message)
            if delivered is not None:
                sent.append(delivered)
    everything = sorted([*sent, *_topups()], key=lambda d: d.created_at, reverse=True)
    return everything[:limit]
