"""Going to a store: the signed link a member follows, and the click it records.

A link token binds one member to one partner until it expires. It is HMAC-SHA256 over those three
values with a secret only the platform holds, so that the redirect trusts it without reading anything:

    base64url(json [version, member_id, partner_id, expires_at]) "." base64url(hmac)

The token is a bearer credential for a quarter of an hour: whoever holds it is credited to its member,
which is why it is short-lived and bound to one partner.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

LINK_LIFETIME = timedelta(minutes=15)
MAX_TOKEN_LENGTH = 1024
MIN_KEY_BYTES = 32
# How long a click can still be matched by a postback: the longest accrual period plus a margin for late
# postbacks and claims. DynamoDB deletes the click after that.
CLICK_RETENTION = timedelta(days=180)
MAX_USER_AGENT = 512
# What a click made before goods rates and commission shares were frozen on it reads as: no goods rate, and
# the member may get the whole commission.
FULL_COMMISSION_SHARE = Decimal(100)

_VERSION = 1
_DOMAIN = b"cashback-link-token\x00"  # keeps these MACs apart from anything else signed with the key


class LinkRefused(Exception):
    """The link cannot be trusted: the member is sent to sign in again. `reason` is for metrics and logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _mac(key: bytes, payload: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a link signing key has at least {MIN_KEY_BYTES} bytes")
    return hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()


def sign_link(member_id: str, partner_id: str, now: datetime, key: bytes, lifetime: timedelta = LINK_LIFETIME) -> str:
    expires_at = int((now + lifetime).timestamp())
    payload = json.dumps([_VERSION, member_id, partner_id, expires_at], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def verify_link(token: str | None, partner_id: str, now: datetime, key: bytes) -> str:
    """The member the link was signed for, when it was signed here, for this partner, and is still valid."""
    if not token:
        raise LinkRefused("missing")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise LinkRefused("malformed")
    encoded_payload, encoded_mac = token.split(".")
    try:
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    except (binascii.Error, ValueError):
        raise LinkRefused("malformed") from None
    # The MAC is checked before the payload is even parsed, in constant time.
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise LinkRefused("forged")
    try:
        version, member_id, signed_partner, expires_at = json.loads(payload)
    except (ValueError, TypeError):
        raise LinkRefused("malformed") from None
    if version != _VERSION or not isinstance(expires_at, int):
        raise LinkRefused("malformed")
    if signed_partner != partner_id:
        raise LinkRefused("other_partner")
    if now.timestamp() >= expires_at:
        raise LinkRefused("expired")
    return str(member_id)


# A click id names its member after a unique part, so that a postback's whole work (the click, the
# member's account, the conversion) is one read: `<ULID>.<member id>`. The member part is only a hint:
# the click record read with it must say the same member, or the postback is kept for support.
_MEMBER_IN_CLICK_ID = re.compile(r"^[0-9A-Z]{26}\.([A-Za-z0-9-]{1,64})$")
_CLICK_MEMBER_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def new_click_id(unique: str, member_id: str) -> str:
    """`unique` is a fresh ULID; a member id that could not be read back is left out (the postback then
    reads the click first)."""
    return f"{unique}.{member_id}" if _CLICK_MEMBER_ID.match(member_id) else unique


def member_named_by(click_id: str) -> str | None:
    match = _MEMBER_IN_CLICK_ID.match(click_id)
    return match.group(1) if match else None


@dataclass(frozen=True)
class ClickSeen:
    """What a claim needs of a member's click: where they went, when, and the accrual period frozen then."""

    click_id: str
    partner_id: str
    accrual_days: int
    clicked_at: datetime


@dataclass(frozen=True)
class Click:
    """A member's click on a partner, with the terms in force at that moment (invariant 7): the rate (a
    promotion included), the goods rates a reported tariff selects, and the share of the commission."""

    click_id: str
    member_id: str
    partner_id: str
    rate_percent: Decimal
    network: str
    accrual_days: int
    clicked_at: datetime
    user_agent: str = ""
    goods_rates: dict[str, Decimal] = field(default_factory=dict)  # by the network's tariff id
    commission_share_percent: Decimal = FULL_COMMISSION_SHARE

    @property
    def expires_at(self) -> datetime:
        return self.clicked_at + CLICK_RETENTION
