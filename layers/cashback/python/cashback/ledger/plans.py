"""A ledger operation that other contexts plan: one read of the member's account, the transactions it
concerns and the other contexts' records it depends on; one atomic write of whatever the plan decided.

A conversion's postback is the case it was made for: the click, the conversion's latest state, the
delivery's record, the purchase and the first-purchase bonus are read together, and the purchase's
move, the bonus's, the conversion's new state and the delivery's record are written together. The
plan is a function of what was read, run again on fresh state when a concurrent writer got there first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cashback.ledger.rules import Balances, Command, Transaction

T = TypeVar("T")

# An item as DynamoDB stores it ({"name": {"S": "..."}}): records of other contexts stay in their own shape.
RawItem = dict[str, Any]


@dataclass(frozen=True)
class ItemKey:
    table: str
    pk: str
    sk: str


@dataclass(frozen=True)
class Record:
    """An item of another context written with the change: new when `read_version` is None, else only if
    it is still at the version the plan read (it is written at the next one)."""

    key: ItemKey
    attributes: RawItem
    read_version: int | None = None


@dataclass(frozen=True)
class View:
    """What a plan decides on, read as one snapshot."""

    balances: Balances
    transactions: Mapping[str, Transaction | None]
    records: Mapping[ItemKey, RawItem | None]


@dataclass(frozen=True)
class Plan(Generic[T]):
    """Ledger commands decided in order on the running balances (each its own entry), the records that
    go with them, and what the caller makes of it. No commands and no records: nothing is written."""

    result: T
    commands: Sequence[Command] = ()
    records: Sequence[Record] = ()


@dataclass(frozen=True)
class Planned(Generic[T]):
    result: T
    changed: Mapping[str, Transaction] = field(default_factory=dict)  # the transactions that moved
    balances: Balances = field(default_factory=Balances)


Planner = Callable[[View], Plan[T]]


def version_of(item: RawItem | None) -> int | None:
    return int(item["version"]["N"]) if item is not None and "version" in item else None
