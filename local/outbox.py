"""What left the system, as `/_local/outbox` and the tests read it: a scan, fine on a small local table and
the reason this is not in the deployed layer."""

from __future__ import annotations

from cashback.outbox.repository import Message, OutboxModel, message_of
from cashback.platform import dynamodb
from cashback.platform.config import Settings


def recent_messages(limit: int = 50) -> list[Message]:
    """Newest first, from the outbox table of this process's environment."""
    dynamodb.bind((OutboxModel,), Settings.from_environment().table("OUTBOX_TABLE"))
    # Messages only: their delivery records (sk DELIVERY) share the table.
    models = sorted(OutboxModel.scan(OutboxModel.sk == "MSG"), key=lambda m: m.created_at, reverse=True)[:limit]
    return [message_of(m) for m in models]
