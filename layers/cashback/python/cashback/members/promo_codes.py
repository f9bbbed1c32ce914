"""Promo codes: a bonus amount, a validity window and a usage limit; a member may use a code once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cashback.ledger.rules import Credit, Kind, Source
from cashback.platform.errors import Conflict, Gone, InvalidInput

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
MAX_BONUS = 100_000


def normalise_code(raw: str) -> str:
    """Codes are typed by people: case and surrounding spaces do not matter."""
    code = raw.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput("a promo code is 3-32 letters, digits, '-' or '_'", code="invalid_promo_code")
    return code


@dataclass(frozen=True)
class PromoCode:
    code: str
    bonus: int
    starts_at: datetime
    ends_at: datetime
    max_uses: int
    uses: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.bonus <= MAX_BONUS:
            raise InvalidInput(f"a promo bonus is between 1 and {MAX_BONUS}", code="invalid_bonus")
        if self.ends_at <= self.starts_at:
            raise InvalidInput("ends_at must be after starts_at", code="invalid_window")
        if self.max_uses < 1:
            raise InvalidInput("max_uses is at least 1", code="invalid_max_uses")

    def check_usable(self, now: datetime) -> None:
        if now < self.starts_at:
            raise Gone(f"promo code {self.code} is not valid yet", code="promo_code_not_started")
        if now >= self.ends_at:
            raise Gone(f"promo code {self.code} has expired", code="promo_code_expired")
        if self.uses >= self.max_uses:
            raise Gone(f"promo code {self.code} has been used up", code="promo_code_used_up")

    def credit(self, at: datetime) -> Credit:
        operation_id = f"promo:{self.code}"
        return Credit(
            operation_id=operation_id,
            transaction_id=operation_id,
            reason=f"Promo code {self.code}",
            at=at,
            kind=Kind.BONUS,
            amount=self.bonus,
            source=Source("promo_code", self.code),
        )


class PromoCodeAlreadyUsed(Conflict):
    code = "promo_code_already_used"
