"""Claims and payment events through their handlers, on moto: what members and support see, and what
bad input gets."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.claims.rules import Orphan
from tests.builders import a_recorded_click
from tests.fixtures.handlers import REPO, LambdaContext, handler_module, invoke, sample_event
from tests.unit.catalog.support import partner

OLD_ORDER = (datetime.now(UTC) - timedelta(days=60)).date().isoformat()
MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"  # the member of the sample events


@pytest.fixture(autouse=True)
def enrolled_member_and_partner(moto_tables: dict[str, str], container: Container) -> None:
    """The sample events' member, who went to Lamoda through the programme the day before OLD_ORDER."""
    invoke("members", sample_event("members-enrol"))
    container.catalog.put_partner(partner("lamoda", name="Lamoda", accrual_days=30), actor="test")
    visited_at = datetime.combine(date.fromisoformat(OLD_ORDER), time(12), UTC) - timedelta(days=1)
    a_recorded_click(container, member_id=MEMBER, partner_id="lamoda", accrual_days=30, clicked_at=visited_at)


def file_claim(**changes: Any) -> tuple[int, Any]:
    body = {"partner_id": "lamoda", "order_id": "LM-1", "order_date": OLD_ORDER, "order_amount": "4990.00", **changes}
    return invoke("claims", sample_event("claims-file", body=body))


def resolve(claim_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    event = sample_event("claims-resolve", body=body)
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/admin/claims/{claim_id}/resolve"
    event["pathParameters"] = {"claim_id": claim_id}
    return invoke("claims", event)


def test_a_claim_is_filed_listed_and_credited_by_support() -> None:
    # When a member files a claim for an untracked Lamoda order, Then it is open
    status, filed = file_claim()
    assert (status, filed["state"]) == (201, "open")

    # When support looks at its queue, Then the claim is there
    status, queue = invoke("claims", sample_event("claims-queue"))
    assert status == 200
    assert [(i["kind"], i["id"]) for i in queue["items"]] == [("claim", filed["claim_id"])]

    # When support credits it with 150 bonuses
    status, resolved = resolve(filed["claim_id"], {"action": "credit", "amount": 150, "reason": "Confirmed by Lamoda"})
    assert (status, resolved["state"], resolved["bonus"]) == (200, "credited", 150)

    # Then the member sees the claim credited with the reason, and the 150 available
    _, mine = invoke("claims", sample_event("claims-mine"))
    assert [(c["state"], c["resolution_reason"]) for c in mine["items"]] == [("credited", "Confirmed by Lamoda")]
    _, balance = invoke("ledger", sample_event("ledger-balance"))
    assert balance["available"] == 150


def test_a_declined_claim_shows_its_reason_and_moves_no_bonuses() -> None:
    _, filed = file_claim()
    status, resolved = resolve(filed["claim_id"], {"action": "decline", "reason": "The order was cancelled"})
    assert (status, resolved["state"], resolved["resolution_reason"]) == (200, "declined", "The order was cancelled")
    _, balance = invoke("ledger", sample_event("ledger-balance"))
    assert balance["available"] == 0


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"order_date": datetime.now(UTC).date().isoformat()}, 422, "accrual_period_not_over"),
        ({"order_date": "2999-01-01"}, 422, "invalid_order_date"),
        ({"partner_id": "no-such-shop"}, 404, "partner_not_found"),
        ({"order_amount": "12,50"}, 422, "invalid_amount"),
        ({"order_amount": 4990}, 422, "invalid_request"),
        ({"order_date": "yesterday"}, 422, "invalid_request"),
        ({"extra": "field"}, 422, "invalid_request"),
    ],
)
def test_bad_claims_are_refused_with_a_code(changes: dict[str, Any], status: int, code: str) -> None:
    got, error = file_claim(**changes)
    assert (got, error["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"action": "credit", "reason": "no amount"}, 422, "invalid_amount"),
        ({"action": "credit", "amount": -5, "reason": "negative"}, 422, "invalid_request"),
        ({"action": "refund", "reason": "unknown action"}, 422, "invalid_request"),
        ({"action": "decline", "reason": ""}, 422, "invalid_request"),
        ({"action": "match", "reason": "no orphan"}, 422, "orphan_required"),
        ({"action": "match", "orphan_id": "admitad:nope", "reason": "unknown"}, 404, "orphan_not_found"),
    ],
)
def test_bad_resolutions_are_refused_and_leave_the_claim_open(body: dict[str, Any], status: int, code: str) -> None:
    _, filed = file_claim()
    got, error = resolve(filed["claim_id"], body)
    assert (got, error["error"]["code"]) == (status, code)
    _, mine = invoke("claims", sample_event("claims-mine"))
    assert mine["items"][0]["state"] == "open"


def test_resolving_an_unknown_claim_is_404() -> None:
    status, error = resolve("01JDNOSUCHCLAIM0000000000", {"action": "decline", "reason": "x"})
    assert (status, error["error"]["code"]) == (404, "claim_not_found")


def pay(**changes: Any) -> dict[str, Any]:
    """Delivers events/payments-completed.json, its detail changed as given, to the payments function."""
    event = json.loads((REPO / "events" / "payments-completed.json").read_text())
    event["detail"].update(changes)
    result: dict[str, Any] = handler_module("payments").lambda_handler(event, LambdaContext())
    return result


