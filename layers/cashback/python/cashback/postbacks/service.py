"""Partner postbacks: authenticate, normalise, match the click, and move the conversion in the ledger.

Nothing a network sends is lost: a postback whose click, partner or currency cannot be used is kept
as an orphan for support and answered 200, so that the network stops retrying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from cashback.claims.rules import Orphan
from cashback.clicks.rules import Click
from cashback.ledger.repository import Ledger, ledger
from cashback.ledger.rules import Accrue, Status
from cashback.members.service import credit_first_purchase
from cashback.platform.errors import NotFound
from cashback.postbacks.networks import ADAPTERS, PostbackRequest
from cashback.postbacks.rules import Postback, commands, transaction_id

CURRENCY = "RUB"


class Outcome(StrEnum):
    APPLIED = "applied"  # the ledger changed
    UNCHANGED = "unchanged"  # a repeat, or a status that may no longer move
    KEPT_FOR_SUPPORT = "kept_for_support"


@dataclass(frozen=True)
class Receipt:
    outcome: Outcome
    conversion: str
    status: str | None = None


class Clicks(Protocol):
    def find(self, click_id: str) -> Click | None: ...


class Orphans(Protocol):
    def keep(self, orphan: Orphan) -> None: ...


class Secrets(Protocol):
    def for_network(self, network: str) -> list[str]: ...


def receive(
    network: str,
    request: PostbackRequest,
    *,
    clicks: Clicks,
    orphans: Orphans,
    secrets: Secrets,
    the_ledger: Ledger | None = None,
    now: datetime | None = None,
) -> Receipt:
    adapter = ADAPTERS.get(network)
    if adapter is None:
        raise NotFound(f"there is no network {network!r}", code="unknown_network")
    adapter.authenticate(request, secrets.for_network(network), now or datetime.now(UTC))
    postback = adapter.parse(request)

    click = clicks.find(postback.click_id)
    problem = _unusable(postback, click)
    if problem is not None or click is None:
        orphans.keep(_orphan(postback, problem or "unknown click", now))
        return Receipt(Outcome.KEPT_FOR_SUPPORT, postback.key)
    return apply(postback, click, the_ledger or ledger())


def apply(postback: Postback, click: Click, the_ledger: Ledger) -> Receipt:
    """Brings the member's transaction to what the postback says; also used when support matches an orphan."""
    current = the_ledger.transaction(click.member_id, transaction_id(postback))
    changed = False
    accrued = False
    final = current
    for cmd in commands(postback, click, current):
        outcome = the_ledger.execute(click.member_id, cmd)
        changed |= outcome.applied
        final = outcome.transaction or final
        accrued |= isinstance(cmd, Accrue) and final is not None and final.status is Status.ACCRUED
    if accrued:
        # Idempotent by its rule id: every approved delivery may ask, only the first accrual earns it.
        credit_first_purchase(click.member_id, at=postback.occurred_at)
    status = final.status.value if final else None
    return Receipt(Outcome.APPLIED if changed else Outcome.UNCHANGED, postback.key, status)


def _unusable(postback: Postback, click: Click | None) -> str | None:
    if click is None:
        return "unknown click id"
    if postback.currency != CURRENCY:
        return f"currency {postback.currency} is not {CURRENCY}"
    return None


def _orphan(postback: Postback, reason: str, now: datetime | None) -> Orphan:
    return Orphan(
        orphan_id=postback.key,
        network=postback.network,
        reason=reason,
        raw=dict(postback.raw),
        received_at=now or datetime.now(UTC),
        details={
            "click_id": postback.click_id,
            "order_id": postback.order_id,
            "order_amount": str(postback.amount),
            "currency": postback.currency,
            "status": postback.status.value,
            "occurred_at": postback.occurred_at.isoformat(),
        },
    )
