"""Email confirmation codes: six digits sent by email, short-lived, and limited in attempts so that
guessing one is impractical (5 tries of a million).

A code is derived, never stored: HMAC-SHA256(key, member id, nonce) read as six digits, where the nonce
(128 random bits) is kept with the pending confirmation and carried by the email message in the outbox.
The notifications function derives the code again to send it; the database and the outbox alone (nonce,
no key) do not give it away.
"""

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
    retry_after = int(RESEND_INTERVAL.total_seconds())  # at most: the last code went out less than this ago


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_email_code(key: bytes, member_id: str, nonce: str) -> str:
    digest = hmac.new(key, f"email-code\x00{member_id}\x00{nonce}".encode(), hashlib.sha256).digest()
    # 2**64 over a million: the modulo's bias is far below anything a guesser could use.
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


@dataclass(frozen=True)
class PendingConfirmation:
    email: str
    nonce: str
    sent_at: datetime
    attempts: int = 0

    @classmethod
    def issue(cls, email: str, now: datetime) -> PendingConfirmation:
        return cls(email=email, nonce=new_nonce(), sent_at=now)

    @property
    def expires_at(self) -> datetime:
        return self.sent_at + LIFETIME

    def check(self, code: str, now: datetime, *, key: bytes, member_id: str) -> bool:
        """True when `code` is right; raises when the code may no longer be tried."""
        if now >= self.expires_at:
            raise Gone("the confirmation code has expired; ask for a new one", code="code_expired")
        if self.attempts >= MAX_ATTEMPTS:
            raise Gone("too many wrong codes; ask for a new one", code="too_many_attempts")
        if not code.isdigit() or len(code) != 6:
            raise InvalidInput("the code is six digits", code="invalid_code")
        return hmac.compare_digest(derive_email_code(key, member_id, self.nonce), code)
