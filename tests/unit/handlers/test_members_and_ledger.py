"""The handlers through real API Gateway events, on moto: what a member and the back office see."""

from __future__ import annotations

import pytest

from tests.fixtures.handlers import invoke, sample_event

MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"
pytestmark = pytest.mark.usefixtures("moto_tables")


def test_enrolment_creates_the_member_once_and_then_returns_it() -> None:
    # When a new member enrols, Then they are created with their phone, email and the default goal
    status, member = invoke("members", sample_event("members-enrol"))
    assert status == 201
    assert member["member_id"] == MEMBER
    assert member["phone"] == "+79161234567"
    assert member["email"] == "anna@example.com"
    assert member["goal"] == "phone_topup"
    assert member["email_confirmed"] is False

    # When they enrol again, Then they get the same member back
    status, again = invoke("members", sample_event("members-enrol"))
    assert status == 200
    assert again == member


def test_enrolment_without_a_body_is_fine() -> None:
    status, member = invoke("members", sample_event("members-enrol", body=None))
    assert status == 201
    assert member["email"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ({"email": 42}, 422, "invalid_request"),
        ({"email": "not-an-email"}, 422, "invalid_email"),
        ({"unexpected": "field"}, 422, "invalid_request"),
    ],
)
def test_bad_enrolment_input_is_refused_with_a_code(body: object, status: int, code: str) -> None:
    got_status, error = invoke("members", sample_event("members-enrol", body=body))
    assert (got_status, error["error"]["code"]) == (status, code)


def test_a_phone_number_that_is_not_valid_is_refused() -> None:
    claims = {"sub": "someone", "phone_number": "+7000"}
    status, error = invoke("members", sample_event("members-enrol", claims=claims))
    assert (status, error["error"]["code"]) == (422, "invalid_phone")


def test_me_before_enrolment_is_404() -> None:
    status, error = invoke("members", sample_event("members-me"))
    assert (status, error["error"]["code"]) == (404, "member_not_found")


def test_an_adjustment_shows_in_balance_and_transactions_with_its_reason() -> None:
    # Given an enrolled member
    invoke("members", sample_event("members-enrol"))

    # When the back office credits them 100 by hand
    status, adjustment = invoke("admin", sample_event("admin-adjustment"))
    assert status == 201
    assert adjustment["available"] == 100

    # Then the member sees the 100 available, with the next settlement date in Moscow time
    status, balance = invoke("ledger", sample_event("ledger-balance"))
    assert status == 200
    assert (balance["available"], balance["pending"], balance["written_off"]) == (100, 0, 0)
    assert balance["next_settlement_at"].endswith("+03:00")

    # Then the member sees the adjustment among their transactions, with its reason
    status, page = invoke("ledger", sample_event("ledger-transactions", query=None))
    assert status == 200
    [txn] = page["items"]
    assert (txn["kind"], txn["status"], txn["amount"]) == ("adjustment", "accrued", 100)
    assert txn["reason"] == "Goodwill credit after a delayed accrual"
    assert page["next_cursor"] is None


def test_a_retried_adjustment_with_the_same_key_applies_once() -> None:
    # Given an enrolled member
    invoke("members", sample_event("members-enrol"))
    # When the back office sends the same adjustment twice, with one idempotency key
    first, _ = invoke("admin", sample_event("admin-adjustment"))
    second, body = invoke("admin", sample_event("admin-adjustment"))
    # Then the second changes nothing, and the member has the 100 once
    assert (first, second) == (201, 200)
    assert body["applied"] is False
    _, balance = invoke("ledger", sample_event("ledger-balance"))
    assert balance["available"] == 100


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"member_id": MEMBER, "amount": 0, "reason": "x"}, "invalid_amount"),
        ({"member_id": MEMBER, "amount": 10.5, "reason": "x"}, "invalid_request"),
        ({"member_id": MEMBER, "amount": "10", "reason": "x"}, "invalid_request"),
        ({"member_id": MEMBER, "amount": 10, "reason": ""}, "invalid_request"),
        ({"member_id": MEMBER, "amount": 10}, "invalid_request"),
    ],
)
def test_bad_adjustments_are_refused(body: dict, code: str) -> None:
    invoke("members", sample_event("members-enrol"))
    status, error = invoke("admin", sample_event("admin-adjustment", body=body))
    assert (status, error["error"]["code"]) == (422, code)


def test_an_adjustment_for_an_unknown_member_is_404() -> None:
    body = {"member_id": "nobody", "amount": 10, "reason": "typo"}
    status, error = invoke("admin", sample_event("admin-adjustment", body=body))
    assert (status, error["error"]["code"]) == (404, "member_not_found")


def test_a_negative_adjustment_beyond_the_balance_becomes_debt() -> None:
    invoke("members", sample_event("members-enrol"))
    body = {"member_id": MEMBER, "amount": -30, "reason": "Bonus credited by mistake"}
    status, result = invoke("admin", sample_event("admin-adjustment", body=body, headers={"idempotency-key": "k-2"}))
    assert status == 201
    assert (result["available"], result["debt"]) == (0, 30)


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "500"}, {"status": "lost"}, {"cursor": "%%%"}])
def test_bad_list_parameters_are_refused(query: dict) -> None:
    status, error = invoke("ledger", sample_event("ledger-transactions", query=query))
    assert status in (400, 422)
    assert error["error"]["code"] in ("invalid_request", "invalid_cursor")


def test_transactions_page_with_a_cursor_and_filter_by_status() -> None:
    # Given a member credited five times by hand
    invoke("members", sample_event("members-enrol"))
    for i in range(5):
        body = {"member_id": MEMBER, "amount": 10 + i, "reason": f"credit {i}"}
        invoke("admin", sample_event("admin-adjustment", body=body, headers={"idempotency-key": f"k{i}"}))

    # When they page through their transactions three at a time
    _, first = invoke("ledger", sample_event("ledger-transactions", query={"limit": "3"}))
    _, second = invoke(
        "ledger", sample_event("ledger-transactions", query={"limit": "3", "cursor": first["next_cursor"]})
    )
    # Then they see each one once, newest first
    amounts = [t["amount"] for t in first["items"] + second["items"]]
    assert amounts == [14, 13, 12, 11, 10]  # newest first, across pages, nothing twice
    assert second["next_cursor"] is None

    # When they filter by pending, Then there is none
    _, pending = invoke("ledger", sample_event("ledger-transactions", query={"status": "pending"}))
    assert pending["items"] == []


def test_a_member_only_ever_sees_their_own_transactions() -> None:
    # Given a member with an adjustment, and another member
    invoke("members", sample_event("members-enrol"))
    invoke("admin", sample_event("admin-adjustment"))
    other = {"sub": "another-member", "phone_number": "+79990001122"}
    invoke("members", sample_event("members-enrol", claims=other))

    # When the other member looks at their transactions and balance
    _, page = invoke("ledger", sample_event("ledger-transactions", claims=other, query=None))
    _, balance = invoke("ledger", sample_event("ledger-balance", claims=other))
    # Then they see nothing of the first member's
    assert page["items"] == []
    assert balance["available"] == 0
