"""A conversion follows its network's latest word (DESIGN.md invariant 6, PRODUCT.md "Partner postbacks").

Each notification is a `Report` of the conversion's whole state at the network's own time. Reports are
totally ordered: a decisive one (approved, declined) outranks any pending one, then the later network
time wins, then a fixed order of the rest breaks ties. The conversion keeps the highest report it has
seen; a report below it changes nothing, a report above it moves the member's purchase straight to the
state it implies. The result after any order of deliveries is the result of the highest report alone.

The first-purchase bonus shares its purchase's fate (invariant 11): pending with it, accrued with it,
rejected with it, after which the next qualifying purchase may earn it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cashback.ledger.money import Bonus, format_amount
from cashback.ledger.rules import Converge, Kind, Source, Status, Transaction
from cashback.postbacks.rules import Postback, PostbackStatus

FIRST_PURCHASE_TXN = "bonus:first_purchase"  # one per member, whichever purchase earned it
# Two decisions at the same network time: the decline wins, so that a tie never pays what may not be earned.
_TIE_ORDER = {PostbackStatus.PENDING: 0, PostbackStatus.APPROVED: 1, PostbackStatus.DECLINED: 2}
_NO_COMMISSION = Decimal(-1)


@dataclass(frozen=True)
class Report:
    """What one notification says the conversion is, at the network's time `reported_at`."""

    status: PostbackStatus
    order_amount: Decimal
    reported_at: datetime
    commission: Decimal | None = None
    tariff: str | None = None

    @classmethod
    def of(cls, postback: Postback) -> Report:
        return cls(postback.status, postback.amount, postback.occurred_at, postback.commission, postback.tariff)

    @property
    def fingerprint(self) -> str:
        """Equal for the same notification delivered again, whatever else the network added around it."""
        commission = "" if self.commission is None else format_amount(self.commission)
        text = "|".join(
            (
                self.status.value,
                format_amount(self.order_amount),
                commission,
                self.tariff or "",
                self.reported_at.isoformat(),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def rank(self) -> tuple[bool, datetime, int, Decimal, Decimal, str, str]:
        return (
            self.status is not PostbackStatus.PENDING,
            self.reported_at,
            _TIE_ORDER[self.status],
            self.order_amount,
            _NO_COMMISSION if self.commission is None else self.commission,
            self.tariff or "",
            self.fingerprint,
        )

    def supersedes(self, other: Report) -> bool:
        return self.rank() > other.rank()


@dataclass(frozen=True)
class Conversion:
    """A network's conversion: bound to one member and one click the first time it is seen."""

    key: str
    member_id: str
    click_id: str
    partner_id: str
    latest: Report
    version: int | None = None  # as read; None for a conversion not stored yet


@dataclass(frozen=True)
class PurchaseState:
    status: Status
    amount: Bonus
    reason: str


def purchase_state(report: Report, cashback: Bonus, order_id: str, decline_reason: str = "") -> PurchaseState:
    """The state of the member's purchase that a report implies."""
    if report.status is PostbackStatus.PENDING:
        return PurchaseState(Status.PENDING, cashback, f"Order {order_id} awaits the partner's confirmation")
    if report.status is PostbackStatus.DECLINED:
        return PurchaseState(Status.REJECTED, cashback, decline_reason or "Declined by the partner")
    if report.order_amount == 0:
        return PurchaseState(Status.REJECTED, 0, "Returned in full")
    return PurchaseState(Status.ACCRUED, cashback, "Confirmed by the partner")


@dataclass(frozen=True)
class FirstPurchaseTerms:
    amount: Bonus = 200
    min_order: Decimal = Decimal("500")

    def qualifies(self, state: PurchaseState, report: Report) -> bool:
        return state.status is not Status.REJECTED and report.order_amount >= self.min_order


def first_purchase_status(
    terms: FirstPurchaseTerms, conversion_key: str, state: PurchaseState, report: Report, bonus: Transaction | None
) -> Status | None:
    """Where the member's first-purchase bonus goes when this conversion moves to `state`; None: untouched.

    The bonus follows the purchase that holds it; one that was rejected may be earned by the next purchase
    that qualifies. A bonus credited before it followed purchases (source `bonus_rule`) stays as it is."""
    qualifies = terms.qualifies(state, report)
    if bonus is None:
        return state.status if qualifies else None
    if bonus.source.type != "conversion":
        return None
    if bonus.source.id == conversion_key:
        return state.status if qualifies else Status.REJECTED
    if bonus.status is Status.REJECTED and qualifies:
        return state.status
    return None


def first_purchase_move(
    terms: FirstPurchaseTerms,
    conversion_key: str,
    status: Status,
    operation_id: str,
    at: datetime,
    order_id: str,
    expected_at: datetime | None,
) -> Converge:
    reason = "First purchase" if status is not Status.REJECTED else f"First purchase: order {order_id} was declined"
    return Converge(
        operation_id=f"{operation_id}:first_purchase",
        transaction_id=FIRST_PURCHASE_TXN,
        reason=reason,
        at=at,
        kind=Kind.BONUS,
        status=status,
        amount=terms.amount,
        source=Source("conversion", conversion_key),
        expected_at=expected_at,
        details={"order_id": order_id},
    )
