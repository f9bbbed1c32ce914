"""The partner catalog in DynamoDB: one item per partner, its promotions embedded in it.

`PARTNER#<id>` / `PARTNER` holds everything a click needs, so that one read prices a click. Active
partners also carry `active_category` and `listing_key`, which put them in the sparse index
`active_by_category`: the public catalog is a Query per category on it (never a scan), spread over one
index partition per category. An inactive partner has neither attribute and drops out of the index.
Changes are read-modify-write with a version condition, so that a new promotion and a replaced partner
never overwrite each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from cashback.catalog.rules import (
    FULL_COMMISSION_SHARE,
    Category,
    GoodsRate,
    Network,
    Partner,
    Promotion,
    search_key,
)
from cashback.platform import dynamodb as tables
from cashback.platform.errors import Conflict

PARTNER_SK = "PARTNER"
MAX_ATTEMPTS = 5


def partition(partner_id: str) -> str:
    return f"PARTNER#{partner_id}"


class GoodsRateAttribute(MapAttribute[str, str]):
    name = UnicodeAttribute()
    rate_percent = UnicodeAttribute()
    tariff_id = UnicodeAttribute(null=True)


class PromotionAttribute(MapAttribute[str, str]):
    promotion_id = UnicodeAttribute()
    rate_percent = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()


class ActiveByCategory(GlobalSecondaryIndex["PartnerModel"]):
    class Meta:
        index_name = "active_by_category"
        projection = AllProjection()

    active_category = UnicodeAttribute(hash_key=True)
    listing_key = UnicodeAttribute(range_key=True)


class PartnerModel(Model):
    class Meta:
        table_name = "unbound-catalog"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    partner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    category = UnicodeAttribute()
    rate_percent = UnicodeAttribute()  # a decimal string: no float ever holds a rate
    tracking_url = UnicodeAttribute()
    accrual_days = NumberAttribute()
    conditions = UnicodeAttribute()
    network = UnicodeAttribute()
    active = BooleanAttribute()
    aliases = ListAttribute(of=UnicodeAttribute, default=list)
    goods_rates = ListAttribute[GoodsRateAttribute](of=GoodsRateAttribute, default=list)
    promotions = ListAttribute[PromotionAttribute](of=PromotionAttribute, default=list)
    # A decimal string; partners written before it existed get the whole commission (100).
    commission_share_percent = UnicodeAttribute(null=True)
    network_campaign_id = UnicodeAttribute(null=True)
    active_category = UnicodeAttribute(null=True)
    listing_key = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()
    version = VersionAttribute()

    active_by_category = ActiveByCategory()

    def to_domain(self) -> Partner:
        return Partner(
            partner_id=self.partner_id,
            name=self.name,
            category=Category(self.category),
            rate_percent=Decimal(self.rate_percent),
            tracking_url=self.tracking_url,
            accrual_days=int(self.accrual_days),
            conditions=self.conditions,
            network=Network(self.network),
            active=bool(self.active),
            aliases=tuple(str(alias) for alias in self.aliases or ()),
            goods_rates=tuple(GoodsRate(g.name, Decimal(g.rate_percent), g.tariff_id) for g in self.goods_rates or ()),
            promotions=tuple(
                Promotion(p.promotion_id, Decimal(p.rate_percent), p.starts_at, p.ends_at)
                for p in self.promotions or ()
            ),
            commission_share_percent=Decimal(self.commission_share_percent or FULL_COMMISSION_SHARE),
            network_campaign_id=self.network_campaign_id,
        )

    @classmethod
    def from_domain(cls, partner: Partner, *, actor: str, at: datetime, version: int | None = None) -> PartnerModel:
        model = cls(
            partition(partner.partner_id),
            PARTNER_SK,
            partner_id=partner.partner_id,
            name=partner.name,
            category=partner.category.value,
            rate_percent=str(partner.rate_percent),
            tracking_url=partner.tracking_url,
            accrual_days=partner.accrual_days,
            conditions=partner.conditions,
            network=partner.network.value,
            active=partner.active,
            aliases=list(partner.aliases),
            goods_rates=[
                GoodsRateAttribute(name=g.name, rate_percent=str(g.rate_percent), tariff_id=g.tariff_id)
                for g in partner.goods_rates
            ],
            promotions=[
                PromotionAttribute(
                    promotion_id=p.promotion_id,
                    rate_percent=str(p.rate_percent),
                    starts_at=p.starts_at,
                    ends_at=p.ends_at,
                )
                for p in partner.promotions
            ],
            commission_share_percent=str(partner.commission_share_percent),
            network_campaign_id=partner.network_campaign_id,
            active_category=partner.category.value if partner.active else None,
            listing_key=f"{search_key(partner.name)}#{partner.partner_id}" if partner.active else None,
            updated_at=at,
            updated_by=actor,
        )
        if version is not None:
            model.version = version
        return model


MODELS: tuple[type[Model], ...] = (PartnerModel,)

# Decides a partner's new state from its current one (None: not in the catalog yet).
Change = Callable[[Partner | None], Partner]


class CatalogRepository:
    def __init__(self, table_name: str, connection: Connection) -> None:
        self._table_name = table_name
        self._connection = connection
        tables.bind(MODELS, table_name)

    def get(self, partner_id: str) -> Partner | None:
        try:
            return PartnerModel.get(partition(partner_id), PARTNER_SK).to_domain()
        except DoesNotExist:
            return None

    def active(self) -> list[Partner]:
        """Every active partner: one Query per category on the sparse index, pages followed."""
        return [
            model.to_domain()
            for category in Category
            for model in PartnerModel.active_by_category.query(category.value)
        ]

    def change(self, partner_id: str, change: Change, *, actor: str, at: datetime) -> tuple[Partner, bool]:
        """Applies `change` to the partner as stored, and writes the result if nobody changed it meanwhile.

        Returns the partner as written and whether it was created.
        """
        for _ in range(MAX_ATTEMPTS):
            try:
                current: PartnerModel | None = PartnerModel.get(partition(partner_id), PARTNER_SK, consistent_read=True)
            except DoesNotExist:
                current = None
            partner = change(current.to_domain() if current else None)
            model = PartnerModel.from_domain(partner, actor=actor, at=at, version=current.version if current else None)
            try:
                model.save()
            except PutError as error:
                if error.cause_response_code == "ConditionalCheckFailedException":
                    continue  # changed meanwhile: decide again on what is stored now
                raise
            return partner, current is None
        raise Conflict(f"partner {partner_id} is changing too fast; try again", code="partner_busy")

    def write_all(self, partners: Iterable[Partner], *, actor: str, at: datetime) -> int:
        """Writes partners as they are given (BatchWriteItem, 25 a call): for seeding a catalog."""
        written = 0
        with PartnerModel.batch_write() as batch:
            for partner in partners:
                batch.save(PartnerModel.from_domain(partner, actor=actor, at=at))
                written += 1
        return written
