"""Issue 2's story over HTTP through the local gateway and DynamoDB Local: a new member enrols, the back
office credits them by hand, and the member sees it in balance and transactions with its reason."""

from __future__ import annotations


def test_a_member_enrols_and_sees_an_adjustment_with_its_reason(api, member_token, admin_token) -> None:
    # Given a new member, enrolled (a second enrolment returns the same member)
    token, phone = member_token()

    enrolled = api.post("/members", json={"email": "anna@example.com"}, token=token)
    assert enrolled.status == 201
    member = enrolled.json()
    assert member["phone"] == phone
    assert api.post("/members", json={}, token=token).json()["member_id"] == member["member_id"]

    # When the back office credits them 100 by hand, with a reason
    credit = api.post(
        "/admin/adjustments",
        json={"member_id": member["member_id"], "amount": 100, "reason": "Welcome gift"},
        token=admin_token,
        headers={"Idempotency-Key": f"welcome-{member['member_id']}"},
    )
    assert credit.status == 201

    # Then the member sees the 100 available, and the adjustment with its reason among their transactions
    balance = api.get("/members/me/balance", token=token).json()
    assert (balance["available"], balance["pending"], balance["written_off"]) == (100, 0, 0)

    [txn] = api.get("/members/me/transactions", token=token).json()["items"]
    assert (txn["kind"], txn["status"], txn["amount"], txn["reason"]) == ("adjustment", "accrued", 100, "Welcome gift")


def test_a_debit_by_hand_reads_as_a_negative_adjustment_not_a_write_off(api, member_token, admin_token) -> None:
    # Given an enrolled member credited 100 by hand
    token, _ = member_token()
    member_id = api.post("/members", token=token).json()["member_id"]

    def adjust(amount: int, reason: str) -> None:
        body = {"member_id": member_id, "amount": amount, "reason": reason}
        headers = {"Idempotency-Key": f"{reason}-{member_id}"}
        assert api.post("/admin/adjustments", json=body, token=admin_token, headers=headers).status == 201

    adjust(100, "Goodwill credit")
    # When the back office then takes 130 back
    adjust(-130, "Fraud")

    # Then the member sees both as adjustments with their sign and reason, settled at once
    items = api.get("/members/me/transactions", token=token).json()["items"]
    seen = [(t["kind"], t["status"], t["amount"], t["reason"]) for t in items]
    assert seen == [("adjustment", "accrued", -130, "Fraud"), ("adjustment", "accrued", 100, "Goodwill credit")]
    assert api.get("/members/me/transactions", token=token, status="written_off").json()["items"] == []
    # And nothing was written off: the 100 are gone and 30 are owed, repaid from the next accruals
    balance = api.get("/members/me/balance", token=token).json()
    assert (balance["available"], balance["written_off"], balance["debt"]) == (0, 0, 30)


def test_a_retried_adjustment_request_credits_once(api, member_token, admin_token) -> None:
    # Given an enrolled member
    token, _ = member_token()
    member_id = api.post("/members", token=token).json()["member_id"]
    request = {"member_id": member_id, "amount": 40, "reason": "Support ticket 1182"}

    # When the back office sends one adjustment three times, with one idempotency key
    statuses = [
        api.post("/admin/adjustments", json=request, token=admin_token, headers={"Idempotency-Key": "t-1182"}).status
        for _ in range(3)
    ]

    # Then the member is credited 40 once
    assert statuses == [201, 200, 200]
    assert api.get("/members/me/balance", token=token).json()["available"] == 40


def test_members_reach_only_their_own_ledger_and_never_admin_routes(api, member_token) -> None:
    # Given an enrolled member
    token, _ = member_token()
    api.post("/members", token=token)

    # When they call an admin route, and someone calls a member route without a token
    forbidden = api.post("/admin/adjustments", json={"member_id": "x", "amount": 1, "reason": "me"}, token=token)
    anonymous = api.get("/members/me/balance")

    # Then the member is forbidden, and the anonymous caller unauthorized
    assert forbidden.status == 403
    assert anonymous.status == 401


def test_bad_input_is_a_clear_4xx_never_a_500(api, member_token, admin_token) -> None:
    # Given an enrolled member
    token, _ = member_token()
    api.post("/members", token=token)

    # When the back office and the member send requests that make no sense
    cases = [
        api.post("/admin/adjustments", json={"member_id": "nobody", "amount": 5, "reason": "x"}, token=admin_token),
        api.post("/admin/adjustments", json={"amount": "five"}, token=admin_token),
        api.get("/members/me/transactions", token=token, limit="1000"),
        api.get("/members/me/transactions", token=token, cursor="not-a-cursor"),
        api.get("/members/me/transactions", token=token, status="maybe"),
    ]

    # Then each gets a 4xx with an error code
    for response in cases:
        assert 400 <= response.status < 500, response.text
        assert response.json()["error"]["code"]
