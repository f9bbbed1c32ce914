"""The fake Admitad API through the local gateway: a person or a test sets the network's statistics with
`POST /_local/admitad/actions` and reads the lost orders filed with `GET /_local/admitad/lost-orders`, and
the platform's own Admitad client (the composition root's) reaches the same fake over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cashback.bootstrap import Container
from cashback.networks.actions import LostOrder
from local.fake_admitad import FakeAdmitad
from tests.fixtures.dynamodb_local import ApiClient

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def _action(**fields: object) -> dict[str, object]:
    return {
        "action_id": "7001",
        "subid": "click-1",
        "status": "pending",
        "order_sum": "1999.90",
        "payment_sum": 140.05,
        "currency": "RUB",
        "action_date": "2026-11-19T12:00:00+03:00",
        "status_updated": "2026-11-20T10:00:00+03:00",
        **fields,
    }


def test_an_action_set_through_the_gateway_is_what_the_platform_reads(
    api: ApiClient, fake_admitad: FakeAdmitad, container: Container
) -> None:
    # Given an action the network reports, its commission written as a JSON number
    response = api.post("/_local/admitad/actions", json=_action())

    # Then the gateway answers it as the statistics report it
    assert response.status == 200
    assert response.json()["status_updated"] == "2026-11-20 07:00:00"
    # And the platform's Admitad client reads it over HTTP, the amounts exact
    [action] = container.admitad_api.actions_updated(DAY, DAY + timedelta(days=1)).actions
    assert (action.action_id, action.subid, action.status) == ("7001", "click-1", "pending")
    assert (action.order_sum, action.payment_sum) == (Decimal("1999.90"), Decimal("140.05"))
    assert action.status_updated == datetime(2026, 11, 20, 7, tzinfo=UTC)


def test_an_action_set_again_replaces_the_network_s_word(
    api: ApiClient, fake_admitad: FakeAdmitad, container: Container
) -> None:
    api.post("/_local/admitad/actions", json=_action())

    api.post("/_local/admitad/actions", json=_action(status="declined", status_updated="2026-11-20T12:00:00Z"))

    [action] = container.admitad_api.actions_updated(DAY, DAY + timedelta(days=1)).actions
    assert (action.status, action.status_updated) == ("declined", datetime(2026, 11, 20, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (_action(status="paid"), 422, "invalid_action"),
        (_action(order_sum="lots"), 422, "invalid_action"),
        (_action(status_updated="yesterday"), 422, "invalid_action"),
        ({key: value for key, value in _action().items() if key != "subid"}, 422, "invalid_action"),
        ([1, 2], 400, "invalid_json"),
    ],
    ids=["unknown-status", "bad-amount", "bad-time", "no-subid", "not-an-object"],
)
def test_an_action_the_network_could_not_report_is_refused(
    api: ApiClient, fake_admitad: FakeAdmitad, body: object, status: int, code: str
) -> None:
    response = api.post("/_local/admitad/actions", json=body)

    assert response.status == status
    assert response.json()["error"]["code"] == code
    assert fake_admitad.actions() == []


def test_the_lost_orders_filed_through_the_platform_s_client_are_listed(
    api: ApiClient, fake_admitad: FakeAdmitad, container: Container
) -> None:
    assert api.get("/_local/admitad/lost-orders").json() == {"items": []}

    order = LostOrder(
        campaign_id="16421",
        order_id="A-77",
        order_date=date(2026, 11, 19),
        order_price=Decimal("12999.90"),
        estimated_reward=Decimal("650.00"),
        subid="click-1",
        comment="not tracked",
        receipt=b"\xff\xd8\xff a photo",
        receipt_type="image/jpeg",
    )
    ticket = container.admitad_api.file_lost_order(order)

    [filed] = api.get("/_local/admitad/lost-orders").json()["items"]
    assert str(filed["id"]) == ticket
    assert (filed["order_id"], filed["order_price"], filed["estimated_reward"]) == ("A-77", "12999.90", "650.00")
    assert filed["attachment"]["content_type"] == "image/jpeg"


def test_people_answer_a_filed_lost_order_as_the_network_would(
    api: ApiClient, fake_admitad: FakeAdmitad, container: Container
) -> None:
    order = LostOrder(
        "16421", "A-80", date(2026, 11, 19), Decimal("100"), Decimal("5"), "c-1", "lost", b"%PDF", "application/pdf"
    )
    ticket = container.admitad_api.file_lost_order(order)

    answered = api.post(f"/_local/admitad/lost-orders/{ticket}", {"status": "rejected", "reason": "Not found"})

    assert answered.status == 200
    assert container.admitad_api.lost_order(ticket).reason == "Not found"
    again = api.post(f"/_local/admitad/lost-orders/{ticket}", {"status": "accepted"})
    assert (again.status, again.json()["error"]["code"]) == (422, "invalid_answer")
