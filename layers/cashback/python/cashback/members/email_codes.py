"""Email confirmation codes: six digits sent by email, kept only as a salted hash, short-lived, and
limited in attempts so that guessing one is impractical (5 tries of a million)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cashback.platform.errors import DomainError, Gone, InvalidInput

LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


@dataclass(frozen=True)
class PendingConfirmation:
    email: str
    code_hash: str
    salt: str
    sent_at: datetime
    attempts: int = 0

    @classmethod
    def issue(cls, email: str, code: str, now: datetime) -> PendingConfirmation:
        salt = secrets.token_hex(16)
        return cls(email=email, code_hash=hash_code(code, salt), salt=salt, sent_at=now)

    @property
    def expires_at(self) -> datetime:
        return self.sent_at + LIFETIME

    def check(self, code: str, now: datetime) -> bool:
        """True when `code` is right; raises when the code may no longer be tried."""
        if now >= self.expires_at:
            raise Gone("the confirmation code has expired; ask for a new one", code="code_expired")
        if self.attempts >= MAX_ATTEMPTS:
            raise Gone("too many wrong codes; ask for a new one", code="too_many_attempts")
        if not code.isdigit() or len(code) != 6:
            raise InvalidInput("the code is six digits", code="invalid_code")
        return hmac.compare_digest(hash_code(code, self.salt), self.code_hash)
