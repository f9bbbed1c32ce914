"""Smartphone certificates: denominations, bearer codes, and the discount a redemption gives.

A code is 13 symbols of Crockford's base32 (65 bits), grouped `XXXX-XXXX-XXXX-X`. It is derived, not
stored: code = HMAC(key, member, idempotency key, nonce) where the nonce (128 random bits from `secrets`)
is kept with the certificate. A repeated order recomputes the same code from the stored nonce, while
neither the database (nonce and hash, no key) nor the key alone (no nonce) is enough to learn a code.
Lookups use another HMAC of the normalised code, so a redemption finds its certificate by key, no scan.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from cashback.ledger.calendar import MOSCOW
from cashback.ledger.money import Bonus
from cashback.platform.errors import Conflict, DomainError, Forbidden, InvalidInput

DENOMINATIONS: tuple[Bonus, ...] = (
    100,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    30_000,
    40_000,
    50_000,
    60_000,
    70_000,
    80_000,
)
MINIMUM_AVAILABLE: Bonus = 100

# Crockford's base32: no I, L, O or U, so that a code read out over the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SYMBOLS = 13  # 65 bits; the last symbol shows in the masked code, 60 bits never do
_GROUPS = (4, 4, 4, 1)
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")


class CertificateStatus(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"


class GoalNotSmartphone(Conflict):
    code = "goal_not_smartphone"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class NotThisStore(Forbidden):
    """A terminal speaks for its own store only."""

    code = "store_mismatch"


class AlreadyRedeemed(Conflict):
    code = "already_redeemed"


class OrderAlreadyDiscounted(Conflict):
    """Another certificate was redeemed on this store order: one certificate per order."""

    code = "order_already_discounted"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


class CertificateRedeemed(Conflict):
    code = "certificate_redeemed"


class TooManyResends(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# The certificate's SMS again, on the member's request: at most one a minute, five a (Moscow) day.
RESEND_INTERVAL = timedelta(minutes=1)
RESENDS_PER_DAY = 5


@dataclass(frozen=True)
class CodeSms:
    """What the certificate's SMS is made from (the code's reference: member, order key, nonce) and how
    often it was sent again. The code itself is derived by the sender."""

    certificate_id: str
    member_id: str
    issued_at: datetime
    denomination: Bonus
    order_key: str
    nonce: str
    last_sent_at: datetime
    resends: int = 0  # ever; numbers the resent messages
    day: str = ""  # the Moscow day `resends_that_day` counts
    resends_that_day: int = 0

    def body(self, locale: str) -> dict[str, object]:
        return {
            "template": "certificate_code",
            "certificate_id": self.certificate_id,
            "denomination": self.denomination,
            "member_id": self.member_id,
            "order_key": self.order_key,
            "nonce": self.nonce,
            "locale": locale,
        }

    def resent(self, now: datetime) -> CodeSms:
        """The record after one more SMS at `now`; refused (with when to try again) past the limits."""
        wait = self.last_sent_at + RESEND_INTERVAL - now
        if wait > timedelta(0):
            raise TooManyResends("the code was sent less than a minute ago", retry_after=_seconds(wait))
        today = now.astimezone(MOSCOW)
        day = today.date().isoformat()
        that_day = self.resends_that_day if self.day == day else 0
        if that_day >= RESENDS_PER_DAY:
            tomorrow = today.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            raise TooManyResends("the code was sent again five times today", retry_after=_seconds(tomorrow - today))
        return replace(self, last_sent_at=now, resends=self.resends + 1, day=day, resends_that_day=that_day + 1)


def _seconds(wait: timedelta) -> int:
    return max(1, -int(-wait.total_seconds() // 1))  # rounded up: trying again then succeeds


@dataclass(frozen=True)
class Certificate:
    certificate_id: str
    member_id: str
    denomination: Bonus
    status: CertificateStatus
    created_at: datetime
    last_symbol: str
    nonce: str  # hex; with the key it gives back the code (see the module's docstring)


@dataclass(frozen=True)
class Redemption:
    certificate_id: str
    discount: Bonus
    forfeited: Bonus
    store_id: str
    order_id: str


@dataclass(frozen=True)
class CodeRecord:
    """What a terminal's code leads to: the certificate behind a code's lookup hash, and its redemption if any."""

    lookup_hash: str
    certificate_id: str
    member_id: str
    issued_at: datetime
    denomination: Bonus
    status: CertificateStatus
    redemption: Redemption | None = None

    def same_order(self, store_id: str, order_id: str) -> bool:
        return self.redemption is not None and (self.redemption.store_id, self.redemption.order_id) == (
            store_id,
            order_id,
        )


def check_denomination(denomination: object) -> Bonus:
    if isinstance(denomination, bool) or not isinstance(denomination, int) or denomination not in DENOMINATIONS:
        allowed = ", ".join(str(d) for d in DENOMINATIONS)
        raise InvalidInput(f"a certificate's denomination is one of {allowed}", code="invalid_denomination")
    return denomination


def check_idempotency_key(key: str | None) -> str:
    if not key:
        raise InvalidInput("send an Idempotency-Key header, unique per order", code="idempotency_key_required")
    if not _IDEMPOTENCY_KEY.match(key):
        raise InvalidInput("Idempotency-Key is 8 to 128 letters, digits or . _ : -", code="invalid_idempotency_key")
    return key


def new_nonce() -> str:
    return secrets.token_hex(16)


def _encode(digest: bytes, symbols: int) -> str:
    number = int.from_bytes(digest, "big")
    out = []
    for _ in range(symbols):
        number, index = divmod(number, 32)
        out.append(ALPHABET[index])
    return "".join(out)


def derive_code(key: bytes, member_id: str, idempotency_key: str, nonce: str) -> str:
    """The certificate's code, formatted for people."""
    message = f"certificate-code\x00{member_id}\x00{idempotency_key}\x00{nonce}".encode()
    raw = _encode(hmac.new(key, message, hashlib.sha256).digest(), CODE_SYMBOLS)
    groups, start = [], 0
    for size in _GROUPS:
        groups.append(raw[start : start + size])
        start += size
    return "-".join(groups)


def normalise_code(code: str) -> str | None:
    """The code's symbols as typed by anyone (any case, spaces, dashes, O for 0), or None if it cannot be one."""
    symbols = re.sub(r"[\s-]", "", code.upper()).translate(_READ_AS)
    if len(symbols) != CODE_SYMBOLS or any(s not in ALPHABET for s in symbols):
        return None
    return symbols


def lookup_hash(key: bytes, normalised_code: str) -> str:
    """Where a code's certificate is found; the code itself is never stored."""
    return hmac.new(key, f"certificate-lookup\x00{normalised_code}".encode(), hashlib.sha256).hexdigest()


def mask(last_symbol: str) -> str:
    return f"****-****-****-{last_symbol}"


def certificate_id_for(member_id: str, idempotency_key: str) -> str:
    """Deterministic: every retry of one order names the same certificate."""
    digest = hashlib.sha256(f"{member_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"cert-{digest[:24]}"


def discount_for(denomination: Bonus, price: Decimal) -> tuple[Bonus, Bonus]:
    """(discount, forfeited) in whole roubles: the discount is the price rounded down (the operator's
    favour, as every amount here), capped at the denomination; the rest of the denomination is lost."""
    if isinstance(price, float):
        raise TypeError("money never touches a float")
    whole_price = int(price.to_integral_value(rounding=ROUND_FLOOR))
    discount = min(denomination, whole_price)
    return discount, denomination - discount
