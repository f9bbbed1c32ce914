"""What the catalog and clicks tests share: the functions' environment on moto, partners, events, clocks."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cashback.catalog.rules import Category, Network, Partner, Promotion
from cashback.catalog.service import CatalogService
from cashback.clicks.rules import Click
from local.wiring import local_container
from tests.fixtures.wiring import cold_start

LINK_KEY = "unit-tests-link-signing-key-0123456789abcdef"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Black Friday
MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"


def forget_warm_state() -> None:
    """Everything a warm container keeps (settings, tables, secrets, cached catalog, partners, verifier) is
    gone: the functions start cold."""
    cold_start()


def catalog_service() -> CatalogService:
    """The back office's catalog, as the admin function's wiring builds it."""
    return local_container().catalog


def find_click(click_id: str) -> Click | None:
    return local_container().clicks.find_click(click_id)


@pytest.fixture
def catalog_tables(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto with every table, and the catalog and clicks functions' variables as the template gives them."""
    monkeypatch.setenv("CATALOG_TABLE", moto_tables["CatalogTable"])
    monkeypatch.setenv("CLICKS_TABLE", moto_tables["ClicksTable"])
    monkeypatch.setenv("LINK_SIGNING_SECRET", LINK_KEY)
    monkeypatch.setenv("SIGN_IN_URL", "https://cashback.example.com/sign-in")
    forget_warm_state()
    yield moto_tables
    forget_warm_state()


def partner(partner_id: str = "aliexpress", **changes: Any) -> Partner:
    fields: dict[str, Any] = {
        "partner_id": partner_id,
        "name": "AliExpress",
        "category": Category.ONLINE_STORES,
        "rate_percent": Decimal("7"),
        "tracking_url": "https://ad.admitad.com/g/1e8d114494b7e165239416525dc3e8/?subid={click_id}",
        "accrual_days": 45,
        "conditions": "Cashback on paid orders; not on gift cards.",
        "network": Network.ADMITAD,
        **changes,
    }
    return Partner(**fields)


def promotion(rate: str, starts: timedelta, ends: timedelta, promotion_id: str = "p1") -> Promotion:
    """A promotion running from NOW + starts to NOW + ends."""
    return Promotion(promotion_id, Decimal(rate), NOW + starts, NOW + ends)


def for_partner(event: dict[str, Any], partner_id: str) -> dict[str, Any]:
    """The same route's event for another partner: the path is the route's with this partner's id in it."""
    changed = copy.deepcopy(event)
    path = changed["routeKey"].split(" ", 1)[1].replace("{partner_id}", partner_id)
    changed["rawPath"] = changed["requestContext"]["http"]["path"] = path
    changed["pathParameters"] = {"partner_id": partner_id}
    return changed
