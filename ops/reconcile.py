"""`make reconcile`: proves that every member's balances equal the sum of their ledger entries, and that
the members listed for the monthly settlement are exactly those with bonuses available.

Works on the running `make run` stack when there is one (local/stack_state.py finds it), else on the
tables and endpoint of the environment it runs in (AWS). Exits 0 when all agree, 1 and one line per
difference otherwise.
"""

from __future__ import annotations

import argparse
import sys

from cashback.bootstrap import Container
from cashback.ledger.audit import ListingMismatch
from cashback.ledger.audit_repository import find_differences
from local.stack_state import use_running_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=4, help="parallel scan segments")
    parser.add_argument("--ignore-local-stack", action="store_true", help="use the environment's tables even so")
    args = parser.parse_args(argv)
    local = None if args.ignore_local_stack else use_running_stack()
    if local is not None:
        print(f"reconciling the local stack (DynamoDB Local at {local.endpoint})", file=sys.stderr)
    container = Container.from_environment()  # the tables and endpoint of the environment it runs in
    table = container.settings.table("LEDGER_TABLE")
    checked, differences = find_differences(container.dynamodb.client, table, args.segments)
    for d in differences:
        if isinstance(d, ListingMismatch):
            problem = "listed for settlement with nothing available" if d.listed else "not listed for settlement"
            print(f"member {d.member_id}: {problem} (available {d.available})", file=sys.stderr)
            continue
        print(
            f"member {d.member_id}: account {d.account} != entries {d.entries} (account minus entries: {d.gap})",
            file=sys.stderr,
        )
    print(f"reconciled {checked} members: {len(differences)} difference(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