def test_a_members_tariff_payment_earns_half_back_once() -> None:
    outcomes = [pay()["outcome"] for _ in range(2)]
    assert outcomes == ["credited", "repeat"]
    _, page = invoke("ledger", sample_event("ledger-transactions", query=None))
    assert [(t["amount"], t["rate"], t["status"]) for t in page["items"]] == [(300, "50", "accrued")]


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"phone": "+79990001122"}, "not_a_member"),
        ({"currency": "USD"}, "nothing_earned"),
        ({"amount": "1.00", "product": "wallet"}, "nothing_earned"),
    ],
)
def test_payments_that_earn_nothing_are_counted_not_credited(changes: dict[str, Any], outcome: str) -> None:
    assert pay(**changes)["outcome"] == outcome
    _, balance = invoke("ledger", sample_event("ledger-balance"))
    assert balance["available"] == 0


@pytest.mark.parametrize("changes", [{"amount": 600.0}, {"product": "lottery"}, {"occurred_at": "2026-11-24T15:00:00"}])
def test_malformed_payment_events_fail_loudly_for_the_dead_letter_queue(changes: dict[str, Any]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        pay(**changes)


def kept_postback(container: Container, orphan_id: str, reason: str, amount: str, currency: str) -> None:
    """Admitad's approval of Lamoda's order LM-1, kept for support for `reason`."""
    container.claim_repository.keep(
        Orphan(
            orphan_id=orphan_id,
            network="admitad",
            reason=reason,
            raw={"action_id": orphan_id.split(":")[1]},
            received_at=datetime.now(UTC),
            details={
                "click_id": "c-1",
                "order_id": "LM-1",
                "order_amount": amount,
                "currency": currency,
                "status": "approved",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
        )
    )


def test_a_postback_that_named_another_partners_click_can_never_be_matched(container: Container) -> None:
    # Given a postback kept for support because it named a click of another network's store
    kept_postback(container, "admitad:77#wrong_network", "wrong_network", "99999.00", "RUB")
    _, filed = file_claim()

    # When support tries to match a member's claim with it
    status, error = resolve(
        filed["claim_id"], {"action": "match", "orphan_id": "admitad:77#wrong_network", "reason": "looks right"}
    )

    # Then it is refused: its data are not the network's word on that member's order
    assert (status, error["error"]["code"]) == (409, "orphan_not_matchable")
    _, balance = invoke("ledger", sample_event("ledger-balance"))
    assert balance["available"] == 0


def test_an_order_is_claimed_once_and_a_blank_order_id_is_no_order() -> None:
    # Given a member's claim for Lamoda's order LM-1
    assert file_claim()[0] == 201

    # When they claim the same order again, and an order with a blank id
    again, error = file_claim()
    blank, blank_error = file_claim(order_id="   ")

    # Then the second claim of the order is refused, and so is the blank one
    assert (again, error["error"]["code"]) == (409, "claim_exists")
    assert (blank, blank_error["error"]["code"]) == (422, "invalid_order_id")
    _, mine = invoke("claims", sample_event("claims-mine"))
    assert len(mine["items"]) == 1


def test_the_stores_late_postback_pays_only_what_support_did_not_credit(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a member's claim for Lamoda's order LM-1 of 4,990.00, credited 150 by support
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": ["local-admitad-secret"]}))
    click = a_recorded_click(container, member_id=MEMBER, partner_id="lamoda", network="admitad", rate_percent="7")
    _, filed = file_claim()
    resolve(filed["claim_id"], {"action": "credit", "amount": 150, "reason": "Lamoda confirmed it by email"})

    # When Lamoda's postback for that order arrives after all: 349 bonuses of cashback
    query = {
        **sample_event("postbacks-admitad")["queryStringParameters"],
        "subid": click.click_id,
        "order_id": "LM-1",
        "order_sum": "4990.00",
        "payment_sum": "",
        "status": "approved",
    }
    status, receipt = invoke("postbacks", sample_event("postbacks-admitad", query=query))

    # Then the purchase pays the difference only (199), never the 349 again
    assert (status, receipt["status"]) == (200, "accrued")
    purchase = container.ledger.transaction(MEMBER, f"conversion:{receipt['conversion']}")
    assert purchase is not None
    assert (purchase.amount, purchase.details["credited_by_support"]) == (199, "150")
    _, balance = invoke("ledger", sample_event("ledger-balance"))
    assert balance["available"] == 150 + 199 + 200  # and the first-purchase bonus of the order


def test_a_postback_kept_for_its_currency_is_never_matched_as_roubles(container: Container) -> None:
    # Given a postback of 100,000 tenge kept for support because of its currency
    kept_postback(container, "admitad:88", "currency KZT is not RUB", "100000.00", "KZT")
    _, filed = file_claim()

    # When support tries to match a claim with it
    status, error = resolve(filed["claim_id"], {"action": "match", "orphan_id": "admitad:88", "reason": "same order"})

    # Then it is refused: tenge are not roubles, and nothing is credited
    assert (status, error["error"]["code"]) == (422, "foreign_currency")
    _, balance = invoke("ledger", sample_event("ledger-balance"))
    assert balance["available"] == 0


def test_a_claim_needs_a_visit_to_the_store_before_the_order(container: Container) -> None:
    # Given a member who never went to Ozon through the programme
    container.catalog.put_partner(partner("ozon", name="Ozon", accrual_days=30), actor="test")

    # When they claim an Ozon order
    status, error = file_claim(partner_id="ozon")

    # Then it is refused: nothing the programme tracked led to that order
    assert (status, error["error"]["code"]) == (422, "no_click_before_order")


def test_a_claim_is_due_by_the_accrual_period_frozen_on_the_click(container: Container) -> None:
    # Given Lamoda now confirms within 90 days, though the member's click (30 days) was made before that
    container.catalog.put_partner(partner("lamoda", name="Lamoda", accrual_days=90), actor="test")

    # When the member claims the order 60 days after it
    status, filed = file_claim()

    # Then the claim is filed: the 30 days frozen on the click have passed
    assert (status, filed["state"]) == (201, "open")
