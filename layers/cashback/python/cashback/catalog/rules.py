"""The partner catalog: partners, their categories, rates, promotions, and the rate in force at a moment.

A partner's rate is its base rate, raised for a time window by a promotion: the rate in force is the
highest rate among the promotions running at that moment, and never less than the base rate (a
promotion raises a rate; lowering one is a change of the partner). Rates are Decimal percents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from cashback.ledger.money import parse_rate_percent
from cashback.platform.errors import InvalidInput, NotFound

CLICK_ID_PLACEHOLDER = "{click_id}"
MAX_ACCRUAL_DAYS = 90
MAX_TRACKING_URL = 2048
MAX_CONDITIONS = 4000
MAX_NAME = 100
MAX_ALIASES = 10
MAX_GOODS_RATES = 20
# Promotions are kept on the partner so that one read prices a click; ended ones are dropped beyond this.
MAX_PROMOTIONS = 20

_E = TypeVar("_E", bound=StrEnum)
_MARKER = "click-id-goes-here"
_PARTNER_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Admitad's tariff ids are numbers; a direct partner's category codes are short slugs ("smartphones", "A-12").
_TARIFF_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.:-]{0,62}[A-Za-z0-9])?$")
MAX_TARIFF_ID = 64
FULL_COMMISSION_SHARE = Decimal(100)


class Category(StrEnum):
    ONLINE_STORES = "online_stores"
    FOOD_DELIVERY = "food_delivery"
    GROCERY_DELIVERY = "grocery_delivery"
    ENTERTAINMENT = "entertainment"
    TRAVEL = "travel"

    @property
    def display_name(self) -> str:
        return _DISPLAY_NAMES[self]


_DISPLAY_NAMES = {
    Category.ONLINE_STORES: "Online stores",
    Category.FOOD_DELIVERY: "Food delivery",
    Category.GROCERY_DELIVERY: "Grocery delivery",
    Category.ENTERTAINMENT: "Entertainment",
    Category.TRAVEL: "Travel",
}


class Network(StrEnum):
    ADMITAD = "admitad"
    DIRECT = "direct"


class PartnerNotFound(NotFound):
    code = "partner_not_found"

    def __init__(self, partner_id: str) -> None:
        super().__init__(f"there is no partner {partner_id!r} in the catalog")


def check_partner_id(partner_id: str) -> str:
    """A partner id is a slug: lower-case letters, digits and inner hyphens, up to 64 characters."""
    if not isinstance(partner_id, str) or not _PARTNER_ID.match(partner_id):
        raise InvalidInput(
            "a partner id is 1-64 lower-case letters, digits or inner hyphens, like 'm-video'",
            code="invalid_partner_id",
        )
    return partner_id


def is_partner_id(text: str) -> bool:
    return bool(_PARTNER_ID.match(text))


def check_tracking_url(url: str) -> str:
    """An https URL template that carries the click id where `{click_id}` stands, and nothing else in braces."""
    if not isinstance(url, str) or len(url) > MAX_TRACKING_URL or any(c.isspace() for c in url):
        raise InvalidInput("a tracking URL is one https URL without spaces", code="invalid_tracking_url")
    if url.count(CLICK_ID_PLACEHOLDER) != 1:
        raise InvalidInput("a tracking URL carries {click_id} exactly once", code="invalid_tracking_url")
    filled = url.replace(CLICK_ID_PLACEHOLDER, _MARKER)
    if "{" in filled or "}" in filled:
        raise InvalidInput("a tracking URL has no placeholder other than {click_id}", code="invalid_tracking_url")
    try:
        parts = urlsplit(filled)
        host = parts.hostname
    except ValueError:
        raise InvalidInput(f"{url!r} is not a URL", code="invalid_tracking_url") from None
    if parts.scheme != "https" or not host or "." not in host or parts.username or parts.password:
        raise InvalidInput("a tracking URL is https://<partner's host>/...", code="invalid_tracking_url")
    if _MARKER in parts.netloc or _MARKER in parts.fragment:
        raise InvalidInput("{click_id} belongs in the path or query of a tracking URL", code="invalid_tracking_url")
    return url


def _text(value: str, what: str, code: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise InvalidInput(f"{what} is 1-{limit} characters", code=code)
    return text


def check_tariff_id(tariff_id: str) -> str:
    """The network's id of a goods rate (Admitad's tariff id, a direct partner's category code)."""
    if not isinstance(tariff_id, str) or not _TARIFF_ID.match(tariff_id):
        raise InvalidInput(
            f"a tariff id is 1-{MAX_TARIFF_ID} letters, digits or inner '_.:-', like '12345'",
            code="invalid_tariff_id",
        )
    return tariff_id


