"""Issue 3's story over HTTP through the local gateway and DynamoDB Local: a visitor browses the seeded
catalog, a member follows their link to a store and the click is recorded at the rate in force, and the
back office adds a partner with a promotion that members then see."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cashback.bootstrap import Container
from local import tokens
from local.seed_catalog import seed_catalog
from local.wiring import local_container
from tests.fixtures.handlers import handler_module
from tests.unit.catalog.support import forget_warm_state

LINK_SIGNING_SECRET = "e2e-link-signing-secret-0123456789abcdef"
SIGN_IN = "https://cashback.example.com/sign-in"
# The functions the gateway hosts for this story, whose containers keep warm state (catalog, partners, verifier).
FUNCTIONS = ("catalog", "clicks", "admin")


@pytest.fixture(scope="module")
def seeded(dynamodb_local: Any) -> None:
    seed_catalog(local_container(), datetime.now(UTC))


def cold_functions() -> None:
    """The gateway's functions start cold: each gets a new container, built from the environment as it is now."""
    forget_warm_state()
    for function in FUNCTIONS:
        handler_module(function)  # the module the gateway runs, wired anew


@pytest.fixture(autouse=True)
def local_stack(seeded: None) -> Iterator[None]:
    """The variables the local stack gives the catalog and clicks functions, and a cold container each test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINK_SIGNING_SECRET", LINK_SIGNING_SECRET)
        cold_functions()
        yield
    cold_functions()  # the next tests' functions see the gateway's own environment again


def all_pages(api: Any, token: str | None = None, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = api.get("/partners", token=token, **query, **({"cursor": cursor} if cursor else {}))
        assert response.status == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def follow(api: Any, go_url: str) -> Any:
    """What the browser gets when it opens the link (the client follows no redirect)."""
    link = urlsplit(go_url)
    return api.get(link.path, **{k: v[0] for k, v in parse_qs(link.query).items()})


def test_a_visitor_browses_a_category_page_by_page(api: Any) -> None:
    # When a visitor reads the grocery delivery category, 25 partners a page
    items = all_pages(api, category="grocery_delivery", limit=25)

    # Then they see every grocery partner once, by name, with rates, and no personal links
    assert len(items) > 25
    assert {item["category"] for item in items} == {"grocery_delivery"}
    assert len({item["partner_id"] for item in items}) == len(items)
    assert [item["name"].casefold() for item in items] == sorted(item["name"].casefold() for item in items)
    perekrestok = next(item for item in items if item["partner_id"] == "perekrestok")
    assert (perekrestok["rate_percent"], perekrestok["accrual_days"]) == ("15", 30)
    assert all(item["go_url"] is None for item in items)


def test_a_visitor_finds_a_store_by_its_russian_name_and_reads_its_conditions(api: Any) -> None:
    # When a visitor searches for Перекресток and opens its page
    found = api.get("/partners", q="перекресток").json()["items"]
    details = api.get("/partners/perekrestok").json()

    # Then it is found, with its conditions and rates for goods
    assert "perekrestok" in [item["partner_id"] for item in found]
    assert details["conditions"]
    assert {"name": "First order", "rate_percent": "15", "tariff_id": "31015"} in details["goods_rates"]
    assert api.get("/categories").json()["items"][0] == {"category": "online_stores", "name": "Online stores"}


def test_a_member_follows_their_link_to_the_store_and_the_click_is_kept_with_the_rate(
    api: Any, member_token: Any, container: Container
) -> None:
    # Given a member who finds AliExpress, with a link of their own
    token, phone = member_token()
    found = api.get("/partners", token=token, q="aliexpress").json()["items"]
    [aliexpress] = [item for item in found if item["partner_id"] == "aliexpress"]
    assert aliexpress["go_url"]

    # When they follow the link
    redirect = follow(api, aliexpress["go_url"])

    # Then they go to the store through Admitad, and their click is kept at the rate in force
    assert redirect.status == 302
    assert redirect.headers["Cache-Control"] == "no-store"
    store = urlsplit(redirect.headers["Location"])
    assert store.netloc == "ad.admitad.com"
    [click_id] = parse_qs(store.query)["subid"]
    click = container.clicks.find_click(click_id)
    assert click is not None
    assert (click.member_id, click.partner_id) == (tokens.member_id_for(phone), "aliexpress")
    assert click.rate_percent == Decimal(aliexpress["rate_percent"]) == Decimal(7)


def test_an_app_records_a_click_and_opens_the_store_itself(api: Any, member_token: Any, container: Container) -> None:
    # Given a member
    token, _ = member_token()

    # When their app records a click on Booking
    response = api.post("/clicks", json={"partner_id": "booking"}, token=token)

    # Then it gets the store's address with the click id, and the click is kept
    assert response.status == 201
    body = response.json()
    assert body["click_id"] in body["redirect_url"]
    assert container.clicks.find_click(body["click_id"]) is not None


@pytest.mark.parametrize("query", [{"t": "forged.token"}, {}], ids=["forged", "missing"])
def test_a_link_that_cannot_be_trusted_goes_to_sign_in(api: Any, query: dict[str, str]) -> None:
    redirect = api.get("/go/aliexpress", **query)

    assert redirect.status == 302
    assert redirect.headers["Location"] == f"{SIGN_IN}?return_to=%2Fgo%2Faliexpress"


def test_another_members_link_cannot_be_made_from_mine(api: Any, member_token: Any) -> None:
    token, _ = member_token()
    go_url = api.get("/partners/aliexpress", token=token).json()["go_url"]
    to_another_store = go_url.replace("/go/aliexpress?", "/go/ozon?")

    assert follow(api, to_another_store).headers["Location"].startswith(SIGN_IN)


def test_an_unknown_store_is_404(api: Any) -> None:
    for response in (api.get("/go/no-such-store", t="x"), api.get("/partners/no-such-store")):
        assert response.status == 404
        assert response.json()["error"]["code"] == "partner_not_found"


def test_the_back_office_adds_a_partner_and_a_promotion_that_members_see(
    api: Any, admin_token: str, member_token: Any, container: Container
) -> None:
    # Given a new partner at 10 %, and a promotion at 25 % from an hour ago
    partner_id = f"e2e-{uuid.uuid4().hex[:10]}"
    name = f"Zeta {partner_id}"
    now = datetime.now(UTC)
    partner = {
        "name": name,
        "category": "entertainment",
        "rate_percent": "10",
        "tracking_url": "https://partner.example/track?click={click_id}",
        "accrual_days": 30,
        "conditions": "Tickets paid in full.",
        "network": "direct",
    }
    promotion = {
        "rate_percent": "25",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
    }

    # When the back office adds them
    created = api.put(f"/admin/partners/{partner_id}", json=partner, token=admin_token)
    promoted = api.post(f"/admin/partners/{partner_id}/promotions", json=promotion, token=admin_token)

    # Then members see the partner at the promotion's rate, and their clicks are kept at it
    assert (created.status, promoted.status) == (201, 201), (created.text, promoted.text)
    token, _ = member_token()
    [listed] = api.get("/partners", token=token, q=partner_id, category="entertainment").json()["items"]
    assert listed["rate_percent"] == "25"
    assert listed["promotion"]["rate_percent"] == "25"
    click_id = parse_qs(urlsplit(follow(api, listed["go_url"]).headers["Location"]).query)["click"][0]
    click = container.clicks.find_click(click_id)
    assert click is not None
    assert click.rate_percent == Decimal(25)


def test_bad_input_is_a_clear_4xx_never_a_500(api: Any, admin_token: str, member_token: Any) -> None:
    # When visitors, members and the back office send requests that make no sense
    token, _ = member_token()
    cases = [
        api.get("/partners", limit="1000"),
        api.get("/partners", cursor="not-a-cursor"),
        api.get("/partners", category="groceries"),
        api.post("/clicks", json={}, token=token),
        api.post("/clicks", json={"partner_id": "no-such-store"}, token=token),
        api.put("/admin/partners/e2e-bad", json={"name": "Bad", "rate_percent": 7}, token=admin_token),
        api.put("/admin/partners/Bad_Id", json={}, token=admin_token),
        api.post("/admin/partners/no-such-store/promotions", json={"rate_percent": "5"}, token=admin_token),
        api.post(
            "/admin/partners/aliexpress/promotions",
            json={
                "rate_percent": "9",
                "starts_at": "2026-11-28T00:00:00+03:00",
                "ends_at": "2026-11-27T00:00:00+03:00",
            },
            token=admin_token,
        ),
    ]

    # Then each gets a 4xx with an error code
    for response in cases:
        assert 400 <= response.status < 500, response.text
        assert response.json()["error"]["code"]


def test_only_members_record_clicks_and_only_the_back_office_changes_the_catalog(api: Any, member_token: Any) -> None:
    token, _ = member_token()

    assert api.post("/clicks", json={"partner_id": "aliexpress"}).status == 401
    assert api.put("/admin/partners/aliexpress", json={}, token=token).status == 403
