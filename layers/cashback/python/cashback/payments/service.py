"""Payment events from the operator's bus: cashback on its own products, once per payment id."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from cashback.ledger.repository import Ledger
from cashback.members.rules import normalise_phone
from cashback.payments.rules import DEFAULT_RATES, Payment, credit, parse_rates


class PaymentOutcome(StrEnum):
    CREDITED = "credited"
    REPEAT = "repeat"
    NOT_A_MEMBER = "not_a_member"
    NOTHING_EARNED = "nothing_earned"  # foreign currency, or under one bonus


class MembersByPhone(Protocol):
    def member_by_phone(self, phone: str) -> str | None: ...


class PaymentService:
    def __init__(self, ledger: Ledger, members: MembersByPhone, *, own_product_rates: str = "") -> None:
        self._ledger = ledger
        self._members = members
        self._rates = parse_rates(own_product_rates or DEFAULT_RATES)  # checked once, at cold start

    def receive_payment(self, payment: Payment) -> PaymentOutcome:
        member_id = self._members.member_by_phone(normalise_phone(payment.phone))
        if member_id is None:
            return PaymentOutcome.NOT_A_MEMBER
        rate = self._rates.get(payment.product)
        if rate is None or payment.currency != "RUB":
            return PaymentOutcome.NOTHING_EARNED
        command = credit(payment, rate)
        if command.amount == 0:
            return PaymentOutcome.NOTHING_EARNED
        outcome = self._ledger.execute(member_id, command)
        return PaymentOutcome.CREDITED if outcome.applied else PaymentOutcome.REPEAT
