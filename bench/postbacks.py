"""Postbacks through the real service on DynamoDB Local: DynamoDB calls per postback by kind (the
issue's budget: a new postback and a status change one read and one write, the first-purchase bonus
included; a duplicate one read), and the time of each as a ratio against a bare TransactWriteItems of
as many puts as it writes, measured in the same run (a duplicate against the smallest)."""

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
from cashback.postbacks.networks import PostbackRequest
from tests.builders import a_recorded_click, an_admitad_request

# Admitad's postback token: bench/__main__.py gives it to the container as POSTBACK_SECRETS.
SECRET = "bench-admitad-secret"


@dataclass(frozen=True)
class PostbackFigure:
    kind: str
    calls: dict[str, int]
    items_written: int  # in the one TransactWriteItems, the size of the bare baseline it is compared with
    seconds: float  # not money
    per_second: float  # not money
    ratio: float  # not money: time per postback / a bare TransactWriteItems of as many puts


# What each kind writes in its one TransactWriteItems (0: no write). A new order of 1,999.90 is the
# member's first: its purchase and the first-purchase bonus (an entry and a transaction each), the
# account, the conversion and the delivery. The approval adds the settlement index's listing.
ITEMS_WRITTEN = {"new (pending)": 7, "duplicate": 0, "status change (approved)": 8, "stale re-delivery": 1}


def measure(container: Container, repeats: int = 200) -> list[PostbackFigure]:
    postbacks = container.postbacks
    now = datetime.now(UTC).replace(microsecond=0)
    # A click each, of a member each: every order is its member's first, so the first-purchase bonus moves too.
    clicks = [
        a_recorded_click(container, member_id=f"bench-{uuid.uuid4()}", clicked_at=now - timedelta(hours=1))
        for i in range(repeats)
    ]
    actions = [uuid.uuid4().hex for _ in range(repeats)]

    def request(i: int, status: str, at: datetime) -> PostbackRequest:
        return an_admitad_request(clicks[i].click_id, actions[i], status, token=SECRET, at=at, payment_sum="")

    ordered, approved, late = now - timedelta(minutes=30), now - timedelta(minutes=10), now - timedelta(minutes=20)
    kinds: list[tuple[str, Callable[[int], PostbackRequest]]] = [
        ("new (pending)", lambda i: request(i, "pending", ordered)),
        ("duplicate", lambda i: request(i, "pending", ordered)),
        ("status change (approved)", lambda i: request(i, "approved", approved)),
        # A pending the network sent before its approval, delivered after it: recorded, changes nothing.
        ("stale re-delivery", lambda i: request(i, "pending", late)),
    ]
    table = container.settings.table("LEDGER_TABLE")
    baselines = {n: bare_transact_write(table, repeats, items=n) for n in sorted(set(ITEMS_WRITTEN.values()) - {0})}
    figures = []
    for kind, make in kinds:

        def deliver(i: int, make: Callable[[int], PostbackRequest] = make) -> object:
            return postbacks.receive("admitad", make(i), now=now)

        with counting_calls() as counts:
            started = time.perf_counter()
            seconds = median_seconds(deliver, repeats)
            elapsed = time.perf_counter() - started
        calls = {name: n // repeats for name, n in sorted(counts.items())}
        size = ITEMS_WRITTEN[kind]
        floor = baselines.get(size, baselines[min(baselines)])
        figures.append(PostbackFigure(kind, calls, size, seconds, repeats / elapsed, seconds / floor))
    return figures
