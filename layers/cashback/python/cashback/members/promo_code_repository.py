"""Promo codes and their usage counter. A member's single use is the ledger's own guard (the credit's
operation id is `promo:<code>` in the member's partition); the counter enforces the usage limit in the
same transaction as the credit.

One counter item per code is a deliberately hot key: DynamoDB sustains about 1,000 writes a second on
one item, far above how fast people type a code in; a code for a mass campaign would shard the counter.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.ledger.repository import Attachment
from cashback.members.promo_codes import PromoCode
from cashback.platform import dynamodb as tables
from cashback.platform.errors import Conflict


class PromoCodeModel(Model):
    class Meta:
        table_name = "unbound-members"

    pk = UnicodeAttribute(hash_key=True)  # "PROMO#<code>"
    sk = UnicodeAttribute(range_key=True)  # "PROMO"
    code = UnicodeAttribute()
    bonus = NumberAttribute()
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    max_uses = NumberAttribute()
    uses = NumberAttribute(default=0)
    created_by = UnicodeAttribute(null=True)

    def to_domain(self) -> PromoCode:
        return PromoCode(
            self.code, int(self.bonus), self.starts_at, self.ends_at, int(self.max_uses), int(self.uses or 0)
        )


def _key(code: str) -> tuple[str, str]:
    return f"PROMO#{code}", "PROMO"


class PromoCodeRepository:
    def __init__(self, table_name: str, connection: Connection) -> None:
        self._table_name = table_name
        self._connection = connection
        tables.bind((PromoCodeModel,), table_name)

    def create(self, promo: PromoCode, *, created_by: str, replace: bool = False) -> None:
        model = PromoCodeModel(
            *_key(promo.code),
            code=promo.code,
            bonus=promo.bonus,
            starts_at=promo.starts_at,
            ends_at=promo.ends_at,
            max_uses=promo.max_uses,
            uses=0,
            created_by=created_by,
        )
        try:
            model.save(condition=None if replace else PromoCodeModel.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"promo code {promo.code} already exists", code="promo_code_exists") from error
            raise

    def get(self, code: str) -> PromoCode | None:
        try:
            return PromoCodeModel.get(*_key(code), consistent_read=True).to_domain()
        except DoesNotExist:
            return None

    def count_use(self, code: str, now: datetime) -> Attachment:
        """One more use, only while the code is in its window and under its limit."""

        def attach(write: TransactWrite) -> None:
            write.update(
                PromoCodeModel(*_key(code)),
                [PromoCodeModel.uses.add(1)],
                condition=(PromoCodeModel.uses < PromoCodeModel.max_uses)
                & (PromoCodeModel.starts_at <= now)
                & (PromoCodeModel.ends_at > now),
            )

        return attach
