"""Welcome bonuses: each is credited once per member, by a rule whose id makes the ledger operation's id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cashback.ledger.rules import Credit, Kind, Source


@dataclass(frozen=True)
class BonusRule:
    rule_id: str
    amount: int
    reason: str

    def credit(self, at: datetime) -> Credit:
        operation_id = f"bonus:{self.rule_id}"
        return Credit(
            operation_id=operation_id,
            transaction_id=operation_id,
            reason=self.reason,
            at=at,
            kind=Kind.BONUS,
            amount=self.amount,
            source=Source("bonus_rule", self.rule_id),
        )


EMAIL_CONFIRMED = BonusRule("email_confirmed", 15, "Email address confirmed")
PROFILE_COMPLETED = BonusRule("profile_completed", 30, "Profile completed")
# The first-purchase bonus is not credited by a rule: it follows its purchase (postbacks/conversions.py).
