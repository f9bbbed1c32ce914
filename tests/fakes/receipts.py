"""Receipts in memory, for tests on DynamoDB Local (whose process has no S3): what the S3 store keeps, by key."""

from __future__ import annotations

from cashback.claims.receipt_store import ReceiptStore
from cashback.claims.receipts import Receipt


class MemoryReceipts(ReceiptStore):
    def __init__(self) -> None:
        super().__init__(lambda: None, "memory")
        self.kept: dict[str, Receipt] = {}

    def put(self, claim_id: str, receipt: Receipt) -> str:
        key = f"receipts/{claim_id}"
        self.kept[key] = receipt
        return key

    def get(self, key: str) -> Receipt:
        return self.kept[key]

    def delete(self, key: str) -> None:
        self.kept.pop(key, None)
