"""The shared ways to make what tests (and benchmarks) start from: ledger commands, a click, a postback, a
member. Each builder fills in what the test does not care about, so that a test names only what it is about.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from ulid import ULID

from cashback.clicks.rules import Click, new_click_id
from cashback.ledger.rules import (
    Accrue,
    Command,
    Credit,
    Debit,
    GiveBack,
    Kind,
    RecordPending,
    Reject,
    Reprice,
    Source,
    Spend,
    SpendUpTo,
)
from cashback.members.rules import Goal, Member
from cashback.postbacks.networks import PostbackRequest
from cashback.postbacks.rules import Postback, PostbackStatus

if TYPE_CHECKING:
    from cashback.bootstrap import Container

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ADMITAD_SECRET = "local-admitad-secret"  # Admitad's postback token in the local stack (API.md)

_Moving = TypeVar("_Moving", bound=Command)


# --- ledger commands: `operation` names the operation and, unless told otherwise, its transaction ------------


def _moving(
    command: Callable[..., _Moving],
    operation: str,
    amount: int,
    kind: Kind,
    transaction: str | None,
    reason: str,
    at: datetime,
    source: Source | None,
    extra: dict[str, Any],
) -> _Moving:
    """A command that moves `amount` bonuses; its source is the test's own unless told."""
    source = source or Source("test", operation)
    fields = {"kind": kind, "amount": amount, "source": source, **extra}
    return command(operation_id=operation, transaction_id=transaction or operation, reason=reason, at=at, **fields)


def credit(
    operation: str,
    amount: int,
    *,
    kind: Kind = Kind.BONUS,
    transaction: str | None = None,
    reason: str = "bonus",
    at: datetime = AT,
    source: Source | None = None,
    **extra: Any,
) -> Credit:
    """Bonuses available at once (a bonus, unless `kind` says otherwise)."""
    return _moving(Credit, operation, amount, kind, transaction, reason, at, source, extra)


def adjust(operation: str, amount: int, *, reason: str = "Cashback", at: datetime = AT, **extra: Any) -> Credit:
    """Bonuses the back office credits by hand: kind and source `adjustment`, available at once."""
    source = Source("adjustment", operation)
    return credit(operation, amount, kind=Kind.ADJUSTMENT, reason=reason, at=at, source=source, **extra)


def debit(
    operation: str,
    amount: int,
    *,
    kind: Kind = Kind.ADJUSTMENT,
    transaction: str | None = None,
    reason: str = "debit",
    at: datetime = AT,
    source: Source | None = None,
    **extra: Any,
) -> Debit:
    """Bonuses taken back by hand: from what is available, the rest as debt."""
    return _moving(Debit, operation, amount, kind, transaction, reason, at, source, extra)


def pending(
    operation: str,
    amount: int,
    *,
    kind: Kind = Kind.PURCHASE,
    transaction: str | None = None,
    reason: str = "order",
    at: datetime = AT,
    source: Source | None = None,
    **extra: Any,
) -> RecordPending:
    """A purchase awaiting the partner's confirmation."""
    return _moving(RecordPending, operation, amount, kind, transaction, reason, at, source, extra)


def accrue(operation: str, transaction: str, *, reason: str = "approved", at: datetime = AT) -> Accrue:
    """The partner confirms `transaction`: pending becomes available."""
    return Accrue(operation_id=operation, transaction_id=transaction, reason=reason, at=at)


def reject(operation: str, transaction: str, *, reason: str = "declined", at: datetime = AT) -> Reject:
    """The partner declines `transaction`, or reverses it once accrued."""
    return Reject(operation_id=operation, transaction_id=transaction, reason=reason, at=at)


def reprice(operation: str, transaction: str, amount: int, *, reason: str = "re-priced", at: datetime = AT) -> Reprice:
    """A pending purchase is now worth `amount` bonuses."""
    return Reprice(operation_id=operation, transaction_id=transaction, reason=reason, at=at, amount=amount)


def spend(
    operation: str,
    amount: int,
    *,
    kind: Kind = Kind.SETTLEMENT,
    transaction: str | None = None,
    reason: str = "spent",
    at: datetime = AT,
    source: Source | None = None,
    **extra: Any,
) -> Spend:
    """Bonuses spent on a goal (a top-up, unless `kind` says otherwise); refused beyond what is available."""
    return _moving(Spend, operation, amount, kind, transaction, reason, at, source, extra)


