"""Monthly settlement against DynamoDB Local: seconds per settled member as a ratio against the floor
measured in the same run, DynamoDB calls and capacity units per settled member, and what a million
settled members cost in AWS from those units.

The floor is the one write that settling a member cannot do without: the very TransactWriteItems the
code sends to settle a member (entry, account, transaction with its two index keys, settlement line,
batch counter, outbox message), captured from a probe member, then sent again by a bare boto3 client
for other seeded members, before and after the run. The
ratio is then everything the code adds around that write: enumeration, the batch's reads, decisions,
serialisation, SQS messages, bookkeeping. A bare TransactWriteItems of six small puts (no indexes, no
stream) is shown beside it for scale.

Prices (on-demand, eu-central-1, after AWS's November 2024 cut, per million): write request units
$0.7625, read request units $0.1525; SQS standard requests $0.40 (a batch of 10 is one request). Both
are assumptions to check against the pricing page; pass others with --wru-price / --rru-price.
Lambda time and SQS receives (the event source mapping's polling) are not counted.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.client import BaseClient

from bench.ledger_ops import bare_transact_write
from bench.timing import median_seconds
from cashback.bootstrap import Container
from cashback.settlement.rules import shard_of

WRU_PRICE = Decimal("0.7625")  # USD per million write request units, eu-central-1 on-demand
RRU_PRICE = Decimal("0.1525")  # USD per million read request units
SQS_PRICE = Decimal("0.40")  # USD per million requests
MONTH = "2026-10"
SETTLED_AT = datetime(2026, 11, 1, 9, tzinfo=UTC)  # only the month that has just ended can be settled
PROBE_MONTH, PROBE_BATCH = "2026-09", "probe-batch"  # the floor's probe: a month and batch of its own
FLOOR_WARM_UP = 50
_CAPACITY_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "TransactWriteItems",
    "TransactGetItems",
    "BatchWriteItem",
    "BatchGetItem",
}
_READ_OPERATIONS = {"GetItem", "Query", "TransactGetItems", "BatchGetItem"}


@dataclass(frozen=True)
class SettlementFigure:
    members: int
    seconds_per_member: float  # not money
    floor_seconds: float  # not money
    floor_range: tuple[float, float]  # not money: before and after the run
    ratio: float  # not money
    six_puts_seconds: float  # not money
    calls_per_member: dict[str, float]  # not money
    read_units_per_member: float  # not money
    write_units_per_member: float  # not money
    usd_per_million_members: Decimal


@contextmanager
def metering() -> Iterator[tuple[Counter[str], Counter[str]]]:
    """Counts AWS calls and sums the capacity DynamoDB Local reports for them (ReturnConsumedCapacity)."""
    calls: Counter[str] = Counter()
    units: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def metered(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[operation] += 1
        if operation in _CAPACITY_OPERATIONS:
            params = {**params, "ReturnConsumedCapacity": "TOTAL"}
        response = original(self, operation, params)
        consumed = response.get("ConsumedCapacity") if isinstance(response, dict) else None
        for item in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            read, write = item.get("ReadCapacityUnits"), item.get("WriteCapacityUnits")
            if read is None and write is None:  # only a total: the operation says which kind it was
                kind = "read" if operation in _READ_OPERATIONS else "write"
                units[kind] += item.get("CapacityUnits", 0)
            else:
                units["read"] += read or 0
                units["write"] += write or 0
        return response

    BaseClient._make_api_call = metered
    try:
        yield calls, units
    finally:
        BaseClient._make_api_call = original


def seed(container: Container, count: int, *, listed: bool = True) -> list[str]:
    """Members with 1,000 available and a 700 limit: a member record, an account, and (`listed`) a
    settlement candidate each (BatchWrite). Unlisted ones are the floor's, which no run reaches."""
    client = boto3.client("dynamodb")
    ledger = container.settings.table("LEDGER_TABLE")
    members_table = container.settings.table("MEMBERS_TABLE")
    at = datetime(2026, 10, 20, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    ids = [f"bench-settle-{uuid.uuid4()}" for _ in range(count)]
    requests: list[tuple[str, dict[str, Any]]] = []
    for i, member_id in enumerate(ids):
        pk = {"S": f"MEMBER#{member_id}"}
        requests += [
            (
                members_table,
                {
                    "pk": pk,
                    "sk": {"S": "PROFILE"},
                    "member_id": {"S": member_id},
                    "phone": {"S": f"+7916{i:07d}"},
                    "goal": {"S": "phone_topup"},
                    "monthly_writeoff_limit": {"N": "700"},
                    "created_at": {"S": at},
                },
            ),
            (
                ledger,
                {
                    "pk": pk,
                    "sk": {"S": "ACCOUNT"},
                    "member_id": {"S": member_id},
                    "available": {"N": "1000"},
                    "pending": {"N": "0"},
                    "written_off": {"N": "0"},
                    "debt": {"N": "0"},
                    "updated_at": {"S": at},
                    "version": {"N": "1"},
                },
            ),
        ]
        if listed:
            candidate = {"pk": {"S": f"SETTLE#{shard_of(member_id)}"}, "sk": pk, "member_id": {"S": member_id}}
            requests.append((ledger, candidate))
    for start in range(0, len(requests), 25):
        batch: dict[str, list[dict[str, Any]]] = {}
        for table, item in requests[start : start + 25]:
            batch.setdefault(table, []).append({"PutRequest": {"Item": item}})
        while batch:
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}
    return ids


