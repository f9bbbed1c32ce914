"""The operator's own products earn more, and are confirmed by the operator itself within a day:
its payment events are completed payments, so their cashback is credited as accrued at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from cashback.ledger.money import cashback, format_amount, parse_rate_percent
from cashback.ledger.rules import Credit, Kind, Source
from cashback.platform.errors import InvalidInput


class Product(StrEnum):
    TARIFF = "tariff"  # communication services: half the monthly fee
    STORE = "store"  # the operator's online store
    CONTENT = "content"  # paid content services
    WALLET = "wallet"  # the e-wallet: every payment, bills and subscriptions included


DEFAULT_RATES = "tariff=50,store=50,content=30,wallet=1"


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
