"""The back office's catalog routes through real API Gateway events, on moto.

The routes are a powertools Router that the admin function includes; here it is included in a resolver
of its own, built as every function builds its resolver, so these tests need only the router.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from cashback.platform.web.resolver import make_resolver
from local.wiring import local_container
from tests.fixtures.handlers import REPO, LambdaContext, invoke, sample_event
from tests.unit.catalog.support import for_partner

pytestmark = pytest.mark.usefixtures("catalog_tables")

Call = Callable[[dict[str, Any]], tuple[int, Any]]


@cache
def _router() -> Any:
    spec = importlib.util.spec_from_file_location("admin_catalog_routes", REPO / "functions/admin/catalog_routes.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.router


@pytest.fixture
def admin() -> Call:
    app = make_resolver()
    app.include_router(_router())

    def call(event: dict[str, Any]) -> tuple[int, Any]:
        app.append_context(container=local_container())  # as the admin function's handler gives its routes
        response = app.resolve(event, LambdaContext())  # type: ignore[arg-type]  # a duck-typed stand-in
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    return call


def _event(name: str, partner_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The sample event for `partner_id`, its body changed; a field changed to ... is left out."""
    body = {**json.loads(sample_event(name)["body"]), **changes}
    return for_partner(sample_event(name, body={k: v for k, v in body.items() if v is not ...}), partner_id)


def put_event(partner_id: str = "perekrestok", **changes: Any) -> dict[str, Any]:
    return _event("admin-partner-put", partner_id, changes)


def promotion_event(partner_id: str = "perekrestok", **changes: Any) -> dict[str, Any]:
    return _event("admin-partner-promotion", partner_id, changes)


def window(starts: timedelta, ends: timedelta) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"starts_at": (now + starts).isoformat(), "ends_at": (now + ends).isoformat()}


def shown(partner_id: str) -> dict[str, Any]:
    status, body = invoke("catalog", for_partner(sample_event("catalog-partner"), partner_id))
    assert status == 200, body
    return dict(body)


def test_the_back_office_creates_a_partner_that_members_then_see(admin: Call) -> None:
    status, created = admin(put_event())

    assert status == 201
    assert created["partner_id"] == "perekrestok"
    assert created["tracking_url"].endswith("?subid={click_id}")
    assert created["promotions"] == []
    member_view = shown("perekrestok")
    assert (member_view["name"], member_view["rate_percent"], member_view["accrual_days"]) == ("Perekrestok", "15", 30)
    assert member_view["goods_rates"][0] == {"name": "First order", "rate_percent": "15", "tariff_id": "31015"}
    assert "commission_share_percent" not in member_view  # the programme's margin is the back office's business
    assert created["commission_share_percent"] == "100"


def test_replacing_a_partner_keeps_its_promotions(admin: Call) -> None:
    admin(put_event())
    admin(promotion_event(rate_percent="20", **window(-timedelta(days=1), timedelta(days=1))))

    status, replaced = admin(put_event(rate_percent="12", conditions="Changed terms."))

    assert status == 200
    assert replaced["rate_percent"] == "12"
    assert [p["rate_percent"] for p in replaced["promotions"]] == ["20"]


def test_a_promotion_raises_the_rate_members_see(admin: Call) -> None:
    admin(put_event())

    status, promotion = admin(promotion_event(rate_percent="20", **window(-timedelta(hours=1), timedelta(days=3))))

    assert status == 201
    assert (promotion["partner_id"], promotion["rate_percent"]) == ("perekrestok", "20")
    assert promotion["promotion_id"]
    assert shown("perekrestok")["rate_percent"] == "20"


