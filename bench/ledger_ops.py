"""Ledger operations against DynamoDB Local, as a ratio against a bare boto3 TransactWriteItems of the
same size (three puts) measured in the same run on the same database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3

from bench.calls import counting_calls
from bench.timing import median_seconds
from cashback.bootstrap import Container
from cashback.ledger.rules import Accrue, Command, Credit, Kind, RecordPending, Source, Spend

AT = datetime(2026, 11, 24, tzinfo=UTC)


@dataclass(frozen=True)
class OperationFigure:
    name: str
    calls: dict[str, int]
    seconds: float  # not money
    ratio: float  # not money


def bare_transact_write(table: str, repeats: int, items: int = 3) -> float:  # not money
    """The floor of any ledger change: one TransactWriteItems putting `items` new items into `table`
    (the ledger's), nothing else."""
    client = boto3.client("dynamodb")

    def write(i: int) -> None:
        pk = f"MEMBER#bench-bare-{uuid.uuid4()}"
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": pk}, "sk": {"S": f"ITEM#{n}"}, "n": {"N": "1"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for n in range(items)
            ]
        )

    write(-1)  # warm the connection
    return median_seconds(write, repeats)


def _operations() -> dict[str, Callable[[str, int], Command]]:
    def src(i: int) -> Source:
        return Source("bench", str(i))

    return {
        "credit (new account)": lambda m, i: Credit(
            operation_id=f"c{i}",
            transaction_id=f"c{i}",
            reason="bonus",
            at=AT,
            kind=Kind.BONUS,
            amount=10,
            source=src(i),
        ),
        "record pending": lambda m, i: RecordPending(
            operation_id=f"p{i}",
            transaction_id=f"p{i}",
            reason="order",
            at=AT,
            kind=Kind.PURCHASE,
            amount=10,
            source=src(i),
        ),
        "accrue": lambda m, i: Accrue(operation_id=f"a{i}", transaction_id=f"p{i}", reason="approved", at=AT),
        "spend": lambda m, i: Spend(
            operation_id=f"s{i}",
            transaction_id=f"s{i}",
            reason="topup",
            at=AT,
            kind=Kind.SETTLEMENT,
            amount=5,
            source=src(i),
        ),
        "repeat (duplicate)": lambda m, i: Spend(
            operation_id=f"s{i}",
            transaction_id=f"s{i}",
            reason="topup",
            at=AT,
            kind=Kind.SETTLEMENT,
            amount=5,
            source=src(i),
        ),
    }


def measure(container: Container, repeats: int = 200) -> tuple[float, list[OperationFigure]]:  # not money
    ledger = container.ledger
    members = [f"bench-{uuid.uuid4()}" for _ in range(repeats)]
    baseline = bare_transact_write(container.settings.table("LEDGER_TABLE"), repeats)
    figures = []
    for name, build in _operations().items():

        def run(i: int, build: Callable[[str, int], Command] = build) -> None:
            ledger.execute(members[i], build(members[i], i))

        with counting_calls() as counts:
            seconds = median_seconds(run, repeats)
        figures.append(
            OperationFigure(name, {k: v // repeats for k, v in sorted(counts.items())}, seconds, seconds / baseline)
        )
    return baseline, figures
