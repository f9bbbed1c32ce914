"""`python -m ops.restate_debits`: rewrites the debits by hand stored before they read as accrued.

A debit by hand was once stored as a written-off transaction with a negative amount. It reads as accrued
already (the ledger's `stored_status`), but the status listings use the stored status: this moves each
such transaction to accrued, in its status listing too. Balances and entries are untouched (an entry is
immutable and holds no status a balance depends on). Each rewrite is conditioned on the item still
being a written-off debit, so running it again, or while the platform serves, changes nothing more.

Works on the running `make run` stack when there is one, else on the environment's tables (AWS).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cashback.bootstrap import Container
from cashback.ledger.repository import TXN_PREFIX
from cashback.ledger.rules import Status
from local.stack_state import use_running_stack


def restate_debits(client: Any, table_name: str) -> int:
    """Rewrites every debit stored as written off; returns how many it rewrote."""
    rewritten = 0
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "FilterExpression": "begins_with(sk, :txn) AND #status = :written_off AND amount < :zero",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":txn": {"S": TXN_PREFIX},
            ":written_off": {"S": Status.WRITTEN_OFF.value},
            ":zero": {"N": "0"},
        },
    }
    while True:
        page = client.scan(**kwargs)
        for item in page.get("Items", []):
            try:
                client.update_item(
                    TableName=table_name,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET #status = :accrued, status_listed = :status_listed",
                    ConditionExpression="#status = :written_off AND amount < :zero",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":accrued": {"S": Status.ACCRUED.value},
                        ":status_listed": {"S": f"{Status.ACCRUED.value}#{item['listed']['S']}"},
                        ":written_off": {"S": Status.WRITTEN_OFF.value},
                        ":zero": {"N": "0"},
                    },
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue  # rewritten meanwhile
            rewritten += 1
        if "LastEvaluatedKey" not in page:
            return rewritten
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ignore-local-stack", action="store_true", help="use the environment's tables even so")
    args = parser.parse_args(argv)
    local = None if args.ignore_local_stack else use_running_stack()
    if local is not None:
        print(f"restating debits on the local stack (DynamoDB Local at {local.endpoint})", file=sys.stderr)
    container = Container.from_environment()
    rewritten = restate_debits(container.dynamodb.client, container.settings.table("LEDGER_TABLE"))
    print(f"restated {rewritten} debit(s) as accrued")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
