"""Reads the whole ledger table once, in parallel segments, and checks every member's account.

An offline audit, never on a request path: it scans. Each segment sums the entries of the partitions it
sees; a partition may span segments, so sums are merged before the comparison.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cashback.config import settings
from cashback.domain.ledger import Balances
from cashback.domain.reconciliation import Difference, reconcile
from cashback.store import tables
from cashback.store.ledger import ACCOUNT_SK, ENTRY_PREFIX

_FIELDS = ("available", "pending", "written_off", "debt")


def _number(item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value else 0


def _scan_segment(segment: int, total: int) -> tuple[dict[str, Balances], dict[str, list[Balances]]]:
    client = tables.connection().client
    accounts: dict[str, Balances] = {}
    entries: dict[str, list[Balances]] = defaultdict(list)
    kwargs: dict[str, Any] = {"TableName": settings().ledger_table, "Segment": segment, "TotalSegments": total}
    while True:
        page = client.scan(**kwargs)
        for item in page.get("Items", []):
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            if sk == ACCOUNT_SK:
                accounts[pk] = Balances(*(_number(item, f) for f in _FIELDS))
            elif sk.startswith(ENTRY_PREFIX):
                entries[pk].append(Balances(*(_number(item, f"d_{f}") for f in _FIELDS)))
        if "LastEvaluatedKey" not in page:
            return accounts, entries
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def find_differences(segments: int = 4) -> tuple[int, list[Difference]]:
    """(members checked, their differences). A member with entries but no account is a difference too."""
    accounts: dict[str, Balances] = {}
    entries: dict[str, list[Balances]] = defaultdict(list)
    with ThreadPoolExecutor(max_workers=segments) as pool:
        for seg_accounts, seg_entries in pool.map(lambda s: _scan_segment(s, segments), range(segments)):
            accounts.update(seg_accounts)
            for pk, deltas in seg_entries.items():
                entries[pk].extend(deltas)
    differences = []
    for pk in sorted(set(accounts) | set(entries)):
        difference = reconcile(pk.removeprefix("MEMBER#"), accounts.get(pk, Balances()), entries.get(pk, []))
        if difference is not None:
            differences.append(difference)
    return len(set(accounts) | set(entries)), differences
