from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from cashback.members.promo_codes import PromoCode
from cashback.platform.times import Instant


class NewPromoCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=3, max_length=32)
    bonus: StrictInt = Field(gt=0, le=100_000)
    starts_at: Instant
    ends_at: Instant
    max_uses: StrictInt = Field(ge=1, le=100_000_000)


class PromoCodeOut(BaseModel):
    code: str
    bonus: int
    starts_at: datetime
    ends_at: datetime
    max_uses: int
    uses: int

    @classmethod
    def of(cls, promo: PromoCode) -> PromoCodeOut:
        return cls(
            code=promo.code,
            bonus=promo.bonus,
            starts_at=promo.starts_at,
            ends_at=promo.ends_at,
            max_uses=promo.max_uses,
            uses=promo.uses,
        )
