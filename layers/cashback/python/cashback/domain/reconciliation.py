"""Invariant 2: a member's balances always equal the sum of their ledger entries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cashback.domain.ledger import Balances


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
