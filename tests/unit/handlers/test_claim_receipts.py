"""A member's receipt with a claim: kept in S3 with the claim, refused with a code before anything is
written, and never shown back (the member sees only that one is attached)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from cashback.bootstrap import Container
from cashback.claims.receipts import MAX_RECEIPT_BYTES, Receipt
from tests.fixtures.handlers import invoke, sample_event
from tests.unit.handlers.test_claims_and_payments import enrolled_member_and_partner, file_claim  # noqa: F401

PDF = b"%PDF-1.4\n" + b"x" * 1000


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def stored_keys(container: Container) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=container.settings.receipts_bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


def my_claims() -> list[dict[str, Any]]:
    _, mine = invoke("claims", sample_event("claims-mine"))
    items: list[dict[str, Any]] = mine["items"]
    return items


def test_a_claim_keeps_its_receipt_and_shows_only_that_it_has_one(container: Container) -> None:
    # When a member files a claim with a PDF receipt
    status, filed = file_claim(receipt=b64(PDF))

    # Then it is filed with the receipt, which the member's listing shows as attached and nothing more
    assert (status, filed["receipt"]) == (201, True)
    [mine] = my_claims()
    assert mine["receipt"] is True
    assert b64(PDF) not in str(mine)
    # And the receipt is kept under the claim, as sent, for the lost-order claim to forward
    claim = container.claim_repository.claim(filed["claim_id"])
    assert claim is not None
    assert claim.receipt_key == f"receipts/{filed['claim_id']}"
    assert container.receipts.get(f"receipts/{filed['claim_id']}") == Receipt(PDF, "application/pdf")


def test_a_claim_without_a_receipt_has_none() -> None:
    status, filed = file_claim()
    assert (status, filed["receipt"]) == (201, False)


@pytest.mark.parametrize(
    ("receipt", "code"),
    [
        (b64(b"Order LM-1, 4990.00 RUB"), "unsupported_receipt_type"),
        (b64(PDF[:9] + b"\0" * (MAX_RECEIPT_BYTES + 1 - 9)), "receipt_too_large"),
        ("data:image/jpeg;base64,???", "invalid_receipt"),
        ("", "invalid_receipt"),
    ],
)
def test_a_bad_receipt_is_refused_and_nothing_is_written(receipt: str, code: str, container: Container) -> None:
    status, error = file_claim(receipt=receipt)
    assert (status, error["error"]["code"]) == (422, code)
    assert my_claims() == []
    assert stored_keys(container) == []


def test_a_receipt_with_a_refused_claim_is_not_kept(container: Container) -> None:
    # Given a member's claim of order LM-1 with its receipt
    assert file_claim(receipt=b64(PDF))[0] == 201
    # When they claim it again with the receipt, and claim an order of today (too early) with one
    again, error = file_claim(receipt=b64(PDF))
    today = datetime.now(UTC).date().isoformat()
    early, early_error = file_claim(order_id="LM-2", order_date=today, receipt=b64(PDF))
    # Then both are refused and only the first claim's receipt is kept
    assert (again, error["error"]["code"]) == (409, "claim_exists")
    assert (early, early_error["error"]["code"]) == (422, "accrual_period_not_over")
    [first] = my_claims()
    assert stored_keys(container) == [f"receipts/{first['claim_id']}"]
