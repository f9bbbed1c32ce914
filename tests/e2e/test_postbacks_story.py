"""Issue 4's story over HTTP through the local gateway and DynamoDB Local: a member's click earns
cashback as the partner's postbacks arrive, the operator's own payment earns its rate, and support
resolves claims for orders nobody tracked."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cashback.postbacks.networks.direct import sign
from local.seed_catalog import seed_catalog
from local.wiring import local_container
from tests.builders import a_recorded_click

ADMITAD_TOKEN = "local-admitad-secret"  # API.md's development credentials
DIRECT_SECRET = "local-direct-secret"  # every direct partner's, unless one of its own is configured
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def seeded(dynamodb_local: Any, local_gateway: Any) -> None:
    seed_catalog(local_container(), datetime.now(UTC))
    # A catalog listed by an earlier module is cached by the gateway's warm functions for a minute.
    local_gateway.functions.cold_start()


@pytest.fixture
def member(api: Any, member_token: Any, seeded: None) -> dict[str, str]:
    token, phone = member_token()
    assert api.post("/members", token=token).status == 201
    return {"token": token, "phone": phone}


def click_on(api: Any, token: str, partner_id: str) -> str:
    """The member opens the store through their link; the store receives the click id as `subid`."""
    [partner] = [
        p for p in api.get("/partners", token=token, q=partner_id).json()["items"] if p["partner_id"] == partner_id
    ]
    link = urlsplit(partner["go_url"])
    redirect = api.get(link.path, **{k: v[0] for k, v in parse_qs(link.query).items()})
    assert redirect.status == 302
    query = parse_qs(urlsplit(redirect.headers["Location"]).query)
    return (query.get("subid") or query["click"])[0]  # Admitad's links carry it as subid, direct partners' as click


def admitad(api: Any, click_id: str, action_id: str, status: str, order_sum: str = "1999.90", **more: str) -> Any:
    """Admitad's call; `more` adds its optional parameters (`payment_sum`, `tariff_id`)."""
    # `token` is Admitad's own query parameter here, not the client's bearer token.
    return api.request(
        "GET",
        "/postbacks/admitad",
        query={
            "token": ADMITAD_TOKEN,
            "subid": click_id,
            "action_id": action_id,
            "order_id": f"AE-{action_id}",
            "order_sum": order_sum,
            "payment_sum": _commission(order_sum),
            "currency": "RUB",
            "status": status,
            "time": str(int(datetime.now(UTC).timestamp())),
            **more,
        },
    )


def _commission(order_sum: str) -> str:
    """AliExpress pays the programme 10 % of an order (what Admitad reports as `payment_sum`)."""
    try:
        return f"{Decimal(order_sum) / 10:.2f}"
    except InvalidOperation:
        return "1"  # a malformed order sum: refused before anything is priced


def direct(api: Any, click_id: str, partner_id: str, order_id: str, amount: str = "1999.90") -> Any:
    """A direct partner's approval of an order, signed with the development secret, naming itself."""
    body = json.dumps(
        {
            "event_id": f"e-{order_id}",
            "click_id": click_id,
            "order_id": order_id,
            "amount": amount,
            "currency": "RUB",
            "status": "approved",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
    )
    now = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Partner-Id": partner_id,
        "X-Signature": f"t={now},v1={sign(DIRECT_SECRET, now, body)}",
    }
    return api.request("POST", "/postbacks/direct", body=body.encode(), headers=headers)


def transactions(api: Any, token: str) -> list[dict[str, Any]]:
    return api.get("/members/me/transactions", token=token).json()["items"]


