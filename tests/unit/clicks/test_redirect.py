"""Going to a store through real API Gateway events, on moto: the redirect, the click it records, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from bench.calls import counting_calls
from cashback.bootstrap import Container
from cashback.catalog.rules import GoodsRate, Network
from cashback.clicks.rules import member_named_by, sign_link
from tests.fixtures.handlers import LambdaContext, handler_module, invoke, sample_event
from tests.fixtures.wiring import use_container
from tests.unit.catalog.support import (
    LINK_KEY,
    MEMBER,
    catalog_service,
    find_click,
    for_partner,
    partner,
)

pytestmark = pytest.mark.usefixtures("catalog_tables")

TRACKING = "https://ad.admitad.com/g/1e8d114494b7e165239416525dc3e8/?subid="
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def link(
    partner_id: str = "aliexpress", member_id: str = MEMBER, at: datetime | None = None, key: str = LINK_KEY
) -> str:
    return sign_link(member_id, partner_id, at or datetime.now(UTC), key.encode())


def go(partner_id: str = "aliexpress", token: str | None = None) -> dict[str, Any]:
    """What the browser gets for `GET /go/<partner>?t=<token>`."""
    event = for_partner(sample_event("clicks-go", query={"t": token} if token is not None else None), partner_id)
    response: dict[str, Any] = handler_module("clicks").lambda_handler(event, LambdaContext())
    return response


def given_aliexpress_on_black_friday() -> None:
    now = datetime.now(UTC)
    catalog_service().put_partner(partner("aliexpress"), actor="test")
    catalog_service().add_promotion(
        "aliexpress", Decimal("11"), now - timedelta(days=1), now + timedelta(days=1), actor="test"
    )


def test_following_a_link_records_the_click_and_goes_to_the_store() -> None:
    given_aliexpress_on_black_friday()

    response = go(token=link())

    assert response["statusCode"] == 302
    assert response["headers"]["Cache-Control"] == "no-store"
    location = response["headers"]["Location"]
    assert location.startswith(TRACKING)
    click = find_click(location.removeprefix(TRACKING))
    assert click is not None
    assert (click.member_id, click.partner_id, click.network) == (MEMBER, "aliexpress", Network.ADMITAD.value)
    assert click.rate_percent == Decimal("11")  # the promotion in force when the member clicked
    assert click.accrual_days == 45
    assert click.user_agent == BROWSER
    assert abs(click.clicked_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_click_is_kept_for_the_accrual_period_and_a_margin_then_expires(catalog_tables: dict[str, str]) -> None:
    given_aliexpress_on_black_friday()
    click_id = go(token=link())["headers"]["Location"].removeprefix(TRACKING)

    item = boto3.client("dynamodb").get_item(
        TableName=catalog_tables["ClicksTable"], Key={"pk": {"S": f"CLICK#{click_id}"}, "sk": {"S": "CLICK"}}
    )["Item"]

    clicked_at = datetime.fromisoformat(item["clicked_at"]["S"])
    expires_at = datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)
    assert timedelta(days=179) < expires_at - clicked_at <= timedelta(days=180)
    assert item["rate_percent"] == {"S": "11"}  # a decimal string, never a number that could round


def test_a_click_freezes_the_goods_rates_by_tariff_and_the_commission_share(catalog_tables: dict[str, str]) -> None:
    # Given Perekrestok on a promotion: 15 % (first order, tariff 31015), 5 % later, a goods rate with no
    # tariff id, and half the commission for its members
    now = datetime.now(UTC)
    goods = (
        GoodsRate("First order", Decimal("15"), "31015"),
        GoodsRate("Later orders", Decimal("5"), "31016"),
        GoodsRate("Alcohol", Decimal("0.5")),
    )
    store = partner("perekrestok", rate_percent=Decimal("15"), goods_rates=goods, commission_share_percent=Decimal(50))
    catalog_service().put_partner(store, actor="test")
    catalog_service().add_promotion(
        "perekrestok", Decimal("20"), now - timedelta(days=1), now + timedelta(days=1), actor="test"
    )

    # When a member clicks
    location = go("perekrestok", token=link("perekrestok"))["headers"]["Location"]
    click_id = parse_qs(urlsplit(location).query)["subid"][0]

    # Then the click keeps the goods rates a tariff selects (a promotion raises the base rate only) and the share
    click = find_click(click_id)
    assert click is not None
    assert click.rate_percent == Decimal("20")
    assert click.goods_rates == {"31015": Decimal("15"), "31016": Decimal("5")}
    assert click.commission_share_percent == Decimal("50")

    # And the back office changing the partner later changes nothing for that click
    catalog_service().put_partner(partner("perekrestok", rate_percent=Decimal("3")), actor="test")
    assert find_click(click_id) == click


def test_a_click_made_before_goods_rates_were_frozen_reads_as_none_and_the_whole_commission(
    catalog_tables: dict[str, str],
) -> None:
    # Given a click item as the redirect wrote it before this change
    boto3.client("dynamodb").put_item(
        TableName=catalog_tables["ClicksTable"],
        Item={
            "pk": {"S": "CLICK#01OLDCLICK"},
            "sk": {"S": "CLICK"},
            "click_id": {"S": "01OLDCLICK"},
            "member_id": {"S": MEMBER},
            "partner_id": {"S": "perekrestok"},
            "rate_percent": {"S": "15"},
            "network": {"S": "admitad"},
            "accrual_days": {"N": "30"},
            "clicked_at": {"S": "2026-11-01T12:00:00+00:00"},
            "expires_at": {"N": "1800000000"},
        },
    )

    click = find_click("01OLDCLICK")

    assert click is not None
    assert (click.rate_percent, click.goods_rates, click.commission_share_percent) == (Decimal(15), {}, Decimal(100))


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not-a-token",
        link(key="someone-else-s-key-0123456789abcdefgh"),
        link(at=datetime.now(UTC) - timedelta(minutes=16)),
        link(partner_id="booking"),
    ],
    ids=["missing", "empty", "garbage", "forged", "expired", "other-partner"],
)
def test_a_link_that_cannot_be_trusted_goes_to_sign_in_and_records_nothing(token: str | None) -> None:
    given_aliexpress_on_black_friday()

    with counting_calls() as calls:
        response = go(token=token)

    assert response["statusCode"] == 302
    assert response["headers"]["Cache-Control"] == "no-store"
    sign_in = urlsplit(response["headers"]["Location"])
    assert f"{sign_in.scheme}://{sign_in.netloc}{sign_in.path}" == "https://cashback.example.com/sign-in"
    assert parse_qs(sign_in.query) == {"return_to": ["/go/aliexpress"]}
    assert "PutItem" not in calls


@pytest.mark.parametrize("partner_id", ["nobody", "paused", "AliExpress", "x" * 100])
def test_an_unknown_or_paused_partner_is_404(partner_id: str) -> None:
    catalog_service().put_partner(partner("paused", active=False), actor="test")

    response = go(partner_id, token=link(partner_id))

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "partner_not_found"


def test_a_warm_redirect_makes_one_write_and_no_read() -> None:
    given_aliexpress_on_black_friday()
    go(token=link())  # the container's first redirect reads the partner

    with counting_calls() as calls:
        response = go(token=link())

    assert response["statusCode"] == 302
    assert calls == {"PutItem": 1}


def test_every_click_has_an_id_of_its_own_that_sorts_by_time_and_names_its_member() -> None:
    given_aliexpress_on_black_friday()

    first = go(token=link())["headers"]["Location"].removeprefix(TRACKING)
    second = go(token=link())["headers"]["Location"].removeprefix(TRACKING)

    assert first != second
    # A ULID (48 bits of milliseconds, then 80 random bits), then the member the postback will credit.
    assert [len(part) for part in first.split(".")] == [26, len(MEMBER)]
    assert first[:10] <= second[:10]
    assert member_named_by(first) == member_named_by(second) == MEMBER


def test_the_signing_key_comes_from_secrets_manager_in_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "key-from-secrets-manager-0123456789abcdefghijklmnop"
    arn = boto3.client("secretsmanager").create_secret(Name="cashback/link-signing", SecretString=key)["ARN"]
    monkeypatch.setenv("LINK_SIGNING_SECRET_ARN", arn)
    monkeypatch.delenv("LINK_SIGNING_SECRET")
    use_container(handler_module("clicks"), Container.from_environment())  # the deployed wiring, on moto
    given_aliexpress_on_black_friday()

    assert go(token=link(key=key))["headers"]["Location"].startswith(TRACKING)
    assert "sign-in" in go(token=link(key=LINK_KEY))["headers"]["Location"]


# --- POST /clicks --------------------------------------------------------------------------------------------


def test_an_app_records_a_click_and_opens_the_store_itself() -> None:
    given_aliexpress_on_black_friday()

    status, body = invoke("clicks", sample_event("clicks-click"))

    assert status == 201
    assert body["redirect_url"] == TRACKING + body["click_id"]
    click = find_click(body["click_id"])
    assert click is not None
    assert (click.member_id, click.rate_percent) == (MEMBER, Decimal("11"))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"partner_id": "nobody"}, 404, "partner_not_found"),
        ({"partner_id": "AliExpress"}, 404, "partner_not_found"),
        ({}, 422, "invalid_request"),
        ({"partner_id": 42}, 422, "invalid_request"),
        ({"partner_id": ""}, 422, "invalid_request"),
        ({"partner_id": "aliexpress", "rate": "50"}, 422, "invalid_request"),
        ("{not json", 400, "malformed_json"),
        ("[]", 422, "invalid_request"),
    ],
)
def test_bad_click_requests_are_refused_with_a_code(body: object, status: int, code: str) -> None:
    given_aliexpress_on_black_friday()
    got_status, error = invoke("clicks", sample_event("clicks-click", body=body))
    assert (got_status, error["error"]["code"]) == (status, code)


def test_an_unknown_click_is_not_found() -> None:
    assert find_click("01JDZZZZZZZZZZZZZZZZZZZZZZ") is None
