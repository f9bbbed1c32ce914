"""What the member sees of their account: balances, and when pending bonuses are expected."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from cashback.ledger.calendar import MOSCOW, next_settlement_at
from cashback.ledger.rules import Balances, Transaction


@dataclass(frozen=True)
class Expected:
    date: date
    amount: int


@dataclass(frozen=True)
class BalanceView:
    balances: Balances
    next_settlement_at: datetime
    expected: list[Expected]


def balance_view(balances: Balances, pending: Iterable[Transaction], now: datetime) -> BalanceView:
    by_date: dict[date, int] = defaultdict(int)
    for txn in pending:
        if txn.expected_at is not None:
            by_date[txn.expected_at.astimezone(MOSCOW).date()] += txn.amount
    expected = [Expected(day, amount) for day, amount in sorted(by_date.items())]
    return BalanceView(balances, next_settlement_at(now), expected)
