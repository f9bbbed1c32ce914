"""The operator's own products earn more, and are confirmed by the operator itself within a day:
its payment events are completed payments, so their cashback is credited as accrued at once.

A payment id belongs to the member it was first credited to; a refund (`refund_id`, whole or partial)
takes back the cashback of the refunded amount at the payment's rate, never more than the payment earned
in all, once per refund. Amounts past the sanity ceiling are never credited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from cashback.ledger.money import SANITY_CEILING, Bonus, cashback, format_amount, parse_rate_percent
from cashback.ledger.rules import Credit, Debit, Kind, Source
from cashback.platform.errors import InvalidInput


class Product(StrEnum):
    TARIFF = "tariff"  # communication services: half the monthly fee
    STORE = "store"  # the operator's online store
    CONTENT = "content"  # paid content services
    WALLET = "wallet"  # the e-wallet: every payment, bills and subscriptions included
    CARD = "card"  # the operator's bank card: every card purchase


DEFAULT_RATES = "tariff=50,store=50,content=30,wallet=1,card=5"


def parse_rates(text: str) -> dict[Product, Decimal]:
    rates: dict[Product, Decimal] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        name, _, rate = pair.partition("=")
        try:
            product = Product(name.strip())
        except ValueError:
            raise InvalidInput(f"unknown own product {name!r}", code="invalid_configuration") from None
        rates[product] = parse_rate_percent(rate)
    return rates


@dataclass(frozen=True)
class Payment:
    payment_id: str
    phone: str
    product: Product
    amount: Decimal
    currency: str
    occurred_at: datetime


def credit(payment: Payment, rate: Decimal) -> Credit:
    operation_id = f"payment:{payment.payment_id}"
    return Credit(
        operation_id=operation_id,
        transaction_id=operation_id,
        reason=f"Cashback on the operator's {payment.product.value} payment",
        at=payment.occurred_at,
        kind=Kind.PURCHASE,
        amount=cashback(payment.amount, rate),
        source=Source("payment", payment.payment_id),
        details={
            "partner_id": f"operator-{payment.product.value}",
            "order_amount": format_amount(payment.amount),
            "rate": str(rate),
        },
    )


@dataclass(frozen=True)
class CreditedPayment:
    """What a payment earned, kept with its id so that refunds are priced as it was and it stays one member's."""

    payment_id: str
    member_id: str
    product: Product
    amount: Decimal
    rate: Decimal
    cashback: Bonus
    taken_back: Bonus = 0

    @classmethod
    def of(cls, payment: Payment, member_id: str, rate: Decimal, credited: Credit) -> CreditedPayment:
        return cls(payment.payment_id, member_id, payment.product, payment.amount, rate, credited.amount)


@dataclass(frozen=True)
class Refund:
    refund_id: str
    payment_id: str
    phone: str
    product: Product
    amount: Decimal
    currency: str
    occurred_at: datetime


def over_ceiling(amount: Decimal) -> bool:
    return amount > SANITY_CEILING


def to_take_back(credited: CreditedPayment, refund: Refund) -> Bonus:
    """The cashback of the refunded amount at the payment's rate, within what the payment has left; a whole
    refund takes back everything left, whatever rounding the parts had."""
    left = credited.cashback - credited.taken_back
    if refund.amount >= credited.amount:
        return left
    return min(cashback(refund.amount, credited.rate), left)


def take_back(refund: Refund, amount: Bonus) -> Debit:
    operation_id = f"refund:{refund.refund_id}"
    return Debit(
        operation_id=operation_id,
        transaction_id=operation_id,
        reason=f"Cashback taken back: the operator's {refund.product.value} payment was refunded",
        at=refund.occurred_at,
        kind=Kind.PURCHASE,
        amount=amount,
        source=Source("refund", refund.refund_id),
    )
