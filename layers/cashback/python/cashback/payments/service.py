"""Payment events from the operator's bus: cashback on its own products, once per payment id and for one
member only; refunds take the cashback of what was refunded back, once per refund id. Store payments stay
pending through their return window; `mature` (the daily job) accrues those whose window has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Command, RecordPending, Status
from cashback.members.rules import normalise_phone
from cashback.payments.repository import PaymentRepository
from cashback.payments.rules import (
    DEFAULT_RATES,
    WITH_RETURN_WINDOW,
    CreditedPayment,
    Maturing,
    Payment,
    Refund,
    accrue,
    credit,
    days_to_mature,
    matures_at,
    over_ceiling,
    parse_rates,
    payment_transaction,
    take_back,
    take_back_pending,
    to_take_back,
)
from cashback.platform.errors import Conflict, NotFound

# A refund's take-back races other refunds of the same payment, and once the maturity job: a few retries
# settle it.
REFUND_ATTEMPTS = 5


class PaymentOutcome(StrEnum):
    CREDITED = "credited"
    REPEAT = "repeat"
    NOT_A_MEMBER = "not_a_member"
    NOTHING_EARNED = "nothing_earned"  # foreign currency, or under one bonus
    OVER_CEILING = "over_ceiling"  # past the sanity ceiling: kept for support (logged), never credited
    OTHER_MEMBER = "other_member"  # this payment id was credited to someone else: changes nothing
    TAKEN_BACK = "taken_back"
    UNKNOWN_PAYMENT = "unknown_payment"  # a refund of a payment that earned nothing here


@dataclass(frozen=True)
class MaturityReport:
    accrued: int = 0  # pending cashback that became available
    unchanged: int = 0  # nothing left to accrue: a repeat, or refunded in full within the window
    waiting: int = 0  # filed under today, window not yet passed: the next run takes them
    failed: int = 0  # left filed: the next run (or Lambda's retry) tries them again


class MembersByPhone(Protocol):
    def member_by_phone(self, phone: str) -> str | None: ...


class PaymentService:
    def __init__(
        self, ledger: Ledger, members: MembersByPhone, payments: PaymentRepository, *, own_product_rates: str = ""
    ) -> None:
        self._ledger = ledger
        self._members = members
        self._payments = payments
        self._rates = parse_rates(own_product_rates or DEFAULT_RATES)  # checked once, at cold start

    def receive_payment(self, payment: Payment) -> PaymentOutcome:
        member_id = self._members.member_by_phone(normalise_phone(payment.phone))
        if member_id is None:
            return PaymentOutcome.NOT_A_MEMBER
        rate = self._rates.get(payment.product)
        if rate is None or payment.currency != "RUB":
            return PaymentOutcome.NOTHING_EARNED
        if over_ceiling(payment.amount):
            return PaymentOutcome.OVER_CEILING
        command = credit(payment, rate)
        if command.amount == 0:
            return PaymentOutcome.NOTHING_EARNED
        attached = [self._payments.bind(CreditedPayment.of(payment, member_id, rate, command))]
        if isinstance(command, RecordPending):
            attached.append(self._payments.file_maturing(Maturing(payment.payment_id, member_id, matures_at(payment))))
        try:
            # A repeat for the same member is recognised by the ledger's own read; the id's record refuses only
            # another member (or a concurrent first delivery), so it is read only then.
            outcome = self._ledger.execute(member_id, command, attachments=attached)
        except Conflict:
            known = self._payments.get(payment.payment_id)
            if known is not None and known.member_id != member_id:
                return PaymentOutcome.OTHER_MEMBER
            return PaymentOutcome.REPEAT
        return PaymentOutcome.CREDITED if outcome.applied else PaymentOutcome.REPEAT

    def receive_refund(self, refund: Refund) -> PaymentOutcome:
        """Takes back the cashback of the refunded amount from the payment's member: from the pending amount
        while the return window lasts, else from available (debt if spent)."""
        for _ in range(REFUND_ATTEMPTS):
            credited = self._payments.get(refund.payment_id)
            if credited is None:
                return PaymentOutcome.UNKNOWN_PAYMENT
            if self._ledger.transaction(credited.member_id, f"refund:{refund.refund_id}") is not None:
                return PaymentOutcome.REPEAT
            amount = to_take_back(credited, refund)
            if amount == 0:
                return PaymentOutcome.NOTHING_EARNED
            command: Command = take_back(refund, amount)
            pending = False
            if credited.product in WITH_RETURN_WINDOW:
                # Read without consistency: a stale "pending" is corrected below by the ledger's own read, and
                # the transaction is missing only until the payment's own write shows (the same transaction).
                earned = self._ledger.transaction(credited.member_id, payment_transaction(refund.payment_id))
                if earned is None:
                    continue
                pending = earned.status is Status.PENDING
                if pending:
                    # The payment record and the pending amount move together, so what is left is the record's.
                    command = take_back_pending(refund, credited.cashback - credited.taken_back, amount)
            attached = [self._payments.take_back(credited, amount)]
            try:
                outcome = self._ledger.execute(credited.member_id, command, attachments=attached)
            except Conflict:
                continue  # another refund of this payment counted first: price this one again
            if outcome.applied:
                return PaymentOutcome.TAKEN_BACK
            if pending and outcome.transaction is not None and outcome.transaction.status is not Status.PENDING:
                # The window closed (the job accrued it) between our read and our write: take it back from
                # what was accrued instead. A repeat of this refund is still found by its entry there.
                continue
            return PaymentOutcome.REPEAT
        raise Conflict("the payment's refunds keep changing; try again", code="refund_conflict")

    def mature(self, now: datetime | None = None) -> MaturityReport:
        """Accrues the pending cashback of every store payment whose return window has passed by `now`,
        reading only the maturity index's partitions of the last few days (a missed run is caught up)."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        counts = {"accrued": 0, "unchanged": 0, "waiting": 0, "failed": 0}
        for day in days_to_mature(now):
            for maturing in self._payments.maturing_on(day):
                counts[self._mature_one(maturing, now)] += 1
        return MaturityReport(**counts)

    def _mature_one(self, maturing: Maturing, now: datetime) -> str:
        if maturing.matures_at > now:
            return "waiting"
        # The index item is deleted after the accrual, not in its transaction: pynamodb sends a transaction's
        # deletes ahead of its puts, and the ledger reads the cancellation reasons by position (its entry
        # first), so a delete attached to it would turn a lost race into a refusal instead of a retry. A crash
        # in between leaves the item; the next run's accrual finds its entry, changes nothing, and deletes it.
        try:
            outcome = self._ledger.execute(maturing.member_id, accrue(maturing.payment_id, now))
        except NotFound:
            outcome = None  # no transaction to accrue: nothing to do but forget the item
        except Conflict:
            return "failed"
        self._payments.unfile(maturing)
        return "accrued" if outcome is not None and outcome.applied else "unchanged"
