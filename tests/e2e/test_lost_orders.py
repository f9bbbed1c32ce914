"""A lost order through the local stack: a member claims an order nobody reported, with the receipt; support
files it with Admitad; Admitad accepts it; the schedule follows the answer and the daily reconciliation
brings the order's cashback."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from local.fake_admitad import FakeAdmitad
from tests.e2e.test_postbacks_story import admitad, claim, member, seeded, transactions, visited

__all__ = ["member", "seeded"]  # fixtures

FILE = {"action": "file_lost_order", "reason": "Not in Admitad's statistics; the member sent the receipt"}
RECEIPT = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def test_a_lost_order_filed_with_admitad_and_accepted_brings_the_order_s_cashback(
    api: Any, member: dict[str, str], admin_token: str, container: Any, fake_admitad: FakeAdmitad
) -> None:
    # Given a member who went to Lamoda through the programme 60 days ago and claims that day's order
    visited(container, api, member, "lamoda", days_ago=60)
    order_date = (datetime.now(UTC) - timedelta(days=60)).date()
    body = {**claim("lamoda", order_date), "receipt": base64.b64encode(RECEIPT).decode()}
    filed = api.post("/members/me/claims", token=member["token"], json=body)
    assert filed.status == 201
    claim_id = filed.json()["claim_id"]

    # When support files it with Admitad as a lost order
    lost = api.post(f"/admin/claims/{claim_id}/resolve", token=admin_token, json=FILE)

    # Then Admitad has it with the receipt, and the member sees the claim filed
    assert (lost.status, lost.json()["state"]) == (200, "filed")
    [order] = api.get("/_local/admitad/lost-orders").json()["items"]
    assert str(order["id"]) == lost.json()["lost_order_id"]
    assert (order["order_id"], order["order_price"]) == (body["order_id"], "4990.00")
    assert order["comment"] == FILE["reason"]
    assert order["attachment"] == {"filename": "receipt.pdf", "content_type": "application/pdf", "size": len(RECEIPT)}
    [mine] = api.get("/members/me/claims", token=member["token"]).json()["items"]
    assert mine["state"] == "filed"
    again = api.post(f"/admin/claims/{claim_id}/resolve", token=admin_token, json=FILE)
    assert (again.status, again.json()["error"]["code"]) == (409, "claim_already_resolved")

    # When Admitad accepts it, the schedule asks, and the daily reconciliation pulls Admitad's statistics
    accepted_at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()  # before the reconciliation's window ends
    answer = {"status": "accepted", "at": accepted_at}
    assert api.post(f"/_local/admitad/lost-orders/{order['id']}", json=answer).status == 200
    followed = api.request("POST", "/_local/schedules/ReconciliationFunction", query={"event": "LostOrders"})
    assert (followed.status, followed.json()["accepted"]) == (200, 1)
    assert api.post("/admin/reconciliations", token=admin_token, json={"network": "admitad"}).status == 202

    # Then the claim is accepted, and the order's cashback (7% frozen on the click) is pending with the
    # first-purchase bonus
    [mine] = api.get("/members/me/claims", token=member["token"]).json()["items"]
    assert mine["state"] == "accepted"
    assert sorted((t["kind"], t["status"], t["amount"]) for t in transactions(api, member["token"])) == [
        ("bonus", "pending", 200),
        ("purchase", "pending", 349),
    ]


def test_a_lost_order_admitad_rejects_declines_the_claim_with_admitad_s_reason(
    api: Any, member: dict[str, str], admin_token: str, container: Any, fake_admitad: FakeAdmitad
) -> None:
    visited(container, api, member, "lamoda", days_ago=60)
    order_date = (datetime.now(UTC) - timedelta(days=60)).date()
    body = {**claim("lamoda", order_date), "receipt": base64.b64encode(RECEIPT).decode()}
    claim_id = api.post("/members/me/claims", token=member["token"], json=body).json()["claim_id"]
    ticket = api.post(f"/admin/claims/{claim_id}/resolve", token=admin_token, json=FILE).json()["lost_order_id"]

    api.post(f"/_local/admitad/lost-orders/{ticket}", json={"status": "rejected", "reason": "Order cancelled"})
    api.request("POST", "/_local/schedules/ReconciliationFunction", query={"event": "LostOrders"})

    [mine] = api.get("/members/me/claims", token=member["token"]).json()["items"]
    assert (mine["state"], mine["resolution_reason"]) == ("declined", "The network rejected the order: Order cancelled")
    assert transactions(api, member["token"]) == []


def test_a_claim_without_a_receipt_is_not_filed_with_the_network_and_stays_open(
    api: Any, member: dict[str, str], admin_token: str, container: Any, fake_admitad: FakeAdmitad
) -> None:
    visited(container, api, member, "lamoda", days_ago=60)
    order_date = (datetime.now(UTC) - timedelta(days=60)).date()
    claim_id = api.post("/members/me/claims", token=member["token"], json=claim("lamoda", order_date)).json()[
        "claim_id"
    ]

    refused = api.post(f"/admin/claims/{claim_id}/resolve", token=admin_token, json=FILE)

    assert (refused.status, refused.json()["error"]["code"]) == (422, "receipt_required")
    assert api.get("/_local/admitad/lost-orders").json() == {"items": []}
    [mine] = api.get("/members/me/claims", token=member["token"]).json()["items"]
    assert (mine["state"], mine["receipt"]) == ("open", False)


def test_the_readme_s_claim_walk_through_a_past_click_a_claim_once_a_credit_and_only_the_difference_later(
    api: Any, member: dict[str, str], admin_token: str
) -> None:
    # Given the member's visit to Lamoda 60 days ago (6% then), recorded as the redirect would have then
    sixty_days_ago = datetime.now(UTC) - timedelta(days=60)
    visit = {"phone": member["phone"], "partner_id": "lamoda", "clicked_at": sixty_days_ago.isoformat()}
    recorded = api.post("/_local/clicks", json=visit)
    assert recorded.status == 201
    click_id = recorded.json()["click_id"]

    # When they claim that day's order twice, and support credits the claim 150
    body = {"partner_id": "lamoda", "order_id": f"LM-{click_id[-6:]}", "order_amount": "4990.00"}
    body["order_date"] = sixty_days_ago.date().isoformat()
    first = api.post("/members/me/claims", token=member["token"], json=body)
    second = api.post("/members/me/claims", token=member["token"], json=body)
    credit = {"action": "credit", "amount": 150, "reason": "Lamoda confirmed the order by email"}
    credited = api.post(f"/admin/claims/{first.json()['claim_id']}/resolve", token=admin_token, json=credit)

    # Then the claim is filed once and credited
    assert (first.status, second.status, second.json()["error"]["code"]) == (201, 409, "claim_exists")
    assert (credited.status, credited.json()["state"]) == (200, "credited")

    # When Lamoda's postback for the order arrives after all (6% of 4,990.00: 299 bonuses)
    late = admitad(api, click_id, f"9{click_id[-8:].lower()}", "approved", "4990.00", order_id=body["order_id"])

    # Then it pays only what support did not credit: 299 - 150
    assert late.status == 200
    amounts = {t["kind"]: t["amount"] for t in transactions(api, member["token"])}
    assert (amounts["adjustment"], amounts["purchase"]) == (150, 149)


def test_a_past_click_people_record_carries_the_terms_in_force_then(api: Any, container: Any, seeded: None) -> None:
    clicked_at = datetime.now(UTC) - timedelta(days=60)  # before any promotion the seed runs
    visit = {"phone": "+79160000001", "partner_id": "lamoda", "clicked_at": clicked_at.isoformat()}

    recorded = api.post("/_local/clicks", visit)
    future = api.post("/_local/clicks", {**visit, "clicked_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    unknown = api.post("/_local/clicks", {**visit, "partner_id": "no-such-store"})

    assert recorded.status == 201
    click = container.clicks.find_click(recorded.json()["click_id"])
    assert click is not None
    assert (click.rate_percent, click.clicked_at) == (Decimal("6"), clicked_at.replace(microsecond=0))
    assert (future.status, unknown.status) == (422, 404)
