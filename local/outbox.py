"""What left the system, as `/_local/outbox` and the tests read it: a scan, fine on a small local table and
the reason this is not in the deployed layer."""

from __future__ import annotations

from cashback.outbox.repository import Message, OutboxModel, message_of


def recent_messages(limit: int = 50) -> list[Message]:
    """Newest first, from the outbox table of this process's environment."""
    from local.wiring import local_container

    assert local_container().outbox is not None  # building it binds the outbox model to OUTBOX_TABLE
    models = sorted(OutboxModel.scan(), key=lambda m: m.created_at, reverse=True)[:limit]
    return [message_of(m) for m in models]
