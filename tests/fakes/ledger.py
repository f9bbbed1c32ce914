"""An in-memory ledger with the real one's semantics (deterministic operation ids, the same `decide`),
for property tests that play thousands of sequences without a database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from cashback.ledger.plans import ItemKey, Planned, Planner, RawItem, View, version_of
from cashback.ledger.repository import Attachments, LedgerBusy, Outcome, Snapshot
from cashback.ledger.rules import Balances, Command, Transaction, decide


class Crash(Exception):
    """The process died between an operation's read and its write: nothing was written."""


class MemoryLedger:
    table_name = "memory-ledger"

    def __init__(self) -> None:
        self.accounts: dict[str, Balances] = defaultdict(Balances)
        self.entries: dict[str, dict[str, Balances]] = defaultdict(dict)
        self.txns: dict[str, dict[str, Transaction]] = defaultdict(dict)
        self.records: dict[ItemKey, RawItem] = {}
        self.versions: dict[str, int] = defaultdict(int)  # the account item's version, as DynamoDB's condition
        # Runs once between an operation's read and its write: a test's concurrent writer, or a crash.
        self.between_read_and_write: Callable[[], None] | None = None
        self.writes = 0

    def operate(
        self, member_id: str, transaction_ids: Sequence[str], records: Sequence[ItemKey], plan: Planner[Any]
    ) -> Planned[Any]:
        """As `Ledger.operate`: decided on a snapshot, written only if nothing it read changed meanwhile."""
        for _ in range(10):
            version = self.versions[member_id]
            read_txns = {t: self.txns[member_id].get(t) for t in transaction_ids}
            read_records = {k: self.records.get(k) for k in records}
            planned = plan(View(self.accounts[member_id], read_txns, read_records))
            balances = self.accounts[member_id]
            current = dict(read_txns)
            decided = []
            for cmd in planned.commands:
                decision = decide(cmd, balances, current.get(cmd.transaction_id))
                if decision is not None:
                    balances = balances + decision.delta
                    current[cmd.transaction_id] = decision.transaction
                    decided.append((cmd, decision))
            if not decided and not planned.records:
                return Planned(planned.result, {}, balances)
            hook, self.between_read_and_write = self.between_read_and_write, None
            if hook is not None:
                hook()
            stored = self.txns[member_id]
            stale_account = bool(decided) and self.versions[member_id] != version
            stale_txns = any(stored.get(c.transaction_id) != read_txns[c.transaction_id] for c, _ in decided)
            stale_records = any(
                (r.key in self.records)
                if r.read_version is None
                else version_of(self.records.get(r.key)) != r.read_version
                for r in planned.records
            )
            repeated = any(c.operation_id in self.entries[member_id] for c, _ in decided)
            if stale_account or stale_txns or stale_records or repeated:
                continue  # DynamoDB cancels the write; the operation is planned again on fresh state
            self.writes += 1
            changed = {}
            for cmd, decision in decided:
                self.entries[member_id][cmd.operation_id] = decision.delta
                self.txns[member_id][cmd.transaction_id] = changed[cmd.transaction_id] = decision.transaction
            if decided:
                self.accounts[member_id] = balances
                self.versions[member_id] += 1
            for record in planned.records:
                self.records[record.key] = {**record.attributes, "version": {"N": str((record.read_version or 0) + 1)}}
            return Planned(planned.result, changed, balances)
        raise LedgerBusy("the account is changing too fast; try again")

    def execute(
        self, member_id: str, cmd: Command, attachments: Attachments = (), *, known: Snapshot | None = None
    ) -> Outcome:
        """As `Ledger.execute`; there is no table here, so attachments are not written and `known` is not needed."""
        balances = self.accounts[member_id]
        existing = self.txns[member_id].get(cmd.transaction_id)
        if cmd.operation_id in self.entries[member_id]:
            return Outcome(False, existing, balances)
        decision = decide(cmd, balances, existing)
        if decision is None:
            return Outcome(False, existing, balances)
        self.entries[member_id][cmd.operation_id] = decision.delta
        self.versions[member_id] += 1
        self.accounts[member_id] = balances + decision.delta
        self.txns[member_id][cmd.transaction_id] = decision.transaction
        return Outcome(True, decision.transaction, self.accounts[member_id])

    def balances(self, member_id: str) -> Balances:
        return self.accounts[member_id]

    def transaction(self, member_id: str, transaction_id: str) -> Transaction | None:
        return self.txns[member_id].get(transaction_id)

    def sum_of_entries(self, member_id: str) -> Balances:
        total = Balances()
        for delta in self.entries[member_id].values():
            total = total + delta
        return total
