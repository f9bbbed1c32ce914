"""Reads the whole ledger table once, in parallel segments, and checks every member's account against
their entries and against the settlement candidates.

An offline audit, never on a request path: it scans. Each segment sums the entries of the partitions it
sees; a partition may span segments, so sums are merged before the comparison.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cashback.ledger.audit import Difference, ListingMismatch, check_listing, reconcile
from cashback.ledger.repository import ACCOUNT_SK, CANDIDATE_PREFIX, ENTRY_PREFIX
from cashback.ledger.rules import Balances

_FIELDS = ("available", "pending", "written_off", "debt")


def _number(item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value else 0


def _scan_segment(
    client: Any, table_name: str, segment: int, total: int
) -> tuple[dict[str, Balances], dict[str, list[Balances]], set[str]]:
    accounts: dict[str, Balances] = {}
    entries: dict[str, list[Balances]] = defaultdict(list)
    listed: set[str] = set()
    kwargs: dict[str, Any] = {"TableName": table_name, "Segment": segment, "TotalSegments": total}
    while True:
        page = client.scan(**kwargs)
        for item in page.get("Items", []):
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            if sk == ACCOUNT_SK:
                accounts[pk] = Balances(*(_number(item, f) for f in _FIELDS))
            elif sk.startswith(ENTRY_PREFIX):
                entries[pk].append(Balances(*(_number(item, f"d_{f}") for f in _FIELDS)))
            elif pk.startswith(CANDIDATE_PREFIX):
                listed.add(sk)  # the member's partition key
        if "LastEvaluatedKey" not in page:
            return accounts, entries, listed
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def find_differences(client: Any, table_name: str, segments: int = 4) -> tuple[int, list[Difference | ListingMismatch]]:
    """(members checked, what disagrees). A member with entries but no account is a difference too."""
    accounts: dict[str, Balances] = {}
    entries: dict[str, list[Balances]] = defaultdict(list)
    listed: set[str] = set()
    with ThreadPoolExecutor(max_workers=segments) as pool:
        for seg_accounts, seg_entries, seg_listed in pool.map(
            lambda s: _scan_segment(client, table_name, s, segments), range(segments)
        ):
            accounts.update(seg_accounts)
            listed |= seg_listed
            for pk, deltas in seg_entries.items():
                entries[pk].extend(deltas)
    members = set(accounts) | set(entries)
    found: list[Difference | ListingMismatch] = []
    for pk in sorted(members | listed):
        member_id = pk.removeprefix("MEMBER#")
        difference = reconcile(member_id, accounts.get(pk, Balances()), entries.get(pk, []))
        mismatch = check_listing(member_id, accounts.get(pk, Balances()).available, pk in listed)
        found += [d for d in (difference, mismatch) if d is not None]
    return len(members), found
