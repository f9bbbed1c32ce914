"""Support's queue: members' claims for cashback that did not come, and postbacks kept as orphans
(unknown click, unknown partner, foreign currency) until support matches them to a member."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum

from cashback.clicks.rules import ClickSeen
from cashback.platform.errors import InvalidInput


class ClaimState(StrEnum):
    OPEN = "open"
    FILED = "filed"  # filed with the network as a lost order: its answer is awaited
    ACCEPTED = "accepted"  # the network accepted the lost order: its cashback arrives as the order's conversion
    MATCHED = "matched"  # matched to a kept postback, which then accrued to the member
    CREDITED = "credited"  # credited by hand
    DECLINED = "declined"


class Resolution(StrEnum):
    MATCH = "match"
    CREDIT = "credit"
    DECLINE = "decline"
    FILE_LOST_ORDER = "file_lost_order"  # file it with the network, whose answer then resolves it


@dataclass(frozen=True)
class Claim:
    claim_id: str
    member_id: str
    partner_id: str
    order_id: str
    order_date: date
    order_amount: Decimal
    created_at: datetime
    state: ClaimState = ClaimState.OPEN
    resolution_reason: str | None = None
    resolved_at: datetime | None = None
    bonus: int | None = None
    receipt_key: str | None = None  # the member's receipt in the receipts bucket, if they attached one
    click_id: str | None = None  # the member's click before the order (claims filed before it was kept: None)
    lost_order_id: str | None = None  # the network's ticket, once filed with it as a lost order


# What support can still resolve by hand: a claim filed with the network too (its credit, linked to the
# order, leaves a later conversion of the order only the difference).
RESOLVABLE = (ClaimState.OPEN, ClaimState.FILED)


@dataclass(frozen=True)
class Orphan:
    orphan_id: str  # "<network>:<conversion id>"
    network: str
    reason: str
    raw: dict[str, str]
    received_at: datetime
    state: ClaimState = ClaimState.OPEN
    matched_claim_id: str | None = None
    details: dict[str, str] = field(default_factory=dict)


def order_transaction_id(network: str, order_id: str) -> str:
    """The member's transaction for support's credit of an order: the conversion path reads it, and a
    later postback or reconciliation of that order pays only the difference."""
    return f"order:{network}:{order_id}"


def check_order_id(order_id: str) -> str:
    text = order_id.strip()
    if not text:
        raise InvalidInput("the order id is required", code="invalid_order_id")
    return text


# The longest accrual period a partner may have (PRODUCT.md): no click further back can explain an order.
CLICK_LOOKBACK = timedelta(days=90)


def order_window(order_date: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The times a click that led to an order placed on `order_date` (the member's day) may have."""
    end = datetime.combine(order_date + timedelta(days=1), time(0), zone)
    return end - timedelta(days=1) - CLICK_LOOKBACK, end


def click_before(order_date: date, partner_id: str, clicks: list[ClickSeen], zone: tzinfo) -> ClickSeen:
    """The member's latest click to the partner before the order's day was over: the claim's click, whose
    frozen accrual period says when the claim is due."""
    since, until = order_window(order_date, zone)
    candidates = [c for c in clicks if c.partner_id == partner_id and since <= c.clicked_at < until]
    if not candidates:
        raise InvalidInput(
            "there is no visit to this store through the programme before that order", code="no_click_before_order"
        )
    return max(candidates, key=lambda c: c.clicked_at)


def check_claimable(order_date: date, accrual_days: int, today: date) -> None:
    """A claim can be filed once the partner's accrual period has passed without the cashback."""
    if order_date > today:
        raise InvalidInput("the order date is in the future", code="invalid_order_date")
    due = order_date + timedelta(days=accrual_days)
    if today <= due:
        raise InvalidInput(
            f"the partner has until {due.isoformat()} to confirm this order; claim after that date",
            code="accrual_period_not_over",
        )
