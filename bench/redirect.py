"""The redirect (`GET /go/<partner>?t=<link token>`) through the clicks handler on DynamoDB Local: the
DynamoDB calls of one redirect, and its time as a ratio against one bare boto3 PutItem of a click-sized
item on the same database. Each redirect is timed right after a bare PutItem, so that both medians come
from the same moments of a machine whose speed drifts.

Two figures: a warm container (the partner cached: the goal is 1 write, 0 reads), and a container whose
partner cache has just expired (one GetItem more).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import boto3

from bench.calls import counting_calls
from cashback.bootstrap import Container

REPO = Path(__file__).resolve().parent.parent
PARTNER_ID = "bench-store"
COUNTED = 20  # redirects whose DynamoDB calls are counted
BENCH_LINK_KEY = "bench-link-signing-key-0123456789abcdef"


@dataclass(frozen=True)
class RedirectFigure:
    name: str
    calls: dict[str, int]  # DynamoDB calls of one redirect
    seconds: float  # not money: the median redirect, handler included
    baseline_seconds: float  # not money: the median bare PutItem, timed alongside

    @property
    def ratio(self) -> float:  # not money
        return self.seconds / self.baseline_seconds


@dataclass(frozen=True)
class Context:
    function_name: str = "bench-clicks"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:000000000000:function:bench-clicks"
    aws_request_id: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 5_000


def _clicks_handler(container: Container) -> ModuleType:
    """The clicks function's handler module, its wiring replaced by `container` (the handler's own, built at
    import from the environment, would read the link signing key from Secrets Manager)."""
    spec = importlib.util.spec_from_file_location("bench_clicks_app", REPO / "functions" / "clicks" / "app.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.container = container  # type: ignore[attr-defined]
    return module


def bare_put_item(table: str) -> Callable[[int], None]:
    client = boto3.client("dynamodb")

    def put(i: int) -> None:
        click_id = str(uuid.uuid4())
        client.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"CLICK#{click_id}"},
                "sk": {"S": "CLICK"},
                "click_id": {"S": click_id},
                "member_id": {"S": "bench-member"},
                "partner_id": {"S": PARTNER_ID},
                "rate_percent": {"S": "11"},
                "network": {"S": "admitad"},
                "accrual_days": {"N": "45"},
                "clicked_at": {"S": datetime.now(UTC).isoformat()},
                "user_agent": {"S": "Mozilla/5.0 (bench)"},
                "expires_at": {"N": "1811000000"},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    put(-1)  # warm the connection
    return put


def _interleaved(baseline: Callable[[int], None], run: Callable[[int], None], repeats: int) -> tuple[float, float]:
    """Medians of `baseline` and of `run` (not money: seconds), each `run` right after a `baseline`."""
    base, timed = [], []
    for i in range(repeats):
        started = time.perf_counter()
        baseline(i)
        between = time.perf_counter()
        run(i)
        base.append(between - started)
        timed.append(time.perf_counter() - between)
    return statistics.median(base), statistics.median(timed)


def measure(container: Container, repeats: int = 200) -> list[RedirectFigure]:
    """The redirect's figures, through the clicks handler running on `container` (its catalog, clicks and
    link signing key: LINK_SIGNING_SECRET, which bench/__main__.py sets)."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench-clicks")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CashbackBench")

    from cashback.catalog.rules import Category, Network, Partner
    from cashback.clicks.rules import sign_link
    from cashback.platform.secrets import Secret

    catalog, clicks = container.catalog, container.clicks
    now = datetime.now(UTC)
    catalog.put_partner(
        Partner(
            partner_id=PARTNER_ID,
            name="Bench Store",
            category=Category.ONLINE_STORES,
            rate_percent=Decimal("7"),
            tracking_url="https://ad.admitad.com/g/bench/?subid={click_id}",
            accrual_days=45,
            conditions="Benchmark partner.",
            network=Network.ADMITAD,
        ),
        actor="bench",
    )
    catalog.add_promotion(PARTNER_ID, Decimal("11"), now - timedelta(hours=1), now + timedelta(days=1), actor="bench")

    handler = _clicks_handler(container).lambda_handler
    template = json.loads((REPO / "events" / "clicks-go.json").read_text())
    template["rawPath"] = template["requestContext"]["http"]["path"] = f"/go/{PARTNER_ID}"
    template["pathParameters"] = {"partner_id": PARTNER_ID}
    key = container.secret_key(Secret.LINK_SIGNING)
    events = []
    for _ in range(max(repeats, COUNTED)):
        event = copy.deepcopy(template)
        token = sign_link(f"bench-{uuid.uuid4()}", PARTNER_ID, now, key)
        event["queryStringParameters"] = {"t": token}
        event["rawQueryString"] = f"t={token}"
        events.append(event)

    def redirect(i: int) -> None:
        response = handler(events[i % len(events)], Context())
        assert response["statusCode"] == 302, response

    def redirect_after_cache_expiry(i: int) -> None:
        clicks.forget_cached_partners()
        redirect(i)

    put = bare_put_item(container.settings.table("CLICKS_TABLE"))
    figures = []
    # The EMF metrics the handler prints are part of its work; they go to a sink instead of the terminal.
    with contextlib.redirect_stdout(io.StringIO()):
        redirect(0)  # the container's first redirect reads the partner
        cases: list[tuple[str, Callable[[int], None]]] = [
            ("warm redirect", redirect),
            ("partner cache expired", redirect_after_cache_expiry),
        ]
        for name, run in cases:
            with counting_calls() as counts:
                for i in range(COUNTED):
                    run(i)
            calls = {operation: n // COUNTED for operation, n in sorted(counts.items())}
            baseline, seconds = _interleaved(put, run, repeats)
            figures.append(RedirectFigure(name, calls, seconds, baseline))
    return figures
