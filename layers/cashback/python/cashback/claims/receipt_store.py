"""Receipts kept in S3, one object per claim: private, encrypted and expired by the bucket itself
(template.yaml `ReceiptsBucket`). No URL to one is ever handed out: whoever needs one reads it here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cashback.claims.receipts import Receipt, media_type_of
from cashback.platform.config import MissingSetting


class ReceiptStore:
    def __init__(self, client: Callable[[], Any], bucket: str) -> None:
        """`client` gives the S3 client on first use: a function that files no receipt never builds one."""
        self._client = client
        self._bucket_name = bucket

    @property
    def _bucket(self) -> str:
        if not self._bucket_name:
            raise MissingSetting("RECEIPTS_BUCKET is not set: this function was not given the receipts bucket")
        return self._bucket_name

    def put(self, claim_id: str, receipt: Receipt) -> str:
        """Stores the claim's receipt; returns its key."""
        key = f"receipts/{claim_id}"
        self._client().put_object(
            Bucket=self._bucket,
            Key=key,
            Body=receipt.content,
            ContentType=receipt.media_type,
            ServerSideEncryption="AES256",
        )
        return key

    def get(self, key: str) -> Receipt:
        answer = self._client().get_object(Bucket=self._bucket, Key=key)
        content: bytes = answer["Body"].read()
        return Receipt(content, media_type_of(content) or answer.get("ContentType") or "application/octet-stream")

    def delete(self, key: str) -> None:
        self._client().delete_object(Bucket=self._bucket, Key=key)