def test_a_purchase_goes_from_pending_to_accrued_with_the_first_purchase_bonus(
    api: Any, member: dict[str, str]
) -> None:
    # Given a member's click through to AliExpress
    click_id = click_on(api, member["token"], "aliexpress")
    action = uuid.uuid4().hex[:10]

    # When Admitad reports their order of 1,999.90 as pending
    assert admitad(api, click_id, action, "pending").json()["status"] == "pending"

    # Then the member sees 139 bonuses pending, with the partner, rate, order amount and expected date,
    # and the first-purchase bonus of 200 pending with it, expected the same day
    pending, bonus = sorted(transactions(api, member["token"]), key=lambda t: t["kind"] != "purchase")
    assert (bonus["kind"], bonus["status"], bonus["amount"]) == ("bonus", "pending", 200)
    assert bonus["expected_at"] == pending["expected_at"]
    assert (pending["status"], pending["amount"], pending["partner_id"], pending["rate"]) == (
        "pending",
        139,
        "aliexpress",
        "7",
    )
    assert pending["order_amount"] == "1999.90"
    assert pending["expected_at"] is not None
    balance = api.get("/members/me/balance", token=member["token"]).json()
    assert balance["pending"] == 139 + 200
    assert [e["amount"] for e in balance["expected"]] == [139 + 200]

    # When Admitad approves it, twice
    approvals = [admitad(api, click_id, action, "approved") for _ in range(2)]

    # Then the 139 and the first purchase bonus of 200 are accrued once
    assert [a.status for a in approvals] == [200, 200]
    assert [a.json()["outcome"] for a in approvals] == ["applied", "unchanged"]
    seen = sorted((t["kind"], t["status"], t["amount"], t["reason"]) for t in transactions(api, member["token"]))
    assert seen == [
        ("bonus", "accrued", 200, "First purchase"),
        ("purchase", "accrued", 139, "Confirmed by the partner"),
    ]
    assert api.get("/members/me/balance", token=member["token"]).json()["available"] == 339


def test_a_declined_order_shows_as_rejected_with_the_reason(api: Any, member: dict[str, str]) -> None:
    # Given a member's pending order
    click_id = click_on(api, member["token"], "aliexpress")
    action = uuid.uuid4().hex[:10]
    admitad(api, click_id, action, "pending")
    # When Admitad declines it
    admitad(api, click_id, action, "declined")

    # Then the member sees it rejected with the reason (the first-purchase bonus with it), and nothing pending
    txns = {t["kind"]: t for t in transactions(api, member["token"])}
    assert (txns["purchase"]["status"], txns["purchase"]["reason"]) == ("rejected", "Declined by the partner")
    assert txns["bonus"]["status"] == "rejected"
    assert api.get("/members/me/balance", token=member["token"]).json()["pending"] == 0


def test_partner_calls_with_bad_credentials_or_data_change_nothing(api: Any, member: dict[str, str]) -> None:
    # Given a member's click
    click_id = click_on(api, member["token"], "aliexpress")
    # When partners call with a wrong token, for an unknown network, with a malformed amount, or unsigned
    wrong_token = api.request(
        "GET", "/postbacks/admitad", query={"token": "nope", "subid": click_id, "status": "approved"}
    )
    unknown_network = api.request("GET", "/postbacks/shady-network", query={"token": ADMITAD_TOKEN})
    malformed = admitad(api, click_id, "x1", "approved", order_sum="12,5")
    unsigned = api.post("/postbacks/direct", json={"click_id": click_id, "amount": "100.00"})

    # Then each is refused, and the member sees nothing
    assert (wrong_token.status, wrong_token.json()["error"]["code"]) == (401, "invalid_credentials")
    assert unknown_network.status == 404
    assert (malformed.status, malformed.json()["error"]["code"]) == (422, "invalid_amount")
    assert unsigned.status == 401
    assert transactions(api, member["token"]) == []


def test_a_tariff_payment_earns_half_back(api: Any, member: dict[str, str]) -> None:
    # Given the member's payment of 600.00 for their tariff
    event = {
        "source": "operator.payments",
        "detail-type": "PaymentCompleted",
        "detail": {
            "payment_id": f"pay-{uuid.uuid4().hex}",
            "phone": member["phone"],
            "product": "tariff",
            "amount": "600.00",
            "currency": "RUB",
            "occurred_at": datetime.now(UTC).isoformat(),
        },
    }
    # When the bus delivers it, twice
    for _ in range(2):  # the bus may deliver twice
        assert api.post("/_local/events", json=event).status == 200

    # Then the member earns half of it back, once
    [txn] = transactions(api, member["token"])
    assert (txn["kind"], txn["status"], txn["amount"], txn["rate"]) == ("purchase", "accrued", 300, "50")


