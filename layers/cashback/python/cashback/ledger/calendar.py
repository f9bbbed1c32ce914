"""Settlement runs at 00:00 Moscow time on the 1st of every month."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")


def next_settlement_at(now: datetime) -> datetime:
    local = now.astimezone(MOSCOW)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=MOSCOW)
