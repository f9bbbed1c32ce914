"""The catalog on DynamoDB Local: the sparse index of active partners, changes that do not overwrite each
other, and the local stack's seeded catalog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bench.calls import counting_calls
from cashback.bootstrap import Container
from cashback.catalog.rules import Category, Partner, Promotion
from local.seed_catalog import seed_catalog
from tests.unit.catalog.support import forget_warm_state, partner


@pytest.fixture(autouse=True)
def catalog_db(db: Any) -> Iterator[None]:
    forget_warm_state()
    yield
    forget_warm_state()


@pytest.fixture
def tag() -> str:
    """A word only this test's partners have in their names, to find them among everyone else's."""
    return f"zq{uuid.uuid4().hex[:8]}"


def listed(container: Container, query: str, category: Category | None = None) -> list[str]:
    catalog = container.catalog
    catalog.forget_cached_catalog()  # a new container
    return [offer.partner.partner_id for offer in catalog.listing(category, query, 200, None).items]


def test_only_active_partners_are_in_the_index_and_a_change_moves_them(container: Container, tag: str) -> None:
    catalog = container.catalog
    catalog.put_partner(partner(f"{tag}-a", name=f"{tag} A"), actor="it")
    catalog.put_partner(partner(f"{tag}-b", name=f"{tag} B", active=False), actor="it")
    assert listed(container, tag) == [f"{tag}-a"]

    catalog.put_partner(partner(f"{tag}-a", name=f"{tag} A", category=Category.TRAVEL), actor="it")
    catalog.put_partner(partner(f"{tag}-b", name=f"{tag} B"), actor="it")

    assert listed(container, tag, Category.TRAVEL) == [f"{tag}-a"]
    assert listed(container, tag, Category.ONLINE_STORES) == [f"{tag}-b"]


def test_listing_reads_the_index_and_never_scans(container: Container, tag: str) -> None:
    container.catalog.put_partner(partner(f"{tag}-a", name=f"{tag} A"), actor="it")
    with counting_calls() as calls:
        listed(container, tag)
    assert set(calls) == {"Query"}


def test_a_promotion_added_meanwhile_survives_a_replacement_of_the_partner(container: Container, tag: str) -> None:
    catalog_store = container.catalog_repository
    partner_id = f"{tag}-race"
    container.catalog.put_partner(partner(partner_id, name=f"{tag} Race"), actor="it")
    now = datetime.now(UTC)
    racing = Promotion("racing", Decimal("20"), now - timedelta(hours=1), now + timedelta(hours=1))

    def add_racing_promotion(current: Partner | None) -> Partner:
        assert current is not None
        return current.with_promotion(racing, now)

    def replace_while_the_promotion_lands(current: Partner | None) -> Partner:
        assert current is not None
        if not current.promotions:  # another request adds a promotion between this change's read and write
            catalog_store.change(partner_id, add_racing_promotion, actor="other", at=now)
        return current.replaced_by(partner(partner_id, name=f"{tag} Race", rate_percent=Decimal("9")))

    written, created = catalog_store.change(partner_id, replace_while_the_promotion_lands, actor="it", at=now)

    stored = catalog_store.get(partner_id)
    assert created is False
    assert stored == written
    assert stored is not None
    assert stored.rate_percent == Decimal("9")
    assert stored.promotions == (racing,)


def test_the_seeded_catalog_has_the_named_stores_at_their_published_rates(container: Container) -> None:
    catalog = container.catalog
    now = datetime.now(UTC)

    written = seed_catalog(container, now)
    again = seed_catalog(container, now)  # idempotent: the same items again

    assert written == again >= 600
    everything = container.catalog_repository.active()
    assert {p.category for p in everything} == set(Category)
    assert len(everything) >= 600
    rates = {p.partner_id: p.rate_in_force(now) for p in everything}
    assert (rates["aliexpress"], rates["booking"], rates["perekrestok"]) == (Decimal(7), Decimal(5), Decimal(15))
    assert any(p.promotion_in_force(now) for p in everything), "a Black Friday is running"
    assert all(1 <= p.accrual_days <= 90 for p in everything)
    assert [o.partner.partner_id for o in catalog.listing(None, "перекрёсток", 10, None).items] == ["perekrestok"]
