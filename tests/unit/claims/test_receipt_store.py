"""Receipts in S3 (moto): stored under the claim's id, encrypted, read back as they were, deleted."""

from __future__ import annotations

import boto3
import pytest

from cashback.bootstrap import Container
from cashback.claims.receipts import Receipt

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 100


def test_a_receipt_is_kept_encrypted_under_its_claim_and_read_back(
    moto_tables: dict[str, str], container: Container
) -> None:
    store = container.receipts
    key = store.put("01J0CLAIM", Receipt(PNG, "image/png"))
    assert key == "receipts/01J0CLAIM"
    assert store.get(key) == Receipt(PNG, "image/png")
    head = boto3.client("s3").head_object(Bucket=container.settings.receipts_bucket, Key=key)
    assert (head["ContentType"], head["ServerSideEncryption"]) == ("image/png", "AES256")

    store.delete(key)
    s3 = boto3.client("s3")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=container.settings.receipts_bucket, Key=key)