def spend_up_to(month: str, limit: int | None, *, at: datetime = AT) -> SpendUpTo:
    """The month's settlement of a member, as the settlement service asks the ledger for it."""
    operation = f"settlement:{month}"
    return SpendUpTo(
        operation_id=operation,
        transaction_id=operation,
        reason="top-up",
        at=at,
        kind=Kind.SETTLEMENT,
        limit=limit,
        source=Source("settlement", month),
    )


def give_back(month: str, *, reason: str = "number ported", at: datetime = AT) -> GiveBack:
    """Billing refused the month's top-up: its bonuses come back, as the settlement service asks for it."""
    return GiveBack(operation_id=f"topup-failed:{month}", transaction_id=f"settlement:{month}", reason=reason, at=at)


# --- the world outside the ledger ----------------------------------------------------------------------------


def a_click(
    click_id: str | None = None,
    *,
    member_id: str = "member-1",
    partner_id: str = "aliexpress",
    rate_percent: str = "7",
    network: str = "admitad",
    accrual_days: int = 45,
    clicked_at: datetime = AT,
) -> Click:
    """A member's click through to a partner's store, at the partner's rate."""
    return Click(
        click_id=click_id or new_click_id(str(ULID()), member_id),
        member_id=member_id,
        partner_id=partner_id,
        rate_percent=Decimal(rate_percent),
        network=network,
        accrual_days=accrual_days,
        clicked_at=clicked_at,
    )


def a_recorded_click(container: Container, click_id: str | None = None, **fields: Any) -> Click:
    """A click (as `a_click` makes it) that the clicks service has recorded, as the redirect does."""
    click = a_click(click_id, **fields)
    container.clicks.record(click)
    return click


def a_postback(
    click: Click,
    status: PostbackStatus = PostbackStatus.PENDING,
    *,
    amount: str = "1999.90",
    conversion_id: str = "1",
    order_id: str = "order-1",
    currency: str = "RUB",
    occurred_at: datetime = AT,
    **changes: Any,
) -> Postback:
    """What a network reports about the order placed through `click`, as its adapter normalises it."""
    postback = Postback(
        network=click.network,
        conversion_id=conversion_id,
        click_id=click.click_id,
        order_id=order_id,
        amount=Decimal(amount),
        currency=currency,
        status=status,
        occurred_at=occurred_at,
    )
    return replace(postback, **changes) if changes else postback


def an_admitad_request(
    click_id: str,
    action_id: str = "1",
    status: str = "pending",
    *,
    token: str = ADMITAD_SECRET,
    amount: str = "1999.90",
    at: datetime = AT,
    **query: str,
) -> PostbackRequest:
    """Admitad's call about the order placed through `click_id` (its `subid`), as it arrives: a GET whose query
    carries the conversion `action_id` and the shared secret in `token`. `query` adds or overrides parameters."""
    conversion = {"subid": click_id, "action_id": action_id, "order_id": f"order-{action_id}", "order_sum": amount}
    # No `payment_sum`: a commission would bound the cashback, and tests about it pass their own.
    details = {"currency": "RUB", "status": status, "time": str(int(at.timestamp()))}
    return PostbackRequest("GET", query={"token": token, **conversion, **details, **query})


def a_member(container: Container, phone: str | None = None, *, member_id: str | None = None) -> Member:
    """A member enrolled through the members service, with a number of their own."""
    member_id = member_id or f"m-{uuid.uuid4()}"
    phone = phone or f"+7916{uuid.uuid4().int % 10_000_000:07d}"
    member, _ = container.members.enrol(member_id, phone)
    return member


def a_member_with(
    container: Container,
    bonuses: int,
    *,
    goal: Goal = Goal.PHONE_TOPUP,
    limit: int | None = None,
    member_id: str | None = None,
    phone: str | None = None,
    at: datetime = AT,
) -> Member:
    """A subscriber with a goal, a limit and `bonuses` available (a back-office adjustment, "seed"), written
    straight to the members repository so that no welcome bonus comes with them."""
    member_id = member_id or f"m-{uuid.uuid4()}"
    phone = phone or f"+7916{uuid.uuid4().int % 10_000_000:07d}"
    members = container.members._members
    members.enrol(Member(member_id=member_id, phone=phone, subscriber=True, created_at=at))
    members.apply(members.update(member_id, goal=goal, limit=limit))  # type: ignore[arg-type]
    if bonuses:
        container.ledger.execute(member_id, adjust("seed", bonuses, at=at))
    return members.require(member_id)
