"""A partner's conversion (an order placed through a tracked click) and how each postback moves it.

Postbacks repeat, arrive late and out of order. Each becomes a short list of ledger commands whose ids
are derived from the conversion, the status and the amount, so that a repeat is recognised by the
ledger and changes nothing, and statuses only move forward (invariant 6):

- pending: records the accrual (priced at the rate frozen on the click), or re-prices it when the
  amount changed while pending; after a decision it changes nothing.
- approved: records it if it was never seen pending, re-prices it if the amount changed, accrues it.
- declined: records it if never seen, then rejects it; after approval this reverses it (debt if spent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from cashback.clicks.rules import Click
from cashback.ledger.money import format_amount
from cashback.ledger.rules import Accrue, Command, Kind, RecordPending, Reject, Reprice, Source, Status, Transaction
from cashback.platform.errors import InvalidInput
from cashback.postbacks.pricing import priced

# A network's clock may run ahead of ours, or call a local time UTC; a purchase further ahead than this has
# not happened yet (and the dates derived from it, up to the balance's calendar, could leave datetime's range).
MAX_TIME_AHEAD = timedelta(days=1)


class PostbackStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class Postback:
    """A postback as every network adapter normalises it."""

    network: str
    conversion_id: str  # the network's id of the conversion (Admitad's action_id, a direct order id)
    click_id: str
    order_id: str
    amount: Decimal
    currency: str
    status: PostbackStatus
    occurred_at: datetime
    reason: str = ""  # the network's own words for a decline, when it gives any
    raw: dict[str, str] = field(default_factory=dict)
    commission: Decimal | None = None  # what the network earns on the order, when it reports it
    tariff: str | None = None  # the network's tariff (a direct partner's category) of the order

    @property
    def key(self) -> str:
        return f"{self.network}:{self.conversion_id}"


def check_time(postback: Postback, now: datetime) -> None:
    if postback.occurred_at > now + MAX_TIME_AHEAD:
        raise InvalidInput("the postback's time is in the future", code="invalid_time")


def transaction_id(postback: Postback) -> str:
    return f"conversion:{postback.key}"


def expected_at(postback: Postback, click: Click) -> datetime:
    """The latest the partner may take to confirm: the purchase plus the partner's accrual period."""
    return postback.occurred_at + timedelta(days=click.accrual_days)


def commands(postback: Postback, click: Click, current: Transaction | None) -> list[Command]:
    """The ledger commands that bring the member's transaction to what this postback says."""
    offer = priced(postback, click)
    bonus = offer.bonus
    txn_id = transaction_id(postback)
    op = f"postback:{postback.key}"
    at = postback.occurred_at
    details = {
        "partner_id": click.partner_id,
        "order_amount": format_amount(postback.amount),
        "rate": str(offer.rate_percent),
        "order_id": postback.order_id,
        "click_id": click.click_id,
        **({"tariff": offer.tariff} if offer.tariff else {}),
        **({"commission": format_amount(postback.commission)} if postback.commission is not None else {}),
    }
    planned: list[Command] = []
    if current is None:
        planned.append(
            RecordPending(
                operation_id=f"{op}:recorded",
                transaction_id=txn_id,
                reason=f"Order {postback.order_id} awaits the partner's confirmation",
                at=at,
                kind=Kind.PURCHASE,
                amount=bonus,
                source=Source("conversion", postback.key),
                expected_at=expected_at(postback, click),
                details=details,
            )
        )
    elif current.status is Status.PENDING and current.amount != bonus:
        planned.append(_reprice(op, txn_id, postback, bonus, details))

    if postback.status is PostbackStatus.APPROVED:
        planned.append(
            Accrue(operation_id=f"{op}:approved", transaction_id=txn_id, reason="Confirmed by the partner", at=at)
        )
    elif postback.status is PostbackStatus.DECLINED:
        reason = postback.reason or "Declined by the partner"
        planned.append(Reject(operation_id=f"{op}:declined", transaction_id=txn_id, reason=reason, at=at))
    return planned


def _reprice(op: str, txn_id: str, postback: Postback, bonus: int, details: dict[str, str]) -> Reprice:
    return Reprice(
        operation_id=f"{op}:amount:{format_amount(postback.amount)}",
        transaction_id=txn_id,
        reason=f"Order amount changed to {format_amount(postback.amount)}",
        at=postback.occurred_at,
        amount=bonus,
        details=details,
    )


class Foreign(StrEnum):
    """Why a postback may not speak for the click it names (it is kept for support instead)."""

    WRONG_NETWORK = "wrong_network"  # the click went to a store of another network
    WRONG_PARTNER = "wrong_partner"  # the click went to another partner's store than the one that signed


def foreign(postback: Postback, click: Click, signer: str | None) -> Foreign | None:
    """A network speaks only for the clicks that went to its own stores, and a partner that signs its own
    postbacks only for the clicks that went to its own store."""
    if postback.network != click.network:
        return Foreign.WRONG_NETWORK
    if signer is not None and signer != click.partner_id:
        return Foreign.WRONG_PARTNER
    return None
