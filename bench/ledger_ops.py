"""Ledger operations against DynamoDB Local, as a ratio against a bare boto3 TransactWriteItems of the
same size (three puts) measured in the same run on the same database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import boto3

from bench.calls import counting_calls
from bench.timing import median_seconds
from cashback.bootstrap import Container
from cashback.ledger.rules import Command
from tests.builders import accrue, credit, pending, spend


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
    """Each operation as the i-th member's command; the repeat sends that member's spend again."""
    return {
        "credit (new account)": lambda m, i: credit(f"c{i}", 10),
        "record pending": lambda m, i: pending(f"p{i}", 10),
        "accrue": lambda m, i: accrue(f"a{i}", f"p{i}"),
        "spend": lambda m, i: spend(f"s{i}", 5),
        "repeat (duplicate)": lambda m, i: spend(f"s{i}", 5),
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
