"""Runs a month's settlement in this process: starts (or resumes) the run, then settles its batches here
instead of through SQS, printing progress. `--gateway URL` asks a running local stack (`make run`) to do it.

    python -m local.settle --month 2026-10                          # tables named by the environment
    python -m local.settle --month 2026-10 --gateway http://127.0.0.1:3000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

from cashback.settlement.rules import Report, check_month


def _print_report(report: Report) -> None:
    print(
        f"{report.month}: {report.state.value}; members settled {report.members_settled}, "
        f"bonuses paid {report.bonuses_paid}, skipped {report.skipped}, failures {report.failures}"
    )


def settle_here(month: str, *, every: int = 50) -> Report:
    from local.settlement_queue import InProcessQueue
    from local.wiring import local_container

    month_settled = check_month(month, datetime.now(UTC))
    container = local_container()
    settlement = container.settlement
    queue = container.settlement_queue
    assert isinstance(queue, InProcessQueue)
    started = time.monotonic()
    counted = {"settle": 0, "enumerate": 0}

    def progress(message: dict[str, Any]) -> None:
        counted[message["type"]] += 1
        if message["type"] == "settle" and counted["settle"] % every == 0:
            now = settlement.report(month_settled)
            print(
                f"  {now.batches_done}/{now.batches_sent} batches, {now.members_settled} settled, "
                f"{now.bonuses_paid} bonuses paid, {time.monotonic() - started:.1f} s",
                flush=True,
            )

    queue.on_message = progress
    print(f"settlement {month_settled}: started", flush=True)
    settlement.start_settlement(month_settled)
    return settlement.report(month_settled)


def settle_through(gateway: str, month: str) -> dict[str, Any]:
    def call(method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 (a URL the user gives, for their local stack)
            gateway.rstrip("/") + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        with urllib.request.urlopen(request, timeout=3600) as response:  # noqa: S310
            return json.loads(response.read())

    token = call("POST", "/_local/token", {"role": "admin"})["token"]
    result: dict[str, Any] = call("POST", "/admin/settlements", {"month": month}, token)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", required=True, help='"YYYY-MM", or "auto" for the month that has just ended')
    parser.add_argument("--gateway", help="a running local stack's URL (make run), e.g. http://127.0.0.1:3000")
    args = parser.parse_args(argv)
    if args.gateway:
        result = settle_through(args.gateway, args.month)
        print(json.dumps(result, indent=2))
        return 0 if result.get("state") == "completed" else 1
    report = settle_here(args.month)
    _print_report(report)
    return 0 if report.state.value == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
