"""Postbacks through the real service on DynamoDB Local: DynamoDB calls per postback by kind, and
postbacks a second from one client thread as a ratio against the bare TransactWriteItems floor (three
puts) measured in the same run."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.calls import counting_calls
from bench.ledger_ops import bare_transact_write
from bench.timing import median_seconds
from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.postbacks.networks import PostbackRequest

# Admitad's postback token: bench/__main__.py gives it to the container as POSTBACK_SECRETS.
SECRET = "bench-admitad-secret"


@dataclass(frozen=True)
class PostbackFigure:
    kind: str
    calls: dict[str, int]
    seconds: float  # not money
    per_second: float  # not money
    ratio: float  # not money: time per postback / bare TransactWriteItems


def _request(click_id: str, action: str, status: str) -> PostbackRequest:
    query = {
        "token": SECRET,
        "subid": click_id,
        "action_id": action,
        "order_id": action,
        "order_sum": "1999.90",
        "currency": "RUB",
        "status": status,
        "time": str(int(datetime.now(UTC).timestamp())),
    }
    return PostbackRequest("GET", query=query)


def measure(container: Container, repeats: int = 200) -> list[PostbackFigure]:
    postbacks = container.postbacks  # its clicks, orphans (claims), ledger and first-purchase bonus: the container's
    now = datetime.now(UTC)
    clicks = []
    for i in range(repeats):
        click = Click(
            f"bench-{uuid.uuid4().hex}",
            f"bench-member-{i}",
            "aliexpress",
            Decimal(7),
            "admitad",
            30,
            now - timedelta(hours=1),
        )
        container.clicks.record(click)
        clicks.append(click)
    actions = [uuid.uuid4().hex for _ in range(repeats)]

    def deliver(status: str) -> Callable[[int], object]:
        def run(i: int) -> object:
            return postbacks.receive("admitad", _request(clicks[i].click_id, actions[i], status))

        return run

    floor = bare_transact_write(container.settings.table("LEDGER_TABLE"), repeats)
    figures = []
    for kind, status in (
        ("new (pending)", "pending"),
        ("duplicate", "pending"),
        ("status change (approved)", "approved"),
    ):
        with counting_calls() as counts:
            started = time.perf_counter()
            seconds = median_seconds(deliver(status), repeats)
            elapsed = time.perf_counter() - started
        calls = {name: n // repeats for name, n in sorted(counts.items())}
        figures.append(PostbackFigure(kind, calls, seconds, repeats / elapsed, seconds / floor))
    return figures
