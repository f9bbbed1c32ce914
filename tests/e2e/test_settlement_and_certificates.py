"""Issue 5's story over HTTP through the local gateway and DynamoDB Local: a `phone_topup` member is
topped up by the monthly run (once, however often it is started, within their limit), and a
`smartphone` member buys a certificate whose code a store redeems once.

The local stack has no SQS: the start settles the batches in process before it answers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from cashback.ledger.calendar import MOSCOW


def last_month() -> str:
    """The month that has just ended in Moscow: the only one that can be settled."""
    return (datetime.now(MOSCOW).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def months_ago(months: int) -> str:
    now = datetime.now(MOSCOW)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    return f"{year:04d}-{month + 1:02d}"


def enrol_with(api, member_token, admin_token, *, bonuses: int, **settings: object) -> tuple[str, str, str]:
    token, phone = member_token()
    member_id = api.post("/members", token=token).json()["member_id"]
    assert api.patch("/members/me", json=settings, token=token).status == 200
    credit = api.post(
        "/admin/adjustments",
        json={"member_id": member_id, "amount": bonuses, "reason": "Cashback for October"},
        token=admin_token,
        headers={"Idempotency-Key": f"seed-{member_id}"},
    )
    assert credit.status == 201
    return token, phone, member_id


def outbox(api, kind: str) -> list[dict]:
    return [m for m in api.get("/_local/outbox", limit=200).json()["items"] if m["kind"] == kind]


def test_the_monthly_run_tops_up_a_phone_once_within_the_limit(api, member_token, admin_token) -> None:
    # Given a phone top-up member with 900 bonuses and a limit of 600 a month
    token, phone, member_id = enrol_with(
        api, member_token, admin_token, bonuses=900, goal="phone_topup", monthly_writeoff_limit=600
    )
    month = last_month()

    # When the back office starts last month's run, twice, and reads its report
    started = api.post("/admin/settlements", json={"month": month}, token=admin_token)
    again = api.post("/admin/settlements", json={"month": month}, token=admin_token)
    report = api.get(f"/admin/settlements/{month}", token=admin_token)

    # Then the phone is topped up once with 600, and the member sees 300 left and the top-up with its reason
    assert started.status == 202, started.text
    assert again.status == 202
    assert report.status == 200
    assert report.json()["members_settled"] >= 1
    assert report.json()["state"] in ("completed", "failed")  # other tests leave members without records
    topups = [m for m in outbox(api, "topup_requested") if m["body"]["phone"] == phone]
    topup_id = f"topup:{month}:{member_id}"
    assert [m["body"] for m in topups] == [
        {"message_id": topup_id, "topup_id": topup_id, "phone": phone, "amount": 600, "month": month, "to": phone}
    ]
    balance = api.get("/members/me/balance", token=token).json()
    assert (balance["available"], balance["written_off"]) == (300, 600)
    [settled] = api.get("/members/me/transactions", token=token).json()["items"][:1]
    assert (settled["kind"], settled["status"], settled["amount"]) == ("settlement", "written_off", 600)
    assert settled["reason"] == f"Top-up of {phone} for {month}"


def test_a_member_buys_a_certificate_and_a_store_redeems_it_once(api, member_token, admin_token, pos_token) -> None:
    # Given a smartphone member with 1,200 bonuses
    token, phone, _ = enrol_with(api, member_token, admin_token, bonuses=1_200, goal="smartphone")
    key = {"Idempotency-Key": "e2e-certificate-order-1"}

    # When they buy a certificate of 1,000, retry the order, and order another of 500
    bought = api.post("/certificates", json={"denomination": 1_000}, token=token, headers=key)
    retried = api.post("/certificates", json={"denomination": 1_000}, token=token, headers=key)
    too_much = api.post(
        "/certificates", json={"denomination": 500}, token=token, headers={"Idempotency-Key": "e2e-2nd-order"}
    )

    # Then one certificate is bought, its code comes by SMS and is listed masked, and the second is refused
    assert bought.status == 201, bought.text
    assert retried.json() == bought.json()
    assert (too_much.status, too_much.json()["error"]["code"]) == (409, "insufficient_balance")
    code = bought.json()["code"]
    [sms] = [m for m in outbox(api, "sms") if m.get("to") == phone]
    assert code in sms["body"]  # the text on the member's phone
    listed = api.get("/certificates", token=token).json()["items"]
    assert [c["code"] for c in listed] == [f"****-****-****-{code[-1]}"]

    # When a store redeems it for a smartphone of 899.90, another order tries it, and so does the member
    sale = {"code": code, "store_id": "store-local-1", "order_id": "pos-1", "price": "899.90", "item": "smartphone"}
    redeemed = api.post("/certificates/redeem", json=sale, token=pos_token)
    twice = api.post("/certificates/redeem", json={**sale, "order_id": "pos-2"}, token=pos_token)
    by_member = api.post("/certificates/redeem", json=sale, token=token)

    # Then the store gets 899 off and 101 are forfeited, the second order is refused, and the member may not redeem
    assert redeemed.status == 200, redeemed.text
    assert redeemed.json() == {"certificate_id": bought.json()["certificate_id"], "discount": 899, "forfeited": 101}
    assert (twice.status, twice.json()["error"]["code"]) == (409, "already_redeemed")
    assert by_member.status == 403


def test_a_second_certificate_on_the_same_store_order_is_refused(api, member_token, admin_token, pos_token) -> None:
    # Given a smartphone member's two certificates of 1,000
    token, _, _ = enrol_with(api, member_token, admin_token, bonuses=2_000, goal="smartphone")
    codes = [
        api.post("/certificates", json={"denomination": 1_000}, token=token, headers={"Idempotency-Key": key}).json()[
            "code"
        ]
        for key in ("e2e-one-order-first", "e2e-one-order-second")
    ]

    # When a store redeems both on one order of a 1,999.90 phone, and its terminal retries the first
    sale = {"store_id": "store-local-1", "order_id": f"pos-{uuid.uuid4()}", "price": "1999.90", "item": "smartphone"}
    first = api.post("/certificates/redeem", json={**sale, "code": codes[0]}, token=pos_token)
    second = api.post("/certificates/redeem", json={**sale, "code": codes[1]}, token=pos_token)
    retried = api.post("/certificates/redeem", json={**sale, "code": codes[0]}, token=pos_token)

    # Then the order is discounted by the first only: 1,000, not 1,999
    assert (first.status, first.json()["discount"]) == (200, 1_000), first.text
    assert (second.status, second.json()["error"]["code"]) == (409, "order_already_discounted")
    assert (retried.status, retried.json()) == (200, first.json())


def test_only_the_month_that_has_just_ended_can_be_settled(api, admin_token) -> None:
    # When an operator asks to settle 1999-01, two months ago, and this month
    for month in ("1999-01", months_ago(2), months_ago(0)):
        refused = api.post("/admin/settlements", json={"month": month}, token=admin_token)
        # Then each is refused
        assert (refused.status, refused.json()["error"]["code"]) == (422, "invalid_month"), month


def test_a_top_up_billing_refuses_gives_the_bonuses_back_once(api, member_token, admin_token, container) -> None:
    # Given a phone top-up member with 900 bonuses and a limit of 600, settled for last month
    token, phone, member_id = enrol_with(
        api, member_token, admin_token, bonuses=900, goal="phone_topup", monthly_writeoff_limit=600
    )
    month = last_month()
    assert api.post("/admin/settlements", json={"month": month}, token=admin_token).status == 202
    # A run that completed earlier in this session does not settle members who joined since: this one is
    # settled as the run's worker does (a repeat of the run's own settlement changes nothing).
    container.settlement.settle_member(month, member_id, "e2e-topups")
    balance = api.get("/members/me/balance", token=token).json()
    assert (balance["available"], balance["written_off"]) == (300, 600)
    before = api.get(f"/admin/settlements/{month}", token=admin_token).json()

    # When billing refuses the top-up, and its answer is delivered twice
    refusal = {
        "source": "operator.billing",
        "detail-type": "TopUpFailed",
        "detail": {"topup_id": f"topup:{month}:{member_id}", "reason": "number ported to another operator"},
    }
    first = api.post("/_local/events", json=refusal)
    again = api.post("/_local/events", json=refusal)

    # Then the 600 are available again once, the settlement shows why, the report counts it, and an SMS goes out
    assert first.status == 200, first.text
    assert first.json() == {"delivered": ["TopUpAnswersFunction"], "results": [{"outcome": "failed_and_returned"}]}
    assert again.json()["results"] == [{"outcome": "repeat"}]
    balance = api.get("/members/me/balance", token=token).json()
    assert (balance["available"], balance["written_off"]) == (900, 0)
    settlements = [
        t for t in api.get("/members/me/transactions", token=token).json()["items"] if t["kind"] == "settlement"
    ]
    assert [(t["status"], t["amount"]) for t in settlements] == [("rejected", 600)]
    assert "number ported to another operator" in settlements[0]["reason"]
    report = api.get(f"/admin/settlements/{month}", token=admin_token).json()
    assert (report["topups_failed"], report["topups_confirmed"]) == (
        before["topups_failed"] + 1,
        before["topups_confirmed"],
    )
    assert [(m["kind"], m["to"]) for m in outbox(api, "sms") if m.get("to") == phone] == [("sms", phone)]
