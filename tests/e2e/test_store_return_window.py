"""A store purchase through the local stack: the payment event leaves its cashback pending with the date
the return window ends; firing the daily schedule after that date makes it available."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def test_a_store_purchase_is_pending_then_the_schedule_accrues_it(api: Any, member_token: Any) -> None:
    # Given a member whose store payment of 1000 was made 15 days ago (the window ended yesterday)
    token, phone = member_token()
    assert api.post("/members", token=token).status == 201
    paid_at = datetime.now(UTC) - timedelta(days=15)
    detail = {
        "payment_id": f"e2e-{uuid.uuid4()}",
        "phone": phone,
        "product": "store",
        "amount": "1000.00",
        "currency": "RUB",
        "occurred_at": paid_at.isoformat(),
    }
    event = {"source": "operator.payments", "detail-type": "PaymentCompleted", "detail": detail}
    assert api.post("/_local/events", json=event).json()["results"][0]["outcome"] == "credited"

    # Then its 500 are pending, expected when the window ends
    balance = api.get("/members/me/balance", token=token).json()
    assert (balance["available"], balance["pending"]) == (0, 500)
    [purchase] = api.get("/members/me/transactions", token=token).json()["items"]
    assert purchase["status"] == "pending"
    assert datetime.fromisoformat(purchase["expected_at"]) == paid_at + timedelta(days=14)

    # When the daily schedule fires
    assert api.post("/_local/schedules/PaymentMaturityFunction").status == 200

    # Then they are available, and the purchase reads accrued
    balance = api.get("/members/me/balance", token=token).json()
    assert (balance["available"], balance["pending"]) == (500, 0)
    [purchase] = api.get("/members/me/transactions", token=token).json()["items"]
    assert purchase["status"] == "accrued"
