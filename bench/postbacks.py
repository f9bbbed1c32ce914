"""Postbacks through the real service on DynamoDB Local: DynamoDB calls per postback by kind, and
postbacks a second from one client thread as a ratio against the bare TransactWriteItems floor (three
puts) measured in the same run."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.calls import counting_calls
from bench.ledger_ops import bare_transact_write
from bench.timing import median_seconds
from cashback.bootstrap import Container
from tests.builders import a_recorded_click, an_admitad_request

# Admitad's postback token: bench/__main__.py gives it to the container as POSTBACK_SECRETS.
SECRET = "bench-admitad-secret"


@dataclass(frozen=True)
class PostbackFigure:
    kind: str
    calls: dict[str, int]
    seconds: float  # not money
    per_second: float  # not money
    ratio: float  # not money: time per postback / bare TransactWriteItems


def measure(container: Container, repeats: int = 200) -> list[PostbackFigure]:
    postbacks = container.postbacks  # its clicks, orphans (claims), ledger and first-purchase bonus: the container's
    now = datetime.now(UTC)
    # A click each, of a member each: every approval also credits that member's first-purchase bonus.
    clicks = [
        a_recorded_click(container, member_id=f"bench-member-{i}", clicked_at=now - timedelta(hours=1))
        for i in range(repeats)
    ]
    actions = [uuid.uuid4().hex for _ in range(repeats)]

    def deliver(status: str) -> Callable[[int], object]:
        def run(i: int) -> object:
            request = an_admitad_request(clicks[i].click_id, actions[i], status, token=SECRET, at=datetime.now(UTC))
            return postbacks.receive("admitad", request)

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
