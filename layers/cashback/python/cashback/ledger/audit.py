"""Invariant 2: a member's balances always equal the sum of their ledger entries. And the settlement
index: a member is listed as a candidate exactly when they have bonuses available."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cashback.ledger.rules import Balances


@dataclass(frozen=True)
class Difference:
    member_id: str
    account: Balances
    entries: Balances

    @property
    def gap(self) -> Balances:
        return self.account - self.entries


def reconcile(member_id: str, account: Balances, entries: Iterable[Balances]) -> Difference | None:
    total = Balances()
    for delta in entries:
        total = total + delta
    return None if total == account else Difference(member_id, account, total)


@dataclass(frozen=True)
class ListingMismatch:
    """A member the monthly run would miss (available, not listed) or visit for nothing (listed, nothing
    available). The ledger keeps both in one transaction, so either means a write that bypassed it, or
    balances older than the index that need a backfill."""

    member_id: str
    available: int
    listed: bool


def check_listing(member_id: str, available: int, listed: bool) -> ListingMismatch | None:
    return None if (available > 0) == listed else ListingMismatch(member_id, available, listed)
