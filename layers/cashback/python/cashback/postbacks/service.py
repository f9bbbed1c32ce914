"""Partner postbacks: authenticate, normalise, match the click, and move the conversion in the ledger.

Nothing a network sends is lost: a postback whose click, partner or currency cannot be used is kept
as an orphan for support and answered 200, so that the network stops retrying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol

from cashback.claims.rules import Orphan, order_transaction_id
from cashback.clicks.rules import Click, member_named_by
from cashback.ledger.money import format_amount
from cashback.ledger.plans import ItemKey, Plan, Planned, Planner, RawItem, View
from cashback.ledger.rules import Command, Converge, Kind, Source, Status, Transaction
from cashback.platform.errors import NotFound
from cashback.postbacks.conversions import (
    FIRST_PURCHASE_TXN,
    Conversion,
    FirstPurchaseTerms,
    PurchaseState,
    Report,
    first_purchase_move,
    first_purchase_status,
    purchase_state,
)
from cashback.postbacks.currencies import in_roubles, order_day
from cashback.postbacks.networks import ADAPTERS, PostbackRequest
from cashback.postbacks.pricing import Priced, over_ceiling, priced
from cashback.postbacks.repository import ConversionRecords
from cashback.postbacks.rules import Postback, check_time, expected_at, foreign, orphan_id, transaction_id
from cashback.rates.rules import Rate

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
    kept_because: str | None = None  # why it was kept for support (the orphan's reason)


class Clicks(Protocol):
    def find_click(self, click_id: str) -> Click | None: ...

    def click_key(self, click_id: str) -> ItemKey: ...

    def click_of(self, item: RawItem | None) -> Click | None: ...


class Orphans(Protocol):
    def keep(self, orphan: Orphan) -> None: ...


class Credentials(Protocol):
    def for_network(self, network: str, partner_id: str | None = None) -> list[str]: ...


class Rates(Protocol):
    def rate_on(self, currency: str, day: date) -> Rate | None: ...


class ConversionLedger(Protocol):
    @property
    def table_name(self) -> str: ...

    def operate(
        self, member_id: str, transaction_ids: Sequence[str], records: Sequence[ItemKey], plan: Planner[Any]
    ) -> Planned[Any]: ...


@dataclass(frozen=True)
class _Verdict:
    outcome: Outcome
    status: Status | None = None
    orphan_reason: str | None = None
    click: Click | None = None


class PostbackService:
    def __init__(
        self,
        ledger: ConversionLedger,
        *,
        clicks: Clicks,
        orphans: Orphans,
        credentials: Credentials,
        first_purchase: FirstPurchaseTerms | None = None,
        rates: Rates | None = None,
    ) -> None:
        self._ledger = ledger
        self._rates = rates  # None: a postback in another currency is kept for support
        self._clicks = clicks
        self._orphans = orphans
        self._credentials = credentials
        self._first_purchase = first_purchase or FirstPurchaseTerms()
        self._records = ConversionRecords(ledger.table_name)

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
        postback = self._in_roubles(postback)
        if over_ceiling(postback):  # invariant 10: never credited, whoever's click it names
            return self._keep(postback, OVER_CEILING, at, signer, None)
        return self.apply(postback, signer=signer, received_at=at)

    def _in_roubles(self, postback: Postback) -> Postback:
        """Priced at the official rate of the order's day; without one it stays as it came (kept for support)."""
        if postback.currency == CURRENCY or self._rates is None:
            return postback
        rate = self._rates.rate_on(postback.currency, order_day(postback))
        return postback if rate is None else in_roubles(postback, rate)

    def apply(
        self,
        postback: Postback,
        click: Click | None = None,
        *,
        signer: str | None = None,
        received_at: datetime | None = None,
    ) -> Receipt:
        """Brings the conversion to the latest word about it, in one read and one write: the one path of
        postbacks, support's matches (which pass the click they gave the member) and reconciliation."""
        received_at = received_at or datetime.now(UTC)
        postback = self._in_roubles(postback)  # a reconciled action in another currency, too
        member_id = click.member_id if click else member_named_by(postback.click_id)
        if member_id is None:
            click = self._clicks.find_click(postback.click_id)  # an id that does not name its member
            if click is None:
                return self._keep(postback, "unknown click id", received_at, signer, None)
            member_id = click.member_id
        report = Report.of(postback)
        conversion_key = self._records.state_key(postback.key)
        delivery_key = self._records.delivery_key(postback.key, report)
        click_key = self._clicks.click_key(postback.click_id)

        def plan(view: View) -> Plan[_Verdict]:
            known = click or self._clicks.click_of(view.records[click_key])
            conversion = self._records.conversion(postback.key, view.records[conversion_key])
            return self._plan(postback, report, member_id, known, conversion, view, signer, received_at)

        txn_id = transaction_id(postback)
        claimed_txn = order_transaction_id(postback.network, postback.order_id)
        planned = self._ledger.operate(
            member_id, [txn_id, FIRST_PURCHASE_TXN, claimed_txn], [click_key, conversion_key, delivery_key], plan
        )
        verdict: _Verdict = planned.result
        if verdict.orphan_reason is not None:
            return self._keep(postback, verdict.orphan_reason, received_at, signer, verdict.click)
        moved = planned.changed.get(txn_id)
        status = moved.status if moved else verdict.status
        return Receipt(verdict.outcome, postback.key, status.value if status else None)

    def _plan(
        self,
        postback: Postback,
        report: Report,
        member_id: str,
        click: Click | None,
        conversion: Conversion | None,
        view: View,
        signer: str | None,
        received_at: datetime,
    ) -> Plan[_Verdict]:
        if click is None or click.member_id != member_id:
            return Plan(_Verdict(Outcome.KEPT_FOR_SUPPORT, orphan_reason="unknown click id"))
        problem = _unusable(postback, click, signer)
        if problem is not None:
            return Plan(_Verdict(Outcome.KEPT_FOR_SUPPORT, orphan_reason=problem, click=click))
        if conversion is not None and (conversion.member_id, conversion.click_id) != (member_id, click.click_id):
            # One conversion, one member and one click: a network cannot move it to another's click.
            reason = "conversion_of_another_click"
            return Plan(_Verdict(Outcome.KEPT_FOR_SUPPORT, orphan_reason=reason, click=click))
        purchase = view.transactions[transaction_id(postback)]
        current = purchase.status if purchase else None
        if view.records[self._records.delivery_key(postback.key, report)] is not None:
            return Plan(_Verdict(Outcome.UNCHANGED, current))  # this very notification, delivered again
        if conversion is not None and not report.supersedes(conversion.latest):
            if report.rank() == conversion.latest.rank():
                return Plan(_Verdict(Outcome.UNCHANGED, current))
            stale = self._records.delivery(postback, report, "stale", received_at)
            return Plan(_Verdict(Outcome.UNCHANGED, current), records=[stale])
        bound = conversion or Conversion(postback.key, member_id, click.click_id, click.partner_id, report)
        offer = priced(postback, click)
        credited = credited_by_support(
            view.transactions[order_transaction_id(postback.network, postback.order_id)], click
        )
        state = purchase_state(report, max(0, offer.bonus - credited), postback.order_id, postback.reason)
        operation_id = f"postback:{postback.key}:{report.fingerprint}"
        move = _purchase_move(postback, click, state, offer, operation_id, credited)
        commands: list[Command] = [move]
        bonus_status = first_purchase_status(
            self._first_purchase, postback.key, state, report, view.transactions[FIRST_PURCHASE_TXN]
        )
        if bonus_status is not None:
            expected = purchase.expected_at if purchase else move.expected_at
            commands.append(
                first_purchase_move(
                    self._first_purchase,
                    postback.key,
                    bonus_status,
                    operation_id,
                    postback.occurred_at,
                    postback.order_id,
                    expected,
                )
            )
        records = [
            self._records.state(bound, report, state.amount, received_at),
            self._records.delivery(postback, report, "applied", received_at),
        ]
        return Plan(_Verdict(Outcome.APPLIED, state.status), commands, records)

    def _keep(
        self, postback: Postback, reason: str, received_at: datetime, signer: str | None, click: Click | None
    ) -> Receipt:
        self._orphans.keep(_orphan(postback, reason, received_at, signer, click))
        return Receipt(Outcome.KEPT_FOR_SUPPORT, postback.key, kept_because=reason)


