from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from cashback.claims.receipts import MAX_RECEIPT_TEXT
from cashback.claims.rules import Claim, ClaimState, Orphan, Resolution


class NewClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=128)
    order_date: date
    order_amount: str = Field(min_length=1, max_length=20, description='Roubles, "1999.90"')
    receipt: str | None = Field(
        default=None,
        max_length=MAX_RECEIPT_TEXT,
        description="The order's receipt, base64 (or a data URL): a photo (JPEG, PNG, WebP, HEIC) or a PDF "
        "of at most 2 MB",
    )


class ClaimOut(BaseModel):
    claim_id: str
    partner_id: str
    order_id: str
    order_date: date
    order_amount: str
    state: ClaimState
    resolution_reason: str | None
    bonus: int | None
    created_at: datetime
    resolved_at: datetime | None
    receipt: bool = Field(description="Whether a receipt was attached")
    lost_order_id: str | None = Field(
        default=None, description="The network's id of the lost order support filed for the claim, if it did"
    )

    @classmethod
    def of(cls, claim: Claim) -> ClaimOut:
        return cls(
            claim_id=claim.claim_id,
            partner_id=claim.partner_id,
            order_id=claim.order_id,
            order_date=claim.order_date,
            order_amount=f"{claim.order_amount:.2f}",
            state=claim.state,
            resolution_reason=claim.resolution_reason,
            bonus=claim.bonus,
            created_at=claim.created_at,
            resolved_at=claim.resolved_at,
            receipt=claim.receipt_key is not None,
            lost_order_id=claim.lost_order_id,
        )


class ClaimPage(BaseModel):
    items: list[ClaimOut]
    next_cursor: str | None


class QueueItem(BaseModel):
    kind: str = Field(description="claim (a member's) or orphan (a kept postback)")
    id: str
    state: ClaimState
    created_at: datetime
    member_id: str | None = None
    partner_id: str | None = None
    order_id: str | None = None
    order_amount: str | None = None
    network: str | None = None
    reason: str | None = None
    details: dict[str, str] | None = None


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None


def queue_item(item: Claim | Orphan) -> QueueItem:
    if isinstance(item, Orphan):
        orphan = item
        return QueueItem(
            kind="orphan",
            id=orphan.orphan_id,
            state=orphan.state,
            created_at=orphan.received_at,
            network=orphan.network,
            reason=orphan.reason,
            order_id=orphan.details.get("order_id"),
            order_amount=orphan.details.get("order_amount"),
            details=orphan.details,
        )
    claim = item
    return QueueItem(
        kind="claim",
        id=claim.claim_id,
        state=claim.state,
        created_at=claim.created_at,
        member_id=claim.member_id,
        partner_id=claim.partner_id,
        order_id=claim.order_id,
        order_amount=f"{claim.order_amount:.2f}",
    )


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Resolution
    reason: str = Field(min_length=1, max_length=500)
    orphan_id: str | None = Field(default=None, max_length=256)
    amount: StrictInt | None = Field(default=None, gt=0, le=1_000_000)
