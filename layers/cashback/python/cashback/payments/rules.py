"""The operator's own products earn more, and are confirmed by the operator itself within a day:
its payment events are completed payments, so their cashback is credited as accrued at once - except
goods from the operator's online store (`store`), which can be returned for 14 days: their cashback is
pending until the return window has passed, then a daily job accrues it.

A payment id belongs to the member it was first credited to; a refund (`refund_id`, whole or partial)
takes back the cashback of the refunded amount at the payment's rate, never more than the payment earned
in all, once per refund. Amounts past the sanity ceiling are never credited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from cashback.ledger.money import SANITY_CEILING, Bonus, cashback, format_amount, parse_rate_percent
from cashback.ledger.rules import Accrue, Credit, Debit, Kind, RecordPending, Reject, Reprice, Source
from cashback.platform.errors import InvalidInput


class Product(StrEnum):
    TARIFF = "tariff"  # communication services: half the monthly fee
    STORE = "store"  # the operator's online store
    CONTENT = "content"  # paid content services
    WALLET = "wallet"  # the e-wallet: every payment, bills and subscriptions included
    CARD = "card"  # the operator's bank card: every card purchase


DEFAULT_RATES = "tariff=50,store=50,content=30,wallet=1,card=5"
# PRODUCT.md: goods bought in the operator's online store can be returned within 14 days.
RETURN_WINDOW = timedelta(days=14)
WITH_RETURN_WINDOW = frozenset({Product.STORE})


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


def payment_transaction(payment_id: str) -> str:
    """The member's transaction of a payment's cashback (also the id of the operation that recorded it)."""
    return f"payment:{payment_id}"


def credit(payment: Payment, rate: Decimal) -> Credit | RecordPending:
    """Accrued at once, or pending until the return window has passed for goods that can be returned."""
    operation_id = payment_transaction(payment.payment_id)
    reason = f"Cashback on the operator's {payment.product.value} payment"
    amount = cashback(payment.amount, rate)
    source = Source("payment", payment.payment_id)
    details = {
        "partner_id": f"operator-{payment.product.value}",
        "order_amount": format_amount(payment.amount),
        "rate": str(rate),
    }
    if payment.product in WITH_RETURN_WINDOW:
        return RecordPending(
            operation_id=operation_id,
            transaction_id=operation_id,
            reason=reason,
            at=payment.occurred_at,
            kind=Kind.PURCHASE,
            amount=amount,
            source=source,
            expected_at=matures_at(payment),
            details=details,
        )
    return Credit(
        operation_id=operation_id,
        transaction_id=operation_id,
        reason=reason,
        at=payment.occurred_at,
        kind=Kind.PURCHASE,
        amount=amount,
        source=source,
        details=details,
    )


def matures_at(payment: Payment) -> datetime:
    """When the return window has passed, in UTC."""
    return payment.occurred_at.astimezone(UTC) + RETURN_WINDOW


def maturity_day(at: datetime) -> date:
    """The UTC day the maturity index files a payment under (`MATURES#<day>`)."""
    return at.astimezone(UTC).date()


# The daily job reads today's day and this many before it, so that a run that was missed (or failed every
# retry) is caught up by the next ones.
CATCH_UP_DAYS = 7


def days_to_mature(now: datetime) -> list[date]:
    today = maturity_day(now)
    return [today - timedelta(days=back) for back in range(CATCH_UP_DAYS, -1, -1)]


def accrue(payment_id: str, now: datetime) -> Accrue:
    """The return window has passed: the pending cashback becomes available. Its operation id is the
    payment's own, so that a second run (or a redelivery) finds its entry and changes nothing."""
    return Accrue(
        operation_id=f"matured:{payment_id}",
        transaction_id=payment_transaction(payment_id),
        reason="Cashback on the operator's store payment: the return window has passed",
        at=now,
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
    def of(cls, payment: Payment, member_id: str, rate: Decimal, credited: Credit | RecordPending) -> CreditedPayment:
        return cls(payment.payment_id, member_id, payment.product, payment.amount, rate, credited.amount)


@dataclass(frozen=True)
class Maturing:
    """A store payment filed under the day its return window ends, for the daily job to accrue."""

    payment_id: str
    member_id: str
    matures_at: datetime


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


def refund_operation(refund: Refund) -> str:
    """One operation per refund, whichever way it takes back: a repeat finds its entry either way."""
    return f"refund:{refund.refund_id}"


def take_back_pending(refund: Refund, pending: Bonus, amount: Bonus) -> Reprice | Reject:
    """A refund within the return window lowers the pending cashback to what is left; nothing left rejects
    it (the purchase reads rejected, as a partner's declined order does)."""
    operation_id, transaction_id = refund_operation(refund), payment_transaction(refund.payment_id)
    reason = f"The operator's {refund.product.value} payment was refunded within the return window"
    left = pending - amount
    if left <= 0:
        return Reject(operation_id=operation_id, transaction_id=transaction_id, reason=reason, at=refund.occurred_at)
    return Reprice(
        operation_id=operation_id, transaction_id=transaction_id, reason=reason, at=refund.occurred_at, amount=left
    )


def take_back(refund: Refund, amount: Bonus) -> Debit:
    operation_id = refund_operation(refund)
    return Debit(
        operation_id=operation_id,
        transaction_id=operation_id,
        reason=f"Cashback taken back: the operator's {refund.product.value} payment was refunded",
        at=refund.occurred_at,
        kind=Kind.PURCHASE,
        amount=amount,
        source=Source("refund", refund.refund_id),
    )