def test_a_promotion_for_an_unknown_partner_is_404(admin: Call) -> None:
    for partner_id in ("nobody", "Not-A-Slug"):
        status, error = admin(promotion_event(partner_id))
        assert (status, error["error"]["code"]) == (404, "partner_not_found")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        (window(timedelta(days=1), timedelta(days=1)), 422, "invalid_promotion_window"),
        (window(timedelta(days=2), timedelta(days=1)), 422, "invalid_promotion_window"),
        ({"rate_percent": "0"}, 422, "invalid_rate"),
        ({"rate_percent": "-5"}, 422, "invalid_rate"),
        ({"rate_percent": "ten"}, 422, "invalid_rate"),
        ({"rate_percent": 20}, 422, "invalid_request"),
        ({"starts_at": "2026-11-27T00:00:00"}, 422, "invalid_request"),  # no offset
        ({"starts_at": "Black Friday"}, 422, "invalid_request"),
        ({"ends_at": ...}, 422, "invalid_request"),
        ({"discount": "5"}, 422, "invalid_request"),
    ],
)
def test_bad_promotions_are_refused_with_a_code(admin: Call, changes: dict, status: int, code: str) -> None:
    admin(put_event())
    got_status, error = admin(promotion_event(**changes))
    assert (got_status, error["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": ...}, "invalid_request"),
        ({"name": ""}, "invalid_request"),
        ({"category": "groceries"}, "invalid_request"),
        ({"rate_percent": 15}, "invalid_request"),
        ({"rate_percent": "fifteen"}, "invalid_rate"),
        ({"rate_percent": "150"}, "invalid_rate"),
        ({"tracking_url": "https://ad.admitad.com/g/abc/"}, "invalid_tracking_url"),
        ({"tracking_url": "http://ad.admitad.com/g/abc/?subid={click_id}"}, "invalid_tracking_url"),
        ({"accrual_days": 91}, "invalid_request"),
        ({"accrual_days": "30"}, "invalid_request"),
        ({"network": "cj"}, "invalid_request"),
        ({"active": "yes"}, "invalid_request"),
        ({"aliases": "Перекрёсток"}, "invalid_request"),
        ({"goods_rates": [{"name": "Wine", "rate_percent": "0"}]}, "invalid_rate"),
        ({"commission": "3"}, "invalid_request"),
        ({"goods_rates": [{"name": "Wine", "rate_percent": "3", "tariff_id": "tariff 1"}]}, "invalid_tariff_id"),
        ({"goods_rates": [{"name": "Wine", "rate_percent": "3", "tariff_id": "-1"}]}, "invalid_tariff_id"),
        ({"goods_rates": [{"name": "Wine", "rate_percent": "3", "tariff_id": ""}]}, "invalid_request"),
        ({"goods_rates": [{"name": "Wine", "rate_percent": "3", "tariff_id": 31015}]}, "invalid_request"),
        ({"goods_rates": [{"name": "Wine", "rate_percent": "3", "tariff_id": "t" * 65}]}, "invalid_request"),
        (
            {"goods_rates": [{"name": n, "rate_percent": "3", "tariff_id": "31015"} for n in ("Wine", "Cheese")]},
            "invalid_tariff_id",
        ),
        ({"commission_share_percent": "0"}, "invalid_commission_share"),
        ({"commission_share_percent": "100.01"}, "invalid_commission_share"),
        ({"commission_share_percent": "-50"}, "invalid_commission_share"),
        ({"commission_share_percent": "half"}, "invalid_commission_share"),
        ({"commission_share_percent": "NaN"}, "invalid_commission_share"),
        ({"commission_share_percent": 50}, "invalid_request"),
    ],
)
def test_bad_partners_are_refused_with_a_code(admin: Call, changes: dict, code: str) -> None:
    status, error = admin(put_event(**changes))
    assert (status, error["error"]["code"]) == (422, code)


def test_the_back_office_sets_a_partners_share_of_the_commission(admin: Call) -> None:
    # Given Perekrestok, created with the whole commission for its members
    admin(put_event())

    # When the back office keeps half of what the network pays
    status, replaced = admin(put_event(commission_share_percent="50"))

    # Then the partner says so, and its goods rates keep their tariff ids
    assert (status, replaced["commission_share_percent"]) == (200, "50")
    assert [(g["name"], g["tariff_id"]) for g in replaced["goods_rates"]] == [
        ("First order", "31015"),
        ("Later orders", "31016"),
    ]


def test_a_goods_rate_without_a_tariff_id_is_shown_but_never_selected(admin: Call) -> None:
    status, created = admin(put_event(goods_rates=[{"name": "Wine", "rate_percent": "3"}]))

    assert status == 201
    assert created["goods_rates"] == [{"name": "Wine", "rate_percent": "3", "tariff_id": None}]


def test_a_partner_id_must_be_a_slug(admin: Call) -> None:
    status, error = admin(put_event("Perekrestok!"))
    assert (status, error["error"]["code"]) == (422, "invalid_partner_id")


@pytest.mark.parametrize("body", ["{not json", "[]", "null"])
def test_a_body_that_is_not_a_partner_is_refused(admin: Call, body: str) -> None:
    event = put_event()
    event["body"] = body
    status, error = admin(event)
    assert status in (400, 422)
    assert error["error"]["code"] in ("malformed_json", "invalid_request")
