"""What a claim filed with a network as a lost order says, and what the network's answer means for it.
Pure: the lost-order service files and follows, the claims context keeps the claim."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from cashback.catalog.rules import Network, Partner
from cashback.claims.rules import Claim
from cashback.clicks.rules import Click
from cashback.networks.actions import LostOrder, LostOrderAnswer
from cashback.platform.errors import InvalidInput

KOPECK = Decimal("0.01")
ACCEPTED_REASON = (
    "The network accepted the order: its cashback arrives as a purchase, pending until the store confirms it."
)


def estimated_reward(order_amount: Decimal, click: Click) -> Decimal:
    """The commission the programme expects for the order: the member's rate frozen on the click is the
    partner's share of it (invariant 10), so the commission is that cashback over the share."""
    cashback = order_amount * click.rate_percent / 100
    return (cashback * 100 / click.commission_share_percent).quantize(KOPECK, rounding=ROUND_DOWN)


def check_filable(partner: Partner) -> str:
    """The partner's programme id at a network that takes lost orders, or 422."""
    if partner.network is not Network.ADMITAD:
        raise InvalidInput(
            f"{partner.name} is a direct partner: there is no network to file a lost order with",
            code="lost_orders_not_supported",
        )
    if partner.network_campaign_id is None:
        raise InvalidInput(
            f"{partner.name} has no network campaign id: set it on the partner to file lost orders",
            code="partner_without_campaign",
        )
    return partner.network_campaign_id


def lost_order(
    claim: Claim, campaign_id: str, click: Click, comment: str, receipt: bytes, receipt_type: str
) -> LostOrder:
    """The claim as the network is asked to look for it; support's reason is the comment it reads."""
    return LostOrder(
        campaign_id=campaign_id,
        order_id=claim.order_id,
        order_date=claim.order_date,
        order_price=claim.order_amount,
        estimated_reward=estimated_reward(claim.order_amount, click),
        subid=click.click_id,
        comment=comment,
        receipt=receipt,
        receipt_type=receipt_type,
    )


def rejection_reason(answer: LostOrderAnswer) -> str:
    words = answer.reason.strip() or "it gave no reason"
    return f"The network rejected the order: {words}"
