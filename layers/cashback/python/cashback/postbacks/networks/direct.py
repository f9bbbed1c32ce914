"""Partners integrated directly POST JSON signed like Stripe's webhooks:
`X-Signature: t=<unix seconds>,v1=<hex>` with hex = HMAC-SHA256(secret, "<t>.<raw body>").
A timestamp more than five minutes away is refused, so a captured request cannot be replayed later.
Each partner signs with its own secret and names itself in `X-Partner-Id`, which selects the secrets
that may verify it (and binds the postback to that partner's clicks)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from cashback.catalog.rules import is_partner_id
from cashback.ledger.money import parse_amount
from cashback.platform.errors import InvalidInput, MalformedInput, Unauthorized
from cashback.platform.json_text import parse_json
from cashback.postbacks.networks.base import (
    PostbackRequest,
    optional,
    optional_amount,
    parse_time,
    require,
    unauthorized,
)
from cashback.postbacks.rules import Postback, PostbackStatus

TOLERANCE_SECONDS = 300
_MAX_TIMESTAMP_DIGITS = 12  # unix seconds for the next 30,000 years; longer is no time, and no float holds it
_STATUSES = {
    "pending": PostbackStatus.PENDING,
    "approved": PostbackStatus.APPROVED,
    "declined": PostbackStatus.DECLINED,
}


def sign(secret: str, timestamp: int, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def _signature_parts(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS:
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise unauthorized()
    return timestamp, signatures


class Direct:
    name = "direct"

    def signer(self, request: PostbackRequest) -> str:
        partner_id = request.headers.get("x-partner-id", "").strip()
        # Not a partner id, it cannot name a partner's secrets: refused like a wrong signature, never looked up.
        if not is_partner_id(partner_id):
            raise Unauthorized(
                "X-Partner-Id names the partner whose secret signs the postback", code="invalid_credentials"
            )
        return partner_id

    def authenticate(self, request: PostbackRequest, secrets: Sequence[str], now: datetime) -> None:
        timestamp, signatures = _signature_parts(request.headers.get("x-signature", ""))
        if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
            raise Unauthorized("the signature's timestamp is outside the 300 s window", code="stale_signature")
        expected = [sign(secret, timestamp, request.body) for secret in secrets]
        matched = False
        for given in signatures:
            for wanted in expected:
                matched |= hmac.compare_digest(given, wanted)
        if not matched:
            raise unauthorized()

    def parse(self, request: PostbackRequest) -> Postback:
        try:
            data = parse_json(request.body)
        except MalformedInput as error:
            raise InvalidInput(error.message, code=error.code) from None
        if not isinstance(data, dict):
            raise InvalidInput("the body is a JSON object", code="malformed_json")
        fields = {
            k: data.get(k)
            for k in (
                *("event_id", "click_id", "order_id", "amount", "currency", "status", "occurred_at"),
                *("commission", "category"),
            )
        }
        if not all(v is None or isinstance(v, str) for v in fields.values()):
            raise InvalidInput('every field is a string (amounts as "1999.90")', code="invalid_field")
        status = _STATUSES.get(require(fields["status"], "status").lower())
        if status is None:
            raise InvalidInput("status is pending, approved or declined", code="invalid_status")
        click_id = require(fields["click_id"], "click_id")
        order_id = require(fields["order_id"], "order_id")
        return Postback(
            network=self.name,
            conversion_id=f"{order_id}@{click_id}",  # order ids are unique within one partner's shop only
            click_id=click_id,
            order_id=order_id,
            # 0 is a full return: the order stays, earning nothing.
            amount=parse_amount(require(fields["amount"], "amount"), zero=True),
            currency=require(fields["currency"], "currency").upper(),
            status=status,
            occurred_at=parse_time(require(fields["occurred_at"], "occurred_at"), "occurred_at"),
            raw={k: str(v) for k, v in fields.items() if v is not None},
            commission=optional_amount(fields["commission"], "commission"),
            tariff=optional(fields["category"], "category"),
        )