def test_support_credits_a_claim_for_an_untracked_order(
    api: Any, member: dict[str, str], admin_token: str, container: Any
) -> None:
    # Given a member who went to Lamoda through the programme 101 days ago, and again today
    visited(container, api, member, "lamoda", days_ago=101)
    click_on(api, member["token"], "lamoda")
    # When they file claims for an order of today and one of 100 days ago
    too_early = api.post("/members/me/claims", token=member["token"], json=claim("lamoda", TODAY))
    filed = api.post("/members/me/claims", token=member["token"], json=claim("lamoda", TODAY - timedelta(days=100)))

    # Then today's is refused, and the other is filed and in support's queue
    assert (too_early.status, too_early.json()["error"]["code"]) == (422, "accrual_period_not_over")
    assert filed.status == 201
    claim_id = filed.json()["claim_id"]
    queue = api.get("/admin/claims", token=admin_token, limit=200).json()["items"]
    assert claim_id in [item["id"] for item in queue]

    # When support credits it with 150 bonuses, and then tries to decline it
    resolved = api.post(
        f"/admin/claims/{claim_id}/resolve",
        token=admin_token,
        json={"action": "credit", "amount": 150, "reason": "Partner confirmed the order by email"},
    )
    again = api.post(f"/admin/claims/{claim_id}/resolve", token=admin_token, json={"action": "decline", "reason": "x"})

    # Then it is credited once, and the member sees the claim and the 150 with support's reason
    assert (resolved.status, resolved.json()["state"]) == (200, "credited")
    assert again.status == 409
    [mine] = api.get("/members/me/claims", token=member["token"]).json()["items"]
    assert (mine["state"], mine["resolution_reason"], mine["bonus"]) == (
        "credited",
        "Partner confirmed the order by email",
        150,
    )
    [txn] = transactions(api, member["token"])
    assert (txn["amount"], txn["reason"]) == (150, "Partner confirmed the order by email")


def test_support_matches_a_claim_with_a_kept_postback_which_then_accrues(
    api: Any, member: dict[str, str], admin_token: str, container: Any
) -> None:
    # Given an approved postback for a click nobody knows, kept for support
    lost_click = f"lost-{uuid.uuid4().hex[:12]}"
    action = uuid.uuid4().hex[:10]
    kept = admitad(api, lost_click, action, "approved", order_sum="5000.00", payment_sum="100.00")
    assert kept.json()["outcome"] == "kept_for_support"
    orphans = [
        i for i in api.get("/admin/claims", token=admin_token, limit=200).json()["items"] if i["kind"] == "orphan"
    ]
    assert f"admitad:{action}" in [o["id"] for o in orphans]

    # When a member who went to AliExpress files a claim for that order, and support matches it with the postback
    visited(container, api, member, "aliexpress", days_ago=101)
    claim_id = api.post(
        "/members/me/claims", token=member["token"], json=claim("aliexpress", TODAY - timedelta(days=100))
    ).json()["claim_id"]
    resolved = api.post(
        f"/admin/claims/{claim_id}/resolve",
        token=admin_token,
        json={"action": "match", "orphan_id": f"admitad:{action}", "reason": "Matched with the partner's postback"},
    )

    # Then the claim is matched, and the member sees the purchase accrued
    assert (resolved.status, resolved.json()["state"]) == (200, "matched")
    purchase = next(t for t in transactions(api, member["token"]) if t["kind"] == "purchase")
    assert (purchase["status"], purchase["partner_id"]) == ("accrued", "aliexpress")
    assert purchase["amount"] == 100  # 7 % of 5,000 is 350, but the network earned only 100 on it


def test_a_later_postback_of_a_matched_orphan_reaches_the_purchase_support_created(
    api: Any, member: dict[str, str], admin_token: str, container: Any
) -> None:
    # Given a pending postback for a click nobody knows, matched by support to a member's claim
    lost_click = f"lost-{uuid.uuid4().hex[:12]}"
    action = uuid.uuid4().hex[:10]
    admitad(api, lost_click, action, "pending", order_sum="5000.00")
    visited(container, api, member, "aliexpress", days_ago=101)
    claim_id = api.post(
        "/members/me/claims", token=member["token"], json=claim("aliexpress", TODAY - timedelta(days=100))
    ).json()["claim_id"]
    matched = api.post(
        f"/admin/claims/{claim_id}/resolve",
        token=admin_token,
        json={"action": "match", "orphan_id": f"admitad:{action}", "reason": "Matched with the partner's postback"},
    )
    assert matched.status == 200, matched.text

    # When the network approves the order later, naming the same unknown click
    approved = admitad(api, lost_click, action, "approved", order_sum="5000.00")

    # Then the approval reaches the member's purchase: accrued, not pending forever
    assert (approved.json()["outcome"], approved.json()["status"]) == ("applied", "accrued")
    purchase = next(t for t in transactions(api, member["token"]) if t["kind"] == "purchase")
    assert (purchase["status"], purchase["amount"]) == ("accrued", 350)


