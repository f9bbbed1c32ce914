"""The ledger as members and the back office use it: balances, history, adjustments by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from ulid import ULID

from cashback.ledger.balance import BalanceView, balance_view
from cashback.ledger.repository import Ledger, Outcome
from cashback.ledger.rules import Credit, Debit, Kind, Source, Status, Transaction
from cashback.platform.errors import InvalidInput, NotFound
from cashback.platform.pagination import Page

MAX_ADJUSTMENT = 1_000_000


class EnrolledMembers(Protocol):
    def is_enrolled(self, member_id: str) -> bool: ...


class LedgerService:
    def __init__(self, ledger: Ledger, members: EnrolledMembers) -> None:
        self._ledger = ledger
        self._members = members

    def balance(self, member_id: str, *, now: datetime | None = None) -> BalanceView:
        return balance_view(self._ledger.balances(member_id), self._ledger.pending(member_id), now or datetime.now(UTC))

    def history(
        self, member_id: str, status: Status | None, limit: int | None, cursor: str | None
    ) -> Page[Transaction]:
        return self._ledger.transactions(member_id, status=status, limit=limit, cursor=cursor)

    def adjust(
        self,
        member_id: str,
        amount: int,
        reason: str,
        *,
        actor: str,
        idempotency_key: str | None = None,
        now: datetime | None = None,
    ) -> Outcome:
        """Credits (or, negative, debits) a member by hand. A debit beyond the available balance is debt.

        With an idempotency key a retried request applies once; without one every request is a new adjustment.
        """
        if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
            raise InvalidInput(f"an adjustment is a non-zero amount up to {MAX_ADJUSTMENT}", code="invalid_amount")
        if not self._members.is_enrolled(member_id):
            raise NotFound(f"member {member_id} is not enrolled", code="member_not_found")
        key = idempotency_key or str(ULID())
        operation_id = f"adjustment:{key}"
        source = Source("adjustment", key)
        at = now or datetime.now(UTC)
        if amount > 0:
            cmd: Credit | Debit = Credit(
                operation_id=operation_id,
                transaction_id=operation_id,
                reason=reason,
                at=at,
                actor=actor,
                kind=Kind.ADJUSTMENT,
                amount=amount,
                source=source,
            )
        else:
            cmd = Debit(
                operation_id=operation_id,
                transaction_id=operation_id,
                reason=reason,
                at=at,
                actor=actor,
                kind=Kind.ADJUSTMENT,
                amount=-amount,
                source=source,
            )
        return self._ledger.execute(member_id, cmd)
