"""Payment events from the operator's bus: cashback on its own products, once per payment id."""

from __future__ import annotations

from enum import StrEnum

from cashback.ledger.repository import ledger
from cashback.members.repository import members
from cashback.members.rules import normalise_phone
from cashback.payments.rules import DEFAULT_RATES, Payment, credit, parse_rates
from cashback.platform.config import settings


class PaymentOutcome(StrEnum):
    CREDITED = "credited"
    REPEAT = "repeat"
    NOT_A_MEMBER = "not_a_member"
    NOTHING_EARNED = "nothing_earned"  # foreign currency, or under one bonus


def receive_payment(payment: Payment) -> PaymentOutcome:
    member_id = members().member_by_phone(normalise_phone(payment.phone))
    if member_id is None:
        return PaymentOutcome.NOT_A_MEMBER
    rate = parse_rates(settings().own_product_rates or DEFAULT_RATES).get(payment.product)
    if rate is None or payment.currency != "RUB":
        return PaymentOutcome.NOTHING_EARNED
    command = credit(payment, rate)
    if command.amount == 0:
        return PaymentOutcome.NOTHING_EARNED
    outcome = ledger().execute(member_id, command)
    return PaymentOutcome.CREDITED if outcome.applied else PaymentOutcome.REPEAT