def visited(container: Any, api: Any, member: dict[str, str], partner_id: str, days_ago: int) -> None:
    """The member went to the store through the programme `days_ago` days ago (a claim needs such a click)."""
    member_id = api.get("/members/me", token=member["token"]).json()["member_id"]
    clicked_at = datetime.now(UTC) - timedelta(days=days_ago)
    a_recorded_click(container, member_id=member_id, partner_id=partner_id, clicked_at=clicked_at)


def claim(partner_id: str, order_date: date) -> dict[str, str]:
    return {
        "partner_id": partner_id,
        "order_id": f"O-{uuid.uuid4().hex[:8]}",
        "order_date": order_date.isoformat(),
        "order_amount": "4990.00",
    }


def test_a_direct_signed_postback_on_an_admitad_click_changes_nothing(
    api: Any, member: dict[str, str], admin_token: str
) -> None:
    # Given a member's click through to AliExpress, an Admitad store
    click_id = click_on(api, member["token"], "aliexpress")

    # When Samokat, a direct partner, approves an order on that click with a valid signature
    answer = direct(api, click_id, "samokat", f"S-{uuid.uuid4().hex[:8]}")

    # Then it is answered 200 and kept for support as another network's, and the member sees nothing
    assert (answer.status, answer.json()["outcome"]) == (200, "kept_for_support")
    assert transactions(api, member["token"]) == []
    queue = api.get("/admin/claims", token=admin_token, limit=200).json()["items"]
    [orphan] = [i for i in queue if i["id"] == f"{answer.json()['conversion']}#wrong_network"]
    assert (orphan["kind"], orphan["reason"]) == ("orphan", "wrong_network")


def test_a_direct_partner_speaks_for_its_own_clicks_only(api: Any, member: dict[str, str]) -> None:
    # Given a member's click through to Samokat, a direct partner
    click_id = click_on(api, member["token"], "samokat")

    # When Ivi signs an approval for it, and then Samokat itself, and then someone without X-Partner-Id
    foreign = direct(api, click_id, "ivi", "S-1")
    own = direct(api, click_id, "samokat", "S-2")
    unnamed = api.request(
        "POST", "/postbacks/direct", body=b"{}", headers={"Content-Type": "application/json", "X-Signature": "t=1,v1=0"}
    )

    # Then Ivi's is kept, Samokat's accrues at its 10 %, and the unnamed one is refused
    assert (foreign.status, foreign.json()["outcome"]) == (200, "kept_for_support")
    assert (own.status, own.json()["outcome"], own.json()["status"]) == (200, "applied", "accrued")
    assert (unnamed.status, unnamed.json()["error"]["code"]) == (401, "invalid_credentials")
    purchases = [t for t in transactions(api, member["token"]) if t["kind"] == "purchase"]
    assert [(t["partner_id"], t["amount"]) for t in purchases] == [("samokat", 199)]


def test_an_order_earns_its_goods_rate_at_most_the_commission_and_never_past_the_ceiling(
    api: Any, member: dict[str, str], admin_token: str
) -> None:
    # Given a member's click through to Perekrestok: 15% for a first order, 5% for later ones (tariff 31016)
    click_id = click_on(api, member["token"], "perekrestok")

    # When Admitad reports a later order of 4,000.00, and an order of 100,000 on which it earns only 1,000
    later = admitad(api, click_id, uuid.uuid4().hex[:10], "pending", "4000.00", tariff_id="31016")
    thin = admitad(api, click_id, uuid.uuid4().hex[:10], "pending", "100000.00", payment_sum="1000.00")
    # and an order past the sanity ceiling
    huge = admitad(api, click_id, uuid.uuid4().hex[:10], "pending", "10000000.01")

    # Then the later order pays 5 % (200, not 600), the thin one the commission (1,000, not 15,000), and the
    # huge one nothing: it is kept for support
    assert [a.status for a in (later, thin, huge)] == [200, 200, 200]
    assert huge.json()["outcome"] == "kept_for_support"
    purchases = [t for t in transactions(api, member["token"]) if t["kind"] == "purchase"]
    seen = sorted((t["amount"], t["rate"], t["order_amount"]) for t in purchases)
    assert seen == [(200, "5", "4000.00"), (1000, "15", "100000.00")]
    # (with the first-purchase bonus of 200, pending with the first of them)
    assert api.get("/members/me/balance", token=member["token"]).json()["pending"] == 1200 + 200
    queue = api.get("/admin/claims", token=admin_token, limit=200).json()["items"]
    [orphan] = [i for i in queue if i["id"] == huge.json()["conversion"]]
    assert orphan["reason"] == "over_ceiling"
