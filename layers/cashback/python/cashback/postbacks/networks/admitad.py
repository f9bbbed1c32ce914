"""Admitad calls back with a GET query: its shared secret in `token`, our click id in `subid`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cashback.ledger.money import parse_amount
from cashback.platform.errors import InvalidInput
from cashback.postbacks.networks.base import (
    PostbackRequest,
    matches_any,
    optional,
    optional_amount,
    parse_time,
    require,
    unauthorized,
)
from cashback.postbacks.rules import Postback, PostbackStatus

_STATUSES = {
    "pending": PostbackStatus.PENDING,
    "approved": PostbackStatus.APPROVED,
    # Approved by the store, the network's payout to us merely held back: the member's purchase is confirmed.
    "approved_but_stalled": PostbackStatus.APPROVED,
    "declined": PostbackStatus.DECLINED,
}
# Kept with the orphan or the conversion for support; the secret never is.
_KEPT = ("subid", "action_id", "order_id", "order_sum", "payment_sum", "currency", "status", "time", "tariff_id")


class Admitad:
    name = "admitad"

    def signer(self, request: PostbackRequest) -> None:
        return None  # one token for the whole network

    def authenticate(self, request: PostbackRequest, secrets: Sequence[str], now: datetime) -> None:
        if not matches_any(request.query.get("token", ""), secrets):
            raise unauthorized()

    def parse(self, request: PostbackRequest) -> Postback:
        q = request.query
        status = _STATUSES.get(require(q.get("status"), "status").lower())
        if status is None:
            raise InvalidInput("status is pending, approved, approved_but_stalled or declined", code="invalid_status")
        return Postback(
            network=self.name,
            conversion_id=require(q.get("action_id"), "action_id"),
            click_id=require(q.get("subid"), "subid"),
            order_id=require(q.get("order_id"), "order_id"),
            # 0 is a full return: the order stays, earning nothing.
            amount=parse_amount(require(q.get("order_sum"), "order_sum"), zero=True),
            currency=require(q.get("currency"), "currency").upper(),
            status=status,
            occurred_at=parse_time(require(q.get("time"), "time"), "time"),
            raw={k: q[k] for k in _KEPT if k in q},
            commission=optional_amount(q.get("payment_sum"), "payment_sum"),
            tariff=optional(q.get("tariff_id"), "tariff_id"),
        )
