"""The catalog's and the redirect's wire shapes. Rates travel as decimal strings, never as JSON numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from cashback.catalog.rules import (
    MAX_ACCRUAL_DAYS,
    MAX_TARIFF_ID,
    Category,
    GoodsRate,
    Network,
    Offer,
    Partner,
    Promotion,
    parse_commission_share,
)
from cashback.ledger.money import parse_rate_percent
from cashback.platform.times import Instant

RateText = Field(min_length=1, max_length=12, description='A percent as a decimal string, e.g. "7" or "4.5".')


class CategoryOut(BaseModel):
    category: Category
    name: str


class CategoryList(BaseModel):
    items: list[CategoryOut]

    @classmethod
    def of(cls, categories: list[Category]) -> CategoryList:
        return cls(items=[CategoryOut(category=c, name=c.display_name) for c in categories])


class GoodsRateOut(BaseModel):
    name: str
    rate_percent: str
    tariff_id: str | None = Field(
        default=None, description="The network's tariff id (or the partner's category code) that selects this rate."
    )

    @classmethod
    def of(cls, goods_rate: GoodsRate) -> GoodsRateOut:
        return cls(name=goods_rate.name, rate_percent=str(goods_rate.rate_percent), tariff_id=goods_rate.tariff_id)


class PromotionOut(BaseModel):
    rate_percent: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, promotion: Promotion) -> PromotionOut:
        return cls(rate_percent=str(promotion.rate_percent), starts_at=promotion.starts_at, ends_at=promotion.ends_at)


class PartnerOut(BaseModel):
    partner_id: str
    name: str
    category: Category
    rate_percent: str = Field(description="The rate in force now, a promotion included.")
    promotion: PromotionOut | None = Field(default=None, description="The promotion that sets the rate, if any.")
    accrual_days: int = Field(description="The longest time from purchase to confirmation.")
    conditions: str
    goods_rates: list[GoodsRateOut] = Field(description="Rates for categories of goods, shown with the conditions.")
    go_url: str | None = Field(default=None, description="The member's signed link to the store (member token only).")

    @classmethod
    def of(cls, offer: Offer, go_url: str | None = None) -> PartnerOut:
        partner = offer.partner
        return cls(
            partner_id=partner.partner_id,
            name=partner.name,
            category=partner.category,
            rate_percent=str(offer.rate_percent),
            promotion=PromotionOut.of(offer.promotion) if offer.promotion else None,
            accrual_days=partner.accrual_days,
            conditions=partner.conditions,
            goods_rates=[GoodsRateOut.of(g) for g in partner.goods_rates],
            go_url=go_url,
        )


class PartnerPage(BaseModel):
    items: list[PartnerOut]
    next_cursor: str | None


# --- the back office --------------------------------------------------------------------------------------


class GoodsRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(min_length=1, max_length=100)
    rate_percent: StrictStr = RateText
    tariff_id: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TARIFF_ID,
        description="Admitad's tariff id of this goods rate, or a direct partner's category code: postbacks "
        "reporting it earn this rate.",
    )


class PartnerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(min_length=1, max_length=100)
    category: Category
    rate_percent: StrictStr = RateText
    tracking_url: StrictStr = Field(
        min_length=1, max_length=2048, description="https URL with `{click_id}` where the click id goes."
    )
    accrual_days: StrictInt = Field(ge=1, le=MAX_ACCRUAL_DAYS)
    conditions: StrictStr = Field(min_length=1, max_length=4000)
    network: Network
    active: StrictBool = True
    aliases: list[StrictStr] = Field(default_factory=list, max_length=10, description="Other names members search by.")
    goods_rates: list[GoodsRateIn] = Field(default_factory=list, max_length=20)
    commission_share_percent: StrictStr = Field(
        default="100",
        min_length=1,
        max_length=12,
        description='The share of the network\'s reported commission a member may get at most, e.g. "50".',
    )
    network_campaign_id: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="The network's id of the partner's programme (Admitad's advcampaign): lost orders are filed "
        "under it.",
    )

    def to_domain(self, partner_id: str) -> Partner:
        return Partner(
            partner_id=partner_id,
            name=self.name,
            category=self.category,
            rate_percent=parse_rate_percent(self.rate_percent),
            tracking_url=self.tracking_url,
            accrual_days=self.accrual_days,
            conditions=self.conditions,
            network=self.network,
            active=self.active,
            aliases=tuple(self.aliases),
            goods_rates=tuple(
                GoodsRate(g.name, parse_rate_percent(g.rate_percent), g.tariff_id) for g in self.goods_rates
            ),
            commission_share_percent=parse_commission_share(self.commission_share_percent),
            network_campaign_id=self.network_campaign_id,
        )


class AdminPartnerOut(BaseModel):
    partner_id: str
    name: str
    category: Category
    rate_percent: str
    tracking_url: str
    accrual_days: int
    conditions: str
    network: Network
    active: bool
    aliases: list[str]
    goods_rates: list[GoodsRateOut]
    promotions: list[PromotionOut]
    commission_share_percent: str
    network_campaign_id: str | None

    @classmethod
    def of(cls, partner: Partner) -> AdminPartnerOut:
        return cls(
            partner_id=partner.partner_id,
            name=partner.name,
            category=partner.category,
            rate_percent=str(partner.rate_percent),
            tracking_url=partner.tracking_url,
            accrual_days=partner.accrual_days,
            conditions=partner.conditions,
            network=partner.network,
            active=partner.active,
            aliases=list(partner.aliases),
            goods_rates=[GoodsRateOut.of(g) for g in partner.goods_rates],
            promotions=[PromotionOut.of(p) for p in partner.promotions],
            commission_share_percent=str(partner.commission_share_percent),
            network_campaign_id=partner.network_campaign_id,
        )


class PromotionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_percent: StrictStr = RateText
    starts_at: Instant
    ends_at: Instant

    @property
    def rate(self) -> Decimal:
        return parse_rate_percent(self.rate_percent)


class PromotionCreated(BaseModel):
    promotion_id: str
    partner_id: str
    rate_percent: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, partner_id: str, promotion: Promotion) -> PromotionCreated:
        return cls(
            promotion_id=promotion.promotion_id,
            partner_id=partner_id,
            rate_percent=str(promotion.rate_percent),
            starts_at=promotion.starts_at,
            ends_at=promotion.ends_at,
        )
