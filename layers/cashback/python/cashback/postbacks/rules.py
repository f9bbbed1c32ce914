"""A partner's postback as every network adapter normalises it, and who it may speak for.

How a postback moves the member's purchase is in `conversions.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from cashback.clicks.rules import Click
from cashback.platform.errors import InvalidInput

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


# Postbacks that named a click they may not speak for. Kept apart from the conversion's own orphan (a
# forged or misrouted call must not overwrite a genuine one), and never matched to a member by support.
NOT_MATCHABLE = frozenset({Foreign.WRONG_NETWORK.value, Foreign.WRONG_PARTNER.value, "conversion_of_another_click"})


def orphan_id(postback: Postback, reason: str) -> str:
    return f"{postback.key}#{reason}" if reason in NOT_MATCHABLE else postback.key
