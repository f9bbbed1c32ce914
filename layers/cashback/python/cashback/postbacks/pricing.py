"""What an order earns the member: the offer frozen on the click, bounded by what the programme earns.

    rate     = the click's goods rate for the order's reported tariff, if the click has one; else its rate
    cashback = floor(order amount x rate / 100)
    cashback = min(cashback, floor(commission x commission share / 100))   when the network reports a commission

Invariant 10: never more than the partner's share of the network's commission. Amounts past the sanity
ceiling are not priced at all: they are kept for support.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from cashback.ledger.money import SANITY_CEILING, Bonus, cashback

if TYPE_CHECKING:  # postbacks.rules prices with this module: only its types are needed here
    from cashback.clicks.rules import Click
    from cashback.postbacks.rules import Postback


@dataclass(frozen=True)
class Priced:
    """The cashback of an order, with the terms that set it (shown in the member's history and to support)."""

    bonus: Bonus
    rate_percent: Decimal
    tariff: str | None  # the goods rate's tariff id, when one priced the order
    capped_by_commission: bool


def rate_for(postback: Postback, click: Click) -> tuple[Decimal, str | None]:
    """The rate frozen on the click for the order's tariff, and that tariff when it selected a goods rate."""
    if postback.tariff is not None and postback.tariff in click.goods_rates:
        return click.goods_rates[postback.tariff], postback.tariff
    return click.rate_percent, None


def priced(postback: Postback, click: Click) -> Priced:
    rate, tariff = rate_for(postback, click)
    bonus = cashback(postback.amount, rate)
    capped = False
    if postback.commission is not None:
        earned = cashback(postback.commission, click.commission_share_percent)
        capped = earned < bonus
        bonus = min(bonus, earned)
    return Priced(bonus, rate, tariff, capped)


def price(postback: Postback, click: Click) -> Bonus:
    """The member's cashback for the order (see the module's doc)."""
    return priced(postback, click).bonus


def over_ceiling(postback: Postback) -> bool:
    """An amount no real order has: a network's error or an attack, kept for support and never credited."""
    return postback.amount > SANITY_CEILING
