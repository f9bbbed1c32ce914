"""An in-memory ledger with the real one's semantics (deterministic operation ids, the same `decide`),
for property tests that play thousands of sequences without a database."""

from __future__ import annotations

from collections import defaultdict

from cashback.ledger.repository import Attachments, Outcome, Snapshot
from cashback.ledger.rules import Balances, Command, Transaction, decide


class MemoryLedger:
    def __init__(self) -> None:
        self.accounts: dict[str, Balances] = defaultdict(Balances)
        self.entries: dict[str, dict[str, Balances]] = defaultdict(dict)
        self.txns: dict[str, dict[str, Transaction]] = defaultdict(dict)

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
