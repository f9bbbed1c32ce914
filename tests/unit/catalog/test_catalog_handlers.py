"""The public catalog through real API Gateway events, on moto: what a visitor and a signed-in member see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.calls import counting_calls
from cashback.catalog.rules import Category, GoodsRate
from cashback.clicks.rules import verify_link
from local import tokens
from tests.fixtures.handlers import invoke, sample_event
from tests.unit.catalog.support import LINK_KEY, catalog_service, for_partner, partner

pytestmark = pytest.mark.usefixtures("catalog_tables")

PHONE = "+79161234567"


def given_partners(*partners: object) -> None:
    for p in partners:
        catalog_service().put_partner(p, actor="test")  # type: ignore[arg-type]


def names(page: dict) -> list[str]:
    return [item["name"] for item in page["items"]]


@pytest.fixture
def local_member_tokens() -> str:
    """An ID token as the local stack mints them (the local wiring checks them) for PHONE."""
    return tokens.mint_member(PHONE)


def test_the_categories_have_names_for_people() -> None:
    status, body = invoke("catalog", sample_event("catalog-categories"))
    assert status == 200
    assert body["items"] == [
        {"category": "online_stores", "name": "Online stores"},
        {"category": "food_delivery", "name": "Food delivery"},
        {"category": "grocery_delivery", "name": "Grocery delivery"},
        {"category": "entertainment", "name": "Entertainment"},
        {"category": "travel", "name": "Travel"},
    ]


def test_a_category_is_listed_by_name_page_by_page() -> None:
    given_partners(
        *(partner(f"store-{n.lower()}", name=f"Store {n}") for n in "ECABD"),
        partner("booking", name="Booking.com", category=Category.TRAVEL, rate_percent=Decimal("5")),
    )

    seen, cursor, pages = [], None, 0
    while True:
        query = {"category": "online_stores", "limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = invoke("catalog", sample_event("catalog-partners", query=query))
        assert status == 200
        seen += names(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["Store A", "Store B", "Store C", "Store D", "Store E"]
    assert pages == 3


def test_members_search_by_name_or_alias_in_any_case() -> None:
    given_partners(
        partner("aliexpress", name="AliExpress"),
        partner("perekrestok", name="Perekrestok", category=Category.GROCERY_DELIVERY, aliases=("Перекрёсток",)),
    )

    _, by_alias = invoke("catalog", sample_event("catalog-partners", query={"q": "перекресток"}))
    _, by_name = invoke("catalog", sample_event("catalog-partners", query={"q": "ALIEXP"}))
    _, nothing = invoke("catalog", sample_event("catalog-partners", query={"q": "booking"}))

    assert names(by_alias) == ["Perekrestok"]
    assert names(by_name) == ["AliExpress"]
    assert nothing == {"items": [], "next_cursor": None}


def test_a_paused_partner_is_neither_listed_nor_shown() -> None:
    given_partners(partner("ozon", name="Ozon"), partner("paused", name="Paused Store", active=False))

    _, page = invoke("catalog", sample_event("catalog-partners", query=None))
    status, error = invoke("catalog", for_partner(sample_event("catalog-partner"), "paused"))

    assert names(page) == ["Ozon"]
    assert (status, error["error"]["code"]) == (404, "partner_not_found")


def test_the_listed_rate_includes_a_running_promotion() -> None:
    now = datetime.now(UTC)
    given_partners(partner("aliexpress"), partner("ozon", name="Ozon", rate_percent=Decimal("4")))
    catalog_service().add_promotion(
        "aliexpress", Decimal("11"), now - timedelta(days=1), now + timedelta(days=1), actor="test"
    )
    catalog_service().add_promotion(
        "ozon", Decimal("8"), now + timedelta(days=6), now + timedelta(days=7), actor="test"
    )

    _, page = invoke("catalog", sample_event("catalog-partners", query=None))

    aliexpress, ozon = page["items"]
    assert aliexpress["rate_percent"] == "11"
    assert aliexpress["promotion"]["rate_percent"] == "11"
    assert datetime.fromisoformat(aliexpress["promotion"]["ends_at"]) > now
    assert (ozon["rate_percent"], ozon["promotion"]) == ("4", None)  # announced, not started


def test_one_partner_with_its_conditions_and_rates_by_goods() -> None:
    given_partners(
        partner(
            "m-video",
            name="M.Video",
            rate_percent=Decimal("2"),
            accrual_days=40,
            conditions="Not paid on gift cards.",
            goods_rates=(
                GoodsRate("Smartphones", Decimal("1"), "28402"),
                GoodsRate("Home appliances", Decimal("3.5")),
            ),
        )
    )
    status, body = invoke("catalog", for_partner(sample_event("catalog-partner"), "m-video"))

    assert status == 200
    assert body == {
        "partner_id": "m-video",
        "name": "M.Video",
        "category": "online_stores",
        "rate_percent": "2",
        "promotion": None,
        "accrual_days": 40,
        "conditions": "Not paid on gift cards.",
        "goods_rates": [
            {"name": "Smartphones", "rate_percent": "1", "tariff_id": "28402"},
            {"name": "Home appliances", "rate_percent": "3.5", "tariff_id": None},
        ],
        "go_url": None,
    }


def test_a_member_token_adds_signed_links_to_the_stores(local_member_tokens: str) -> None:
    given_partners(partner("aliexpress"), partner("ozon", name="Ozon"))
    event = sample_event(
        "catalog-partners-member", query=None, headers={"authorization": f"Bearer {local_member_tokens}"}
    )

    status, page = invoke("catalog", event)

    assert status == 200
    for item in page["items"]:
        link = urlsplit(item["go_url"])
        assert f"{link.scheme}://{link.netloc}" == "https://abc123.execute-api.eu-central-1.amazonaws.com"
        assert link.path == f"/go/{item['partner_id']}"
        [token] = parse_qs(link.query)["t"]
        member = verify_link(token, item["partner_id"], datetime.now(UTC), LINK_KEY.encode())
        assert member == tokens.member_id_for(PHONE)


def test_links_point_to_the_public_address_when_one_is_set(
    local_member_tokens: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://cashback.example.com/")
    given_partners(partner("aliexpress"))
    event = for_partner(sample_event("catalog-partner"), "aliexpress")
    event["headers"]["authorization"] = f"Bearer {local_member_tokens}"

    _, body = invoke("catalog", event)

    assert body["go_url"].startswith("https://cashback.example.com/go/aliexpress?t=")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token",
        "Bearer " + tokens.mint_member(PHONE, key=tokens.SigningKey.generate()),  # someone else's key
        "Bearer " + tokens.mint_member(PHONE, phone_verified=False),
        "Basic dXNlcjpwYXNz",
    ],
    ids=["garbage", "forged", "unverified phone", "basic"],
)
def test_without_a_valid_member_token_the_catalog_is_shown_without_links(
    local_member_tokens: str, authorization: str
) -> None:
    given_partners(partner("aliexpress"))
    event = sample_event("catalog-partners-member", query=None, headers={"authorization": authorization})

    status, page = invoke("catalog", event)

    assert status == 200
    assert [item["go_url"] for item in page["items"]] == [None]


@pytest.mark.parametrize(
    "query",
    [
        {"category": "groceries"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"cursor": "%%%"},
        {"cursor": "eyJzayI6IngifQ"},  # a cursor of another list
        {"q": "x" * 101},
    ],
)
def test_bad_list_parameters_are_refused_with_a_code(query: dict) -> None:
    status, error = invoke("catalog", sample_event("catalog-partners", query=query))
    assert status in (400, 422)
    assert error["error"]["code"] in ("invalid_request", "invalid_cursor")


@pytest.mark.parametrize("partner_id", ["nobody", "AliExpress", "a" * 300, "%20"])
def test_an_unknown_partner_is_404(partner_id: str) -> None:
    given_partners(partner("aliexpress"))
    status, error = invoke("catalog", for_partner(sample_event("catalog-partner"), partner_id))
    assert (status, error["error"]["code"]) == (404, "partner_not_found")


def test_a_warm_container_lists_the_catalog_without_reading_the_database() -> None:
    given_partners(partner("aliexpress"), partner("booking", name="Booking.com", category=Category.TRAVEL))

    with counting_calls() as cold:
        invoke("catalog", sample_event("catalog-partners", query=None))
    with counting_calls() as warm:
        invoke("catalog", sample_event("catalog-partners", query={"q": "booking"}))
        invoke("catalog", for_partner(sample_event("catalog-partner"), "aliexpress"))

    assert cold == {"Query": len(Category)}  # one Query per category on the sparse index, no Scan
    assert warm == {}
