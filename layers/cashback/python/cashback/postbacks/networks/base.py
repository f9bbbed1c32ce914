from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from cashback.ledger.money import parse_amount
from cashback.platform.errors import InvalidInput, Unauthorized
from cashback.postbacks.rules import Postback

# Ids, codes and statuses from a network are short; anything longer is not one (and would not fit a key).
MAX_FIELD_LENGTH = 128


@dataclass(frozen=True)
class PostbackRequest:
    """What arrived over HTTP, before anyone trusted it."""

    method: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: str = ""


class NetworkAdapter(Protocol):
    name: str

    def signer(self, request: PostbackRequest) -> str | None:
        """The partner whose own secrets sign the request, for networks whose partners each sign their own
        (None: the network's secrets sign it). Raises Unauthorized when the request names none it may."""

    def authenticate(self, request: PostbackRequest, secrets: Sequence[str], now: datetime) -> None:
        """Raises Unauthorized unless the request proves it comes from the network."""

    def parse(self, request: PostbackRequest) -> Postback:
        """Raises InvalidInput for anything malformed."""


def matches_any(given: str, secrets: Sequence[str]) -> bool:
    """Constant-time comparison against every active secret (several while a partner rotates)."""
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given.encode(), secret.encode())
    return matched


def require(value: str | None, name: str) -> str:
    if value is None or not str(value).strip():
        raise InvalidInput(f"{name} is required", code="missing_field")
    text = str(value).strip()
    if len(text) > MAX_FIELD_LENGTH:
        raise InvalidInput(f"{name} is at most {MAX_FIELD_LENGTH} characters", code="invalid_field")
    return text


def optional(value: str | None, name: str) -> str | None:
    """An optional field: absent or blank is None, else as `require` reads it."""
    if value is None or not str(value).strip():
        return None
    return require(value, name)


def optional_amount(value: str | None, name: str) -> Decimal | None:
    """An optional amount such as a commission; "0" is one (a network's commission on a full return)."""
    text = optional(value, name)
    return None if text is None else parse_amount(text, zero=True)


def parse_time(value: str, name: str) -> datetime:
    """Unix seconds or ISO 8601 with an offset; naive times are refused rather than guessed, and so is any
    time that has no UTC equivalent (the ends of datetime's range)."""
    text = value.strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise InvalidInput(f"{name} needs an offset", code="invalid_time")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"{name} is not a time", code="invalid_time") from None


def unauthorized() -> Unauthorized:
    return Unauthorized("the postback's credentials are not valid", code="invalid_credentials")
