"""A postback in tenge through the local stack: the daily rates schedule stores the official rates (the local
fixed ones), and the member's pending cashback is priced in roubles at the rate of the order's day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from local.seed_catalog import seed_catalog
from local.wiring import local_container
from tests.e2e.test_postbacks_story import admitad, click_on


@pytest.fixture(scope="module")
def seeded(dynamodb_local: Any, local_gateway: Any) -> None:
    seed_catalog(local_container(), datetime.now(UTC))
    local_gateway.functions.cold_start()


def test_an_order_in_tenge_earns_cashback_on_its_price_in_roubles(api: Any, member_token: Any, seeded: None) -> None:
    # Given a member's click on AliExpress (7 %) and the day's official rates (18 roubles per 100 tenge)
    token, _ = member_token()
    assert api.post("/members", token=token).status == 201
    click_id = click_on(api, token, "aliexpress")
    assert api.post("/_local/schedules/RatesFunction").status == 200

    # When Admitad reports an order of 100,000 tenge
    action_id = str(uuid.uuid4().int % 10**12)
    answer = admitad(api, click_id, action_id, "pending", "100000.00", currency="KZT", payment_sum="14000.00")
    assert answer.json()["outcome"] == "applied"

    # Then 1,260 bonuses are pending: 7 % of 18,000 roubles, not of 100,000 (and the first-purchase bonus
    # of 200, since 18,000 roubles pass its minimum order)
    items = api.get("/members/me/transactions", token=token).json()["items"]
    assert sorted(item["amount"] for item in items) == [200, 1260]
    assert api.get("/members/me/balance", token=token).json()["pending"] == 1460
