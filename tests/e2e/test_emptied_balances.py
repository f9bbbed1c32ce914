"""A write that empties a member's available balance takes them off the settlement candidates, in the same
transaction: a DeleteItem on the ledger table, made by whichever function wrote. Over HTTP through the
local gateway, so that the IAM proof (tests/fixtures/iam.py) sees each function that does it: the back
office's debit and a partner's reversal of an approved order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from cashback.bootstrap import Container
from cashback.ledger.repository import candidate
from local.seed_catalog import seed_catalog
from local.wiring import local_container

ADMITAD_TOKEN = "local-admitad-secret"  # API.md's development credentials


@pytest.fixture(scope="module")
def seeded(dynamodb_local: Any, local_gateway: Any) -> None:
    seed_catalog(local_container(), datetime.now(UTC))
    # A catalog listed by an earlier module is cached by the gateway's warm functions for a minute.
    local_gateway.functions.cold_start()


def listed_for_settlement(container: Container, member_id: str) -> bool:
    key = candidate(member_id)
    answer = boto3.client("dynamodb").get_item(
        TableName=container.settings.table("LEDGER_TABLE"),
        Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}},
        ConsistentRead=True,
    )
    return "Item" in answer


def enrol(api: Any, member_token: Any) -> tuple[str, str]:
    token, _ = member_token()
    enrolled = api.post("/members", token=token)
    assert enrolled.status == 201
    return token, enrolled.json()["member_id"]


def adjust(api: Any, admin_token: str, member_id: str, amount: int) -> None:
    adjustment = {"member_id": member_id, "amount": amount, "reason": "Support ticket 7"}
    headers = {"Idempotency-Key": f"t-7-{amount}-{member_id}"}
    assert api.post("/admin/adjustments", json=adjustment, token=admin_token, headers=headers).status == 201


def test_a_debit_of_everything_available_takes_the_member_off_the_candidates(
    api: Any, member_token: Any, admin_token: str, container: Container
) -> None:
    # Given a member the back office credited, listed for the monthly settlement
    token, member_id = enrol(api, member_token)
    adjust(api, admin_token, member_id, 100)
    assert listed_for_settlement(container, member_id)
    # When the back office debits all of it
    adjust(api, admin_token, member_id, -100)
    # Then nothing is available and the member is no longer a candidate
    assert api.get("/members/me/balance", token=token).json()["available"] == 0
    assert not listed_for_settlement(container, member_id)


def test_a_partners_reversal_of_an_approved_order_takes_the_member_off_the_candidates(
    api: Any, member_token: Any, admin_token: str, seeded: None, container: Container
) -> None:
    # Given a member whose only available bonuses are an approved order's cashback (the back office debits
    # the first-purchase bonus that the approval also earned)
    token, member_id = enrol(api, member_token)
    partners = api.get("/partners", token=token, q="aliexpress").json()["items"]
    [partner] = [p for p in partners if p["partner_id"] == "aliexpress"]
    link = urlsplit(partner["go_url"])
    redirect = api.get(link.path, **{k: v[0] for k, v in parse_qs(link.query).items()})
    click_id = parse_qs(urlsplit(redirect.headers["Location"]).query)["subid"][0]
    action = uuid.uuid4().hex[:10]

    def postback(status: str) -> None:
        query = {
            "token": ADMITAD_TOKEN,
            "subid": click_id,
            "action_id": action,
            "order_id": f"AE-{action}",
            "order_sum": "1999.90",
            "payment_sum": "139.99",
            "currency": "RUB",
            "status": status,
            "time": str(int(datetime.now(UTC).timestamp())),
        }
        assert api.request("GET", "/postbacks/admitad", query=query).status == 200

    postback("approved")
    adjust(api, admin_token, member_id, -200)
    assert api.get("/members/me/balance", token=token).json()["available"] == 139
    assert listed_for_settlement(container, member_id)
    # When the partner declines the order after all
    postback("declined")
    # Then the accrual is reversed, and the member is no longer a candidate
    assert api.get("/members/me/balance", token=token).json()["available"] == 0
    assert not listed_for_settlement(container, member_id)