def probe_write(container: Container) -> dict[str, Any]:
    """The TransactWriteItems that settles one (unlisted) member, captured as the code sends it."""
    [probe] = seed(container, 1, listed=False)
    captured: list[dict[str, Any]] = []
    original = BaseClient._make_api_call

    def capture(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems":
            captured.append(copy.deepcopy(params))
        return original(self, operation, params)

    BaseClient._make_api_call = capture
    try:
        container.settlement.settle_member(PROBE_MONTH, probe, PROBE_BATCH)
    finally:
        BaseClient._make_api_call = original
    [write] = captured
    return {"member_id": probe, "params": {k: v for k, v in write.items() if k != "ReturnConsumedCapacity"}}


def same_write_floor(container: Container, probe: dict[str, Any], repeats: int) -> float:  # not money
    """The probe's settlement write, sent by a bare client for `repeats` freshly seeded members, each
    batch of 50 under a batch counter of its own."""
    client = boto3.client("dynamodb")
    template = json.dumps(probe["params"])
    run = uuid.uuid4().hex[:8]
    requests = [
        json.loads(template.replace(probe["member_id"], other).replace(PROBE_BATCH, f"floor-{run}-{i // 50}"))
        for i, other in enumerate(seed(container, repeats + FLOOR_WARM_UP, listed=False))
    ]
    for request in requests[repeats:]:  # the connection, and DynamoDB Local's JIT for this kind of write
        client.transact_write_items(**request)

    def write(i: int) -> None:
        client.transact_write_items(**requests[i])

    return median_seconds(write, repeats)


def measure(
    container: Container, members: int = 2_000, *, wru_price: Decimal = WRU_PRICE, rru_price: Decimal = RRU_PRICE
) -> SettlementFigure:
    """`container` must handle settlement messages in this process as they are sent (local.wiring's
    in-process queue), so that `start_settlement` returns once the whole run is settled."""
    settlement = container.settlement
    seed(container, members)
    # DynamoDB Local slows down as its tables grow, and a run adds five items per member: the floor is
    # measured on the tables as the run finds them and as it leaves them, and the ratio uses the mean.
    probe = probe_write(container)
    floor_before = same_write_floor(container, probe, 200)
    with metering() as (calls, units):
        started = time.perf_counter()
        settlement.start_settlement(
            MONTH, now=SETTLED_AT
        )  # the in-process queue handles every message before it returns
        elapsed = time.perf_counter() - started  # not money
    report = settlement.report(MONTH)
    floor_after = same_write_floor(container, probe, 200)
    floor = (floor_before + floor_after) / 2
    six_puts = bare_transact_write(container.settings.table("LEDGER_TABLE"), 200, items=6)
    settled = max(report.members_settled, 1)
    sqs_requests = Decimal(-(-report.batches_sent // 10) + -(-(report.batches_sent + 16) // 10))
    per_member_cost = (
        Decimal(str(units["write"])) * wru_price + Decimal(str(units["read"])) * rru_price + sqs_requests * SQS_PRICE
    ) / settled
    return SettlementFigure(
        members=report.members_settled,
        seconds_per_member=elapsed / settled,
        floor_seconds=floor,
        floor_range=(floor_before, floor_after),
        ratio=elapsed / settled / floor,
        six_puts_seconds=six_puts,
        calls_per_member={name: n / settled for name, n in sorted(calls.items())},
        read_units_per_member=units["read"] / settled,
        write_units_per_member=units["write"] / settled,
        usd_per_million_members=per_member_cost.quantize(Decimal("0.01")),
    )


def print_figure(figure: SettlementFigure) -> None:
    before, after = figure.floor_range
    print(
        f"\nMonthly settlement of {figure.members} members on DynamoDB Local, in process (floor: the same "
        f"settlement TransactWriteItems sent bare = {figure.floor_seconds * 1000:.2f} ms, the mean of "
        f"{before * 1000:.2f} ms before the run and {after * 1000:.2f} ms after it)"
    )
    print(
        f"  {figure.seconds_per_member * 1000:.2f} ms per settled member = {figure.ratio:.2f} x floor"
        f" ({figure.seconds_per_member / after:.2f}-{figure.seconds_per_member / before:.2f} x its two measures)"
    )
    print(
        f"  for scale: a bare TransactWriteItems of 6 small puts = {figure.six_puts_seconds * 1000:.2f} ms"
        f" ({figure.seconds_per_member / figure.six_puts_seconds:.2f} x)"
    )
    calls = ", ".join(f"{n:.2f} {name}" for name, n in figure.calls_per_member.items())
    print(f"  DynamoDB calls per member: {calls}")
    print(
        f"  capacity per member: {figure.read_units_per_member:.2f} RRU, {figure.write_units_per_member:.2f} WRU"
        f" -> ${figure.usd_per_million_members} per million settled members"
        f" (eu-central-1 on-demand: ${WRU_PRICE}/M WRU, ${RRU_PRICE}/M RRU; SQS sends ${SQS_PRICE}/M)"
    )
