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
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Accrue, Status
from cashback.platform.errors import NotFound
from cashback.postbacks.networks import ADAPTERS, PostbackRequest
from cashback.postbacks.pricing import over_ceiling
from cashback.postbacks.rules import Postback, check_time, commands, foreign, transaction_id

CURRENCY = "RUB"
OVER_CEILING = "over_ceiling"  # an orphan's reason: the amount is past the sanity ceiling


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
    def find_click(self, click_id: str) -> Click | None: ...


class Orphans(Protocol):
    def keep(self, orphan: Orphan) -> None: ...


class Credentials(Protocol):
    def for_network(self, network: str, partner_id: str | None = None) -> list[str]: ...


class FirstPurchaseBonus(Protocol):
    def credit_first_purchase(self, member_id: str, *, at: datetime | None = None) -> object: ...


class PostbackService:
    def __init__(
        self,
        ledger: Ledger,
        *,
        clicks: Clicks,
        orphans: Orphans,
        credentials: Credentials,
        first_purchase: FirstPurchaseBonus,
    ) -> None:
        self._ledger = ledger
        self._clicks = clicks
        self._orphans = orphans
        self._credentials = credentials
        self._first_purchase = first_purchase

    def receive(
        self,
        network: str,
        request: PostbackRequest,
        *,
        now: datetime | None = None,
    ) -> Receipt:
        adapter = ADAPTERS.get(network)
        if adapter is None:
            raise NotFound(f"there is no network {network!r}", code="unknown_network")
        at = now or datetime.now(UTC)
        signer = adapter.signer(request)
        adapter.authenticate(request, self._credentials.for_network(network, signer), at)
        postback = adapter.parse(request)
        check_time(postback, at)
        if over_ceiling(postback):  # invariant 10: never credited, whoever's click it names
            self._orphans.keep(_orphan(postback, OVER_CEILING, now, signer, None))
            return Receipt(Outcome.KEPT_FOR_SUPPORT, postback.key)

        click = self._clicks.find_click(postback.click_id)
        problem = _unusable(postback, click, signer)
        if problem is not None or click is None:
            self._orphans.keep(_orphan(postback, problem or "unknown click", now, signer, click))
            return Receipt(Outcome.KEPT_FOR_SUPPORT, postback.key)
        return self.apply(postback, click)

    def apply(self, postback: Postback, click: Click) -> Receipt:
        """Brings the member's transaction to what the postback says; also used when support matches an orphan."""
        current = self._ledger.transaction(click.member_id, transaction_id(postback))
        changed = False
        accrued = False
        final = current
        for cmd in commands(postback, click, current):
            outcome = self._ledger.execute(click.member_id, cmd)
            changed |= outcome.applied
            final = outcome.transaction or final
            accrued |= isinstance(cmd, Accrue) and final is not None and final.status is Status.ACCRUED
        if accrued:
            # Idempotent by its rule id: every approved delivery may ask, only the first accrual earns it.
            self._first_purchase.credit_first_purchase(click.member_id, at=postback.occurred_at)
        status = final.status.value if final else None
        return Receipt(Outcome.APPLIED if changed else Outcome.UNCHANGED, postback.key, status)


def _unusable(postback: Postback, click: Click | None, signer: str | None) -> str | None:
    if click is None:
        return "unknown click id"
    if (problem := foreign(postback, click, signer)) is not None:
        return problem.value
    if postback.currency != CURRENCY:
        return f"currency {postback.currency} is not {CURRENCY}"
    return None


def _orphan(postback: Postback, reason: str, now: datetime | None, signer: str | None, click: Click | None) -> Orphan:
    # Who signed it, and whose click it named: what support needs to tell a misrouted postback from a forged one.
    seen = {"signed_by": signer} if signer else {}
    if click is not None:
        seen |= {"click_partner_id": click.partner_id, "click_network": click.network}
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
            # What prices the order if support matches it (claims' match reads them back).
            **({"commission": str(postback.commission)} if postback.commission is not None else {}),
            **({"tariff": postback.tariff} if postback.tariff is not None else {}),
            **seen,
        },
    )
