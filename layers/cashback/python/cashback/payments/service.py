"""Payment events from the operator's bus: cashback on its own products, once per payment id and for one
member only; refunds take the cashback of what was refunded back, once per refund id."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from cashback.ledger.repository import Ledger
from cashback.members.rules import normalise_phone
from cashback.payments.repository import PaymentRepository
from cashback.payments.rules import (
    DEFAULT_RATES,
    CreditedPayment,
    Payment,
    Refund,
    credit,
    over_ceiling,
    parse_rates,
    take_back,
    to_take_back,
)
from cashback.platform.errors import Conflict

# A refund's take-back races only other refunds of the same payment: a few retries settle it.
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
        bound = self._payments.bind(CreditedPayment.of(payment, member_id, rate, command))
        try:
            # A repeat for the same member is recognised by the ledger's own read; the id's record refuses only
            # another member (or a concurrent first delivery), so it is read only then.
            outcome = self._ledger.execute(member_id, command, attachments=[bound])
        except Conflict:
            known = self._payments.get(payment.payment_id)
            if known is not None and known.member_id != member_id:
                return PaymentOutcome.OTHER_MEMBER
            return PaymentOutcome.REPEAT
        return PaymentOutcome.CREDITED if outcome.applied else PaymentOutcome.REPEAT

    def receive_refund(self, refund: Refund) -> PaymentOutcome:
        """Takes back the cashback of the refunded amount from the payment's member (debt if spent)."""
        for _ in range(REFUND_ATTEMPTS):
            credited = self._payments.get(refund.payment_id)
            if credited is None:
                return PaymentOutcome.UNKNOWN_PAYMENT
            if self._ledger.transaction(credited.member_id, f"refund:{refund.refund_id}") is not None:
                return PaymentOutcome.REPEAT
            amount = to_take_back(credited, refund)
            if amount == 0:
                return PaymentOutcome.NOTHING_EARNED
            attached = [self._payments.take_back(credited, amount)]
            try:
                outcome = self._ledger.execute(credited.member_id, take_back(refund, amount), attachments=attached)
            except Conflict:
                continue  # another refund of this payment counted first: price this one again
            return PaymentOutcome.TAKEN_BACK if outcome.applied else PaymentOutcome.REPEAT
        raise Conflict("the payment's refunds keep changing; try again", code="refund_conflict")