@dataclass(frozen=True)
class GoodsRate:
    """A rate for a category of goods within a store ("Electronics: 2%"), shown with the conditions.

    With a `tariff_id` it is also priced: a postback that reports that tariff (or category) of an order
    earns this rate instead of the partner's."""

    name: str
    rate_percent: Decimal
    tariff_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "a category of goods", "invalid_goods_rate", MAX_NAME))
        _check_rate(self.rate_percent)
        if self.tariff_id is not None:
            check_tariff_id(self.tariff_id)


@dataclass(frozen=True)
class Promotion:
    """A time-boxed rate: in force from `starts_at` (inclusive) to `ends_at` (exclusive)."""

    promotion_id: str
    rate_percent: Decimal
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        _check_rate(self.rate_percent)
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise InvalidInput("promotion times carry their offset", code="invalid_promotion_window")
        if self.ends_at <= self.starts_at:
            raise InvalidInput("a promotion ends after it starts", code="invalid_promotion_window")

    def in_force(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def _check_rate(rate: Decimal) -> None:
    if isinstance(rate, bool) or not isinstance(rate, Decimal):
        raise InvalidInput("a rate is a decimal percent", code="invalid_rate")
    parse_rate_percent(str(rate))


def parse_commission_share(text: str) -> Decimal:
    """A commission share as the back office writes it: a decimal string, "100" or "50"."""
    try:
        share = parse_rate_percent(text)
    except InvalidInput:
        raise InvalidInput(
            f"{text[:40]!r} is not a share between 0 and 100 percent", code="invalid_commission_share"
        ) from None
    return check_commission_share(share)


def check_commission_share(share: Decimal) -> Decimal:
    """The share of the network's commission a member may get at most: a percent, 0 < share <= 100."""
    if isinstance(share, bool) or not isinstance(share, Decimal) or not share.is_finite():
        raise InvalidInput("a commission share is a decimal percent", code="invalid_commission_share")
    if not 0 < share <= FULL_COMMISSION_SHARE:
        raise InvalidInput("a commission share is above 0 and at most 100 percent", code="invalid_commission_share")
    return share


_CAMPAIGN_ID = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    category: Category
    rate_percent: Decimal
    tracking_url: str
    accrual_days: int
    conditions: str
    network: Network
    active: bool = True
    aliases: tuple[str, ...] = ()
    goods_rates: tuple[GoodsRate, ...] = ()
    promotions: tuple[Promotion, ...] = field(default=())
    # Invariant 10: the member's cashback is at most this share of the commission the network reports.
    commission_share_percent: Decimal = FULL_COMMISSION_SHARE
    # The network's id of the partner's programme (Admitad's `advcampaign`): what a lost order is filed under.
    network_campaign_id: str | None = None

    def __post_init__(self) -> None:
        check_partner_id(self.partner_id)
        object.__setattr__(self, "name", _text(self.name, "a partner's name", "invalid_name", MAX_NAME))
        object.__setattr__(self, "category", _enum(Category, self.category, "invalid_category"))
        object.__setattr__(self, "network", _enum(Network, self.network, "invalid_network"))
        _check_rate(self.rate_percent)
        check_tracking_url(self.tracking_url)
        if isinstance(self.accrual_days, bool) or not isinstance(self.accrual_days, int):
            raise InvalidInput("accrual_days is a whole number of days", code="invalid_accrual_days")
        if not 1 <= self.accrual_days <= MAX_ACCRUAL_DAYS:
            raise InvalidInput(f"accrual_days is between 1 and {MAX_ACCRUAL_DAYS}", code="invalid_accrual_days")
        conditions = _text(self.conditions, "the conditions", "invalid_conditions", MAX_CONDITIONS)
        object.__setattr__(self, "conditions", conditions)
        if len(self.aliases) > MAX_ALIASES:
            raise InvalidInput(f"a partner has at most {MAX_ALIASES} aliases", code="invalid_aliases")
        aliases = tuple(_text(a, "an alias", "invalid_aliases", MAX_NAME) for a in self.aliases)
        object.__setattr__(self, "aliases", aliases)
        if len(self.goods_rates) > MAX_GOODS_RATES:
            raise InvalidInput(f"at most {MAX_GOODS_RATES} rates by goods", code="invalid_goods_rate")
        tariffs = [g.tariff_id for g in self.goods_rates if g.tariff_id is not None]
        if len(tariffs) != len(set(tariffs)):
            raise InvalidInput("each goods rate has a tariff id of its own", code="invalid_tariff_id")
        check_commission_share(self.commission_share_percent)
        if self.network_campaign_id is not None and not _CAMPAIGN_ID.fullmatch(self.network_campaign_id):
            raise InvalidInput("a network campaign id is 1 to 20 digits", code="invalid_network_campaign_id")

    # --- what a member gets ---------------------------------------------------------------------------

    def promotion_in_force(self, at: datetime) -> Promotion | None:
        """The promotion that sets the rate at `at`: the highest one running, if it beats the base rate."""
        running = [p for p in self.promotions if p.in_force(at) and p.rate_percent > self.rate_percent]
        return max(running, key=lambda p: (p.rate_percent, p.ends_at), default=None)

    def rate_in_force(self, at: datetime) -> Decimal:
        promotion = self.promotion_in_force(at)
        return promotion.rate_percent if promotion else self.rate_percent

    def tariff_rates(self) -> dict[str, Decimal]:
        """The goods rates a postback can select, by tariff id: what a click freezes with the rate in force.

        A promotion raises the partner's rate only; goods rates are the store's own terms per category."""
        return {g.tariff_id: g.rate_percent for g in self.goods_rates if g.tariff_id is not None}

    def tracking_url_for(self, click_id: str) -> str:
        return self.tracking_url.replace(CLICK_ID_PLACEHOLDER, quote(click_id, safe=""))

    def matches(self, query: str) -> bool:
        """Whether a member's search text is part of the name or of an alias, whatever the case, ё or not."""
        needle = search_key(query)
        return any(needle in search_key(name) for name in (self.name, *self.aliases))

    # --- changes by the back office --------------------------------------------------------------------

    def replaced_by(self, new: Partner) -> Partner:
        """The partner as the back office now describes it; its promotions are kept (they have their own route)."""
        return replace(new, promotions=self.promotions)

    def with_promotion(self, promotion: Promotion, now: datetime) -> Partner:
        """Adds a promotion; promotions that ended are dropped first when the list would grow too long."""
        kept = [p for p in self.promotions if p.promotion_id != promotion.promotion_id]
        if len(kept) >= MAX_PROMOTIONS:
            kept = [p for p in kept if p.ends_at > now]
        if len(kept) >= MAX_PROMOTIONS:
            raise InvalidInput(
                f"a partner has at most {MAX_PROMOTIONS} current or coming promotions", code="too_many_promotions"
            )
        return replace(self, promotions=(*kept, promotion))


@dataclass(frozen=True)
class Offer:
    """A partner as a member sees it at one moment: the rate in force and the promotion that set it."""

    partner: Partner
    rate_percent: Decimal
    promotion: Promotion | None

    @classmethod
    def at(cls, partner: Partner, now: datetime) -> Offer:
        promotion = partner.promotion_in_force(now)
        return cls(partner, promotion.rate_percent if promotion else partner.rate_percent, promotion)


def search_key(text: str) -> str:
    # Russians mostly type ё (U+0451) as its plain letter (U+0435): "Перекресток" finds "Перекрёсток".
    return text.casefold().replace("\u0451", "\u0435").strip()


def sort_key(partner: Partner) -> tuple[str, str]:
    """Listing order: by name as people read it, then by id so that equal names keep a stable order."""
    return (search_key(partner.name), partner.partner_id)


def _enum(kind: type[_E], value: Any, code: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"{value!r} is not one of: {allowed}", code=code) from None
