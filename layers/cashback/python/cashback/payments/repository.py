"""Credited payments, in the ledger table: `PAYMENT#<payment id>` / `PAYMENT`, one item per payment id.

Written in the same transaction as the payment's credit, on condition that the id is new: the first
member a payment id is credited to keeps it. A refund's take-back updates `taken_back` in the same
transaction as its debit, on condition that no other refund moved it meanwhile.

A payment whose cashback waits for its return window is also filed in the maturity index,
`MATURES#<yyyy-mm-dd>` / `PAYMENT#<payment id>` (the UTC day the window ends), in that same transaction:
the daily job reads a few days' partitions with Query, never a scan of the members, and removes each item
after its accrual.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.ledger.money import Bonus
from cashback.ledger.repository import Attachment
from cashback.payments.rules import CreditedPayment, Maturing, Product, maturity_day
from cashback.platform import dynamodb as tables

SK = "PAYMENT"
MATURES_PREFIX = "MATURES#"


def _pk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


def _matures_pk(day: date) -> str:
    return f"{MATURES_PREFIX}{day.isoformat()}"


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


class MaturesModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)  # MATURES#<yyyy-mm-dd>, UTC
    sk = UnicodeAttribute(range_key=True)  # PAYMENT#<payment id>
    payment_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    matures_at = UTCDateTimeAttribute()


class PaymentRepository:
    def __init__(self, table_name: str) -> None:
        tables.bind((PaymentModel, MaturesModel), table_name)

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

    def file_maturing(self, maturing: Maturing) -> Attachment:
        """Files the payment under the day its return window ends, with its pending cashback."""
        model = MaturesModel(
            _matures_pk(maturity_day(maturing.matures_at)),
            _pk(maturing.payment_id),
            payment_id=maturing.payment_id,
            member_id=maturing.member_id,
            matures_at=maturing.matures_at,
        )

        def attach(write: TransactWrite) -> None:
            write.save(model)

        return attach

    def maturing_on(self, day: date) -> Iterator[Maturing]:
        """The payments filed under `day`: one partition, read with Query (page by page)."""
        for m in MaturesModel.query(_matures_pk(day), MaturesModel.sk.startswith("PAYMENT#")):
            yield Maturing(m.payment_id, m.member_id, m.matures_at)

    def unfile(self, maturing: Maturing) -> None:
        """Removes the payment from the index once its accrual is done (or had nothing left to do)."""
        self._filed(maturing).delete()

    @staticmethod
    def _filed(maturing: Maturing) -> MaturesModel:
        return MaturesModel(_matures_pk(maturity_day(maturing.matures_at)), _pk(maturing.payment_id))
