"""Credited payments, in the ledger table: `PAYMENT#<payment id>` / `PAYMENT`, one item per payment id.

Written in the same transaction as the payment's credit, on condition that the id is new: the first
member a payment id is credited to keeps it. A refund's take-back updates `taken_back` in the same
transaction as its debit, on condition that no other refund moved it meanwhile.
"""

from __future__ import annotations

from decimal import Decimal

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.ledger.money import Bonus
from cashback.ledger.repository import Attachment
from cashback.payments.rules import CreditedPayment, Product
from cashback.platform import dynamodb as tables

SK = "PAYMENT"


def _pk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


class PaymentModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute()
    product = UnicodeAttribute()
    amount = UnicodeAttribute()  # roubles, a decimal string: never a float
    rate = UnicodeAttribute()  # percent, a decimal string
    cashback = NumberAttribute()
    taken_back = NumberAttribute(default=0)


class PaymentRepository:
    def __init__(self, table_name: str) -> None:
        tables.bind((PaymentModel,), table_name)

    def get(self, payment_id: str) -> CreditedPayment | None:
        try:
            m = PaymentModel.get(_pk(payment_id), SK, consistent_read=True)
        except DoesNotExist:
            return None
        return CreditedPayment(
            payment_id=payment_id,
            member_id=m.member_id,
            product=Product(m.product),
            amount=Decimal(m.amount),
            rate=Decimal(m.rate),
            cashback=int(m.cashback),
            taken_back=int(m.taken_back),
        )

    def bind(self, credited: CreditedPayment) -> Attachment:
        """The payment, kept for the member it is credited to; refused if its id was credited before."""
        model = PaymentModel(
            _pk(credited.payment_id),
            SK,
            member_id=credited.member_id,
            product=credited.product.value,
            amount=str(credited.amount),
            rate=str(credited.rate),
            cashback=credited.cashback,
            taken_back=0,
        )

        def attach(write: TransactWrite) -> None:
            write.save(model, condition=PaymentModel.pk.does_not_exist())

        return attach

    def take_back(self, credited: CreditedPayment, amount: Bonus) -> Attachment:
        """Counts `amount` more taken back, if no other refund counted anything since `credited` was read."""
        model = PaymentModel(_pk(credited.payment_id), SK)

        def attach(write: TransactWrite) -> None:
            write.update(
                model,
                actions=[PaymentModel.taken_back.set(credited.taken_back + amount)],
                condition=PaymentModel.taken_back == credited.taken_back,
            )

        return attach
