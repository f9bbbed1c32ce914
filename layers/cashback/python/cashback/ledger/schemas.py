from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from cashback.ledger.balance import BalanceView
from cashback.ledger.rules import Kind, Status, Transaction


class ExpectedOut(BaseModel):
    date: date
    amount: int


class BalanceOut(BaseModel):
    available: int
    pending: int
    written_off: int
    debt: int = Field(description="Bonuses reversed after they were spent; repaid from future accruals first.")
    next_settlement_at: datetime
    expected: list[ExpectedOut]

    @classmethod
    def of(cls, view: BalanceView) -> BalanceOut:
        b = view.balances
        return cls(
            available=b.available,
            pending=b.pending,
            written_off=b.written_off,
            debt=b.debt,
            next_settlement_at=view.next_settlement_at,
            expected=[ExpectedOut(date=e.date, amount=e.amount) for e in view.expected],
        )


class TransactionOut(BaseModel):
    transaction_id: str
    kind: Kind
    status: Status
    amount: int
    partner_id: str | None = None
    order_amount: str | None = None
    rate: str | None = None
    reason: str
    created_at: datetime
    expected_at: datetime | None = None
    updated_at: datetime

    @classmethod
    def of(cls, txn: Transaction) -> TransactionOut:
        return cls(
            transaction_id=txn.transaction_id,
            kind=txn.kind,
            status=txn.status,
            amount=txn.amount,
            partner_id=txn.details.get("partner_id"),
            order_amount=txn.details.get("order_amount"),
            rate=txn.details.get("rate"),
            reason=txn.reason,
            created_at=txn.created_at,
            expected_at=txn.expected_at,
            updated_at=txn.updated_at,
        )


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    next_cursor: str | None


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: str = Field(min_length=1, max_length=128)
    amount: StrictInt = Field(description="Whole bonuses: positive credits, negative debits.")
    reason: str = Field(min_length=1, max_length=500)


class AdjustmentOut(BaseModel):
    member_id: str
    applied: bool = Field(description="False when this idempotency key was already used: nothing changed again.")
    transaction: TransactionOut
    available: int
    debt: int
