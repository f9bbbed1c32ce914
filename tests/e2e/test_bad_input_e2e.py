"""Bad input through the local gateway on DynamoDB Local, where DynamoDB's own checks apply (moto does not
make them): refused at the edge in the error shape, never passed on to a 500."""

from __future__ import annotations

import time

import pytest

from cashback.platform.pagination import encode_cursor
from tests.fixtures.dynamodb_local import ApiClient, ApiResponse, MintMemberToken

LONG_ID = "a" * 3000


def refused(response: ApiResponse) -> tuple[int, str]:
    assert 400 <= response.status < 500, (response.status, response.text)
    error = response.json()["error"]
    assert error["message"]
    return response.status, error["code"]


@pytest.fixture
def member(api: ApiClient, member_token: MintMemberToken) -> str:
    token, _ = member_token()
    assert api.post("/members", json={}, token=token).status == 201
    return token


@pytest.mark.parametrize(
    ("path", "fields", "as_admin"),
    [
        ("/members/me/transactions", ("sk", "listed"), False),
        ("/members/me/claims", ("pk", "sk", "listed"), False),
        ("/admin/claims", ("pk", "sk", "listed"), True),
        ("/certificates", ("sk",), False),
        ("/partners", ("name", "id"), False),
    ],
)
def test_a_cursor_with_empty_positions_is_422(
    api: ApiClient, member: str, admin_token: str, path: str, fields: tuple[str, ...], as_admin: bool
) -> None:
    cursor = encode_cursor(dict.fromkeys(fields, ""))

    response = api.get(path, token=admin_token if as_admin else member, cursor=cursor)

    assert refused(response) == (422, "invalid_cursor")


def test_a_cursor_of_another_status_is_422(api: ApiClient, member: str) -> None:
    cursor = encode_cursor({"sk": "TXN#x", "status_listed": "accrued#2026-11-24T12:00:00+00:00"})

    response = api.get("/members/me/transactions", token=member, status="pending", cursor=cursor)

    assert refused(response) == (422, "invalid_cursor")


@pytest.mark.parametrize("field", ["subid", "action_id", "order_id"])
def test_a_3000_character_id_on_a_postback_is_422(api: ApiClient, field: str) -> None:
    query = {
        "token": "local-admitad-secret",
        "subid": "01JDK4Q8Z3N7V2XK9C5W6T1M0R",
        "action_id": "e2e-long-ids",
        "order_id": "A-1",
        "order_sum": "1999.90",
        "payment_sum": "140",
        "currency": "RUB",
        "status": "pending",
        "time": str(int(time.time())),
        field: LONG_ID,
    }

    # `token` is Admitad's own query parameter, not the client's bearer token.
    assert refused(api.request("GET", "/postbacks/admitad", query=query)) == (422, "invalid_field")


@pytest.mark.parametrize("path", [f"/partners/{LONG_ID}", f"/go/{LONG_ID}"])
def test_a_3000_character_partner_id_is_an_unknown_partner(api: ApiClient, path: str) -> None:
    assert refused(api.get(path)) == (404, "partner_not_found")


def test_a_3000_character_partner_id_is_refused_to_the_back_office(api: ApiClient, admin_token: str) -> None:
    promotion = {"rate_percent": "20", "starts_at": "2026-11-27T00:00:00+03:00", "ends_at": "2026-12-01T00:00:00+03:00"}

    created = api.put(f"/admin/partners/{LONG_ID}", json={}, token=admin_token)
    promoted = api.post(f"/admin/partners/{LONG_ID}/promotions", json=promotion, token=admin_token)

    assert refused(created)[0] == 422
    assert refused(promoted) == (404, "partner_not_found")


def test_multipart_without_a_boundary_is_415_through_the_gateway(api: ApiClient, member: str) -> None:
    response = api.request(
        "POST",
        "/members/me/email",
        body=b'--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nanna@example.com\r\n--x--\r\n',
        token=member,
        headers={"Content-Type": "multipart/form-data"},
    )

    assert refused(response) == (415, "unsupported_media_type")


def test_json_nested_1000_deep_is_400_through_the_gateway(api: ApiClient, member: str) -> None:
    response = api.request(
        "POST", "/clicks", body=b"[" * 1000 + b"]" * 1000, token=member, headers={"Content-Type": "application/json"}
    )

    assert refused(response) == (400, "json_too_deep")


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"phone": ' + b"1" * 5000 + b"}"])
def test_a_local_route_refuses_json_it_cannot_read_with_400(api: ApiClient, body: bytes) -> None:
    response = api.request("POST", "/_local/token", body=body, headers={"Content-Type": "application/json"})

    assert refused(response) == (400, "invalid_json")