def _purchase_move(
    postback: Postback, click: Click, state: PurchaseState, offer: Priced, operation_id: str, credited: int
) -> Converge:
    details = {
        "partner_id": click.partner_id,
        "order_amount": format_amount(postback.amount),
        "rate": str(offer.rate_percent),
        "order_id": postback.order_id,
        "click_id": click.click_id,
        **({"tariff": offer.tariff} if offer.tariff else {}),
        **({"commission": format_amount(postback.commission)} if postback.commission is not None else {}),
        **({"credited_by_support": str(credited)} if credited else {}),
        # The order as the network reported it, and the official rate it was converted at (PRODUCT.md).
        **{f"order_{k}": postback.raw[k] for k in ("original_amount", "original_currency") if k in postback.raw},
        **({"exchange_rate": postback.raw["rate"]} if "original_currency" in postback.raw else {}),
    }
    return Converge(
        operation_id=operation_id,
        transaction_id=transaction_id(postback),
        reason=state.reason,
        at=postback.occurred_at,
        kind=Kind.PURCHASE,
        status=state.status,
        amount=state.amount,
        source=Source("conversion", postback.key),
        expected_at=expected_at(postback, click),
        details=details,
    )


def credited_by_support(claimed: Transaction | None, click: Click) -> int:
    """What support already credited by hand for this order of this partner: the purchase pays the rest."""
    if claimed is None or claimed.status is not Status.ACCRUED or claimed.details.get("partner_id") != click.partner_id:
        return 0
    return max(0, claimed.amount)


def _unusable(postback: Postback, click: Click, signer: str | None) -> str | None:
    if (problem := foreign(postback, click, signer)) is not None:
        return problem.value
    if postback.currency != CURRENCY:
        return f"currency {postback.currency} is not {CURRENCY}"
    return None


def _orphan(postback: Postback, reason: str, now: datetime, signer: str | None, click: Click | None) -> Orphan:
    # Who signed it, and whose click it named: what support needs to tell a misrouted postback from a forged one.
    seen = {"signed_by": signer} if signer else {}
    if click is not None:
        seen |= {"click_partner_id": click.partner_id, "click_network": click.network}
    return Orphan(
        orphan_id=orphan_id(postback, reason),
        network=postback.network,
        reason=reason,
        raw=dict(postback.raw),
        received_at=now,
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
