"""Receipts with claims through the local gateway: a 2 MiB photo or PDF travels as about 2.8 MB of JSON and
lands in the receipts bucket (moto's S3); a byte more, or a file that is no photo or PDF, is refused with
its code, and so is a text far past the limit (a body past API Gateway's 10 MB is the gateway's 413,
test_gateway.py)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from cashback.claims.receipts import MAX_RECEIPT_BYTES, Receipt
from tests.e2e.test_postbacks_story import TODAY, claim, seeded, visited  # noqa: F401 (seeded: a fixture)

JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


@pytest.fixture
def member(api: Any, member_token: Any, seeded: None) -> dict[str, str]:  # noqa: F811 (seeded: a fixture)
    token, phone = member_token()
    assert api.post("/members", token=token).status == 201
    return {"token": token, "phone": phone}


def with_receipt(content: bytes) -> dict[str, str]:
    return {**claim("lamoda", TODAY - timedelta(days=100)), "receipt": base64.b64encode(content).decode()}


def test_a_2_mib_receipt_is_kept_with_the_claim_and_a_byte_more_is_refused(
    api: Any, member: dict[str, str], container: Any
) -> None:
    # Given a member who went to Lamoda through the programme 101 days ago
    visited(container, api, member, "lamoda", days_ago=101)
    largest = JPEG_HEAD + bytes(range(256)) * ((MAX_RECEIPT_BYTES - len(JPEG_HEAD)) // 256)
    largest += b"\0" * (MAX_RECEIPT_BYTES - len(largest))

    # When they claim an order with a 2 MiB photo of its receipt, one with a byte more, and one with a text
    filed = api.post("/members/me/claims", token=member["token"], json=with_receipt(largest))
    too_large = api.post("/members/me/claims", token=member["token"], json=with_receipt(largest + b"\0"))
    text = api.post("/members/me/claims", token=member["token"], json=with_receipt(b"Lamoda order, 4990 RUB"))

    # Then the first is filed with its receipt kept as sent, and the others are refused with their codes
    assert (filed.status, filed.json()["receipt"]) == (201, True)
    assert (too_large.status, too_large.json()["error"]["code"]) == (422, "receipt_too_large")
    assert (text.status, text.json()["error"]["code"]) == (422, "unsupported_receipt_type")
    [mine] = api.get("/members/me/claims", token=member["token"]).json()["items"]
    assert (mine["claim_id"], mine["receipt"]) == (filed.json()["claim_id"], True)
    kept = container.claim_repository.claim(mine["claim_id"])
    assert container.receipts.get(kept.receipt_key) == Receipt(largest, "image/jpeg")


def test_a_receipt_far_past_the_limit_is_refused_and_nothing_is_written(api: Any, member: dict[str, str]) -> None:
    # A 4 MB text: under API Gateway's 10 MB (test_gateway.py checks its 413) and Lambda's 6 MB payloads,
    # so the function refuses it
    body = {**claim("lamoda", TODAY - timedelta(days=100)), "receipt": "A" * (4 * 1024 * 1024)}
    answer = api.post("/members/me/claims", token=member["token"], json=body)
    assert answer.status == 422, answer.json()
    assert api.get("/members/me/claims", token=member["token"]).json()["items"] == []
