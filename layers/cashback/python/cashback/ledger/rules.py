"""The bonus ledger's rules, in plain Python.

A member's account has four balances: available (accrued, not yet spent), pending (awaiting the
partner's confirmation), written off (spent) and debt (bonuses reversed after they were spent, repaid
from future accruals). Every change is an immutable entry holding the signed change of each balance,
so the balances always equal the sum of the entries.

A member sees *transactions*: one per purchase, bonus, settlement, certificate or adjustment, whose
status moves forward only (pending -> accrued | rejected; accrued -> rejected by a reversal). A
transaction's amount is signed as the member's bonuses moved: a debit by hand is a negative amount with
status accrued (settled at once), not written off, which means bonuses spent on the member's goal.

`decide` turns a command, the account and the transaction it concerns into the change to write, or
into `None` when the command changes nothing (a repeat, or a status that may no longer move).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from cashback.ledger.money import Bonus
from cashback.platform.errors import InsufficientBalance, InvalidInput, NotFound


class Status(StrEnum):
    PENDING = "pending"
    ACCRUED = "accrued"
    REJECTED = "rejected"
    WRITTEN_OFF = "written_off"


class Kind(StrEnum):
    PURCHASE = "purchase"
    BONUS = "bonus"
    SETTLEMENT = "settlement"
    CERTIFICATE = "certificate"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True)
class Balances:
    available: Bonus = 0
    pending: Bonus = 0
    written_off: Bonus = 0
    debt: Bonus = 0

    def __add__(self, other: Balances) -> Balances:
        return Balances(
            available=self.available + other.available,
            pending=self.pending + other.pending,
            written_off=self.written_off + other.written_off,
            debt=self.debt + other.debt,
        )

    def __sub__(self, other: Balances) -> Balances:
        return self + Balances(-other.available, -other.pending, -other.written_off, -other.debt)


@dataclass(frozen=True)
class Source:
    """What caused a change: a conversion, a bonus rule, a settlement, a certificate, an adjustment."""

    type: str
    id: str


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    kind: Kind
    status: Status
    amount: Bonus
    reason: str
    source: Source
    created_at: datetime
    updated_at: datetime
    expected_at: datetime | None = None
    # Purchase details shown to the member (partner, order amount, rate), as plain strings.
    details: dict[str, str] = field(default_factory=dict)
    # The account's bonuses accrued in all, this transaction's included, when it was accrued: once the
    # member has spent at least that much, its bonuses were spent (the oldest accrued go first), and it
    # reads as written off without the spend having to touch it. See `paid`.
    paid_mark: Bonus | None = None


def accrued_amount(txn: Transaction | None) -> Bonus:
    """What a transaction adds to the bonuses the member has accrued in all (spends and debits: nothing)."""
    return txn.amount if txn is not None and txn.status is Status.ACCRUED and txn.amount > 0 else 0


def mark_accrual(before: Transaction | None, after: Transaction, accrued_total: Bonus) -> tuple[Transaction, Bonus]:
    """A transaction whose accrued bonuses rose takes the account's new total as its paid mark."""
    rise = accrued_amount(after) - accrued_amount(before)
    if rise <= 0:
        return after, accrued_total
    total = accrued_total + rise
    return replace(after, paid_mark=total), total


def paid(txn: Transaction, written_off: Bonus) -> Transaction:
    """The transaction as the member reads it, given the account's written-off balance: an accrued one whose
    bonuses have all been spent on the goal shows as written off. Reversals only delay this (their bonuses
    still count in later marks), so a purchase never shows as paid before it was."""
    if txn.status is Status.ACCRUED and txn.paid_mark is not None and txn.paid_mark <= written_off:
        return replace(txn, status=Status.WRITTEN_OFF)
    return txn


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of every ledger command. `operation_id` is deterministic: a repeat is recognised by it."""

    operation_id: str
    transaction_id: str
    reason: str
    at: datetime
    # Who asked for the change: "system" for rules and partners, the operator's identity for admin.
    actor: str = "system"

    def __post_init__(self) -> None:
        if not self.operation_id or not self.transaction_id:
            raise InvalidInput("a ledger command needs an operation id and a transaction id")
        if not self.reason.strip():
            raise InvalidInput("a reason is required", code="reason_required")


@dataclass(frozen=True, kw_only=True)
class RecordPending(Command):
    kind: Kind
    amount: Bonus
    source: Source
    expected_at: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Reprice(Command):
    """A pending purchase's amount changed (partial return before confirmation)."""

    amount: Bonus
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Accrue(Command):
    """The partner confirmed: pending becomes available (repaying debt first)."""


@dataclass(frozen=True, kw_only=True)
class Reject(Command):
    """The partner declined: pending is dropped, or an accrual is reversed (debt if already spent)."""


@dataclass(frozen=True, kw_only=True)
class Credit(Command):
    """Bonuses that are available at once: welcome bonuses, positive adjustments, own products."""

    kind: Kind
    amount: Bonus
    source: Source
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Debit(Command):
    """Bonuses taken back by hand: from available, the rest becomes debt. Never refused. Its transaction
    reads as settled at once (accrued) with a negative amount, and never moves afterwards."""

    kind: Kind
    amount: Bonus
    source: Source


@dataclass(frozen=True, kw_only=True)
class Spend(Command):
    """Bonuses spent on a goal (settlement, certificate): refused beyond the available balance."""

    kind: Kind
    amount: Bonus
    source: Source
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SpendUpTo(Command):
    """Spends whatever is available, up to `limit` (None: no limit); decided on the ledger's own read, so
    that the amount is right whatever changed since the caller last looked. Nothing available: no change."""

    kind: Kind
    limit: Bonus | None
    source: Source
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class GiveBack(Command):
    """Bonuses spent on a goal that was not delivered (a top-up the billing system refused) come back: the
    spend's transaction becomes rejected with the reason, its amount leaves written off and is available
    again (repaying debt first, as any gain). Only a written-off spend moves; anything else is no change."""


@dataclass(frozen=True, kw_only=True)
class Converge(Command):
    """Brings a purchase (or a bonus that shares its fate) to the state its partner reported last, from
    whatever state it is in: pending re-priced, accrued, rejected, accrued again after an appeal, or
    accrued at a lower amount after a partial return (the difference taken back, debt if spent). A
    decided transaction never goes back to pending. `source` may change: a bonus that a declined purchase
    gave up may be earned by another one."""

    kind: Kind
    status: Status
    amount: Bonus
    source: Source
    expected_at: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """What a command changes: the balances' delta and the transaction as it will be."""

    delta: Balances
    transaction: Transaction
    previous_status: Status | None


def gain(balances: Balances, amount: Bonus) -> Balances:
    """The delta of receiving `amount` available bonuses: debt is repaid first."""
    repaid = min(amount, balances.debt)
    return Balances(available=amount - repaid, debt=-repaid)


def lose(balances: Balances, amount: Bonus) -> Balances:
    """The delta of taking back `amount` bonuses: what is not available any more becomes debt."""
    taken = min(amount, balances.available)
    return Balances(available=-taken, debt=amount - taken)


def _positive(amount: Bonus, what: str, *, zero_allowed: bool = False) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput(f"{what} is a whole number of bonuses", code="invalid_amount")
    if amount < 0 or (amount == 0 and not zero_allowed):
        raise InvalidInput(f"{what} must be positive", code="invalid_amount")


def _new_transaction(
    cmd: Command, kind: Kind, status: Status, amount: Bonus, source: Source, **extra: object
) -> Transaction:
    return Transaction(
        transaction_id=cmd.transaction_id,
        kind=kind,
        status=status,
        amount=amount,
        reason=cmd.reason,
        source=source,
        created_at=cmd.at,
        updated_at=cmd.at,
        **extra,  # type: ignore[arg-type]
    )


def decide(cmd: Command, balances: Balances, existing: Transaction | None) -> Decision | None:
    if isinstance(cmd, Converge):
        return _decide_converge(cmd, balances, existing)
    if isinstance(cmd, (RecordPending, Credit, Debit, Spend, SpendUpTo)):
        if existing is not None:
            return None  # the transaction is already recorded: a repeat changes nothing
        return _decide_new(cmd, balances)
    if existing is None:
        raise NotFound(f"transaction {cmd.transaction_id} is not recorded", code="transaction_not_found")
    return _decide_move(cmd, balances, existing)


_CONVERGING = (Status.PENDING, Status.ACCRUED, Status.REJECTED)


def standing(
    balances: Balances, status: Status | None, amount: Bonus, target: Status, target_amount: Bonus
) -> Balances:
    """The delta of moving a purchase from what it stood for to what it stands for now: pending counts in
    pending, accrued in what the member earned (a rise repays debt first, a fall leaves debt when spent),
    rejected in nothing."""
    pending = (target_amount if target is Status.PENDING else 0) - (amount if status is Status.PENDING else 0)
    earned = (target_amount if target is Status.ACCRUED else 0) - (amount if status is Status.ACCRUED else 0)
    return Balances(pending=pending) + (gain(balances, earned) if earned >= 0 else lose(balances, -earned))


def _decide_converge(cmd: Converge, balances: Balances, existing: Transaction | None) -> Decision | None:
    if cmd.status not in _CONVERGING:
        raise InvalidInput("a purchase converges to pending, accrued or rejected", code="invalid_status")
    _positive(cmd.amount, "a purchase's cashback", zero_allowed=True)
    if existing is None:
        txn = _new_transaction(
            cmd, cmd.kind, cmd.status, cmd.amount, cmd.source, expected_at=cmd.expected_at, details=dict(cmd.details)
        )
        return Decision(standing(balances, None, 0, cmd.status, cmd.amount), txn, None)
    if existing.amount < 0 or existing.status not in _CONVERGING:
        return None  # a debit or a spend is not a purchase: nothing converges it
    if existing.status is not Status.PENDING and cmd.status is Status.PENDING:
        return None  # a late "pending" after a decision changes nothing
    unchanged = (existing.status, existing.amount, existing.source) == (cmd.status, cmd.amount, cmd.source)
    if unchanged and {**existing.details, **cmd.details} == existing.details:
        return None
    delta = standing(balances, existing.status, existing.amount, cmd.status, cmd.amount)
    moved = replace(
        existing,
        status=cmd.status,
        amount=cmd.amount,
        source=cmd.source,
        # A purchase keeps the date first expected; a bonus earned by another purchase takes that one's.
        expected_at=existing.expected_at if existing.source == cmd.source else cmd.expected_at,
        reason=cmd.reason,
        updated_at=cmd.at,
        details={**existing.details, **cmd.details},
    )
    return Decision(delta, moved, existing.status)


def _decide_new(cmd: Command, balances: Balances) -> Decision | None:
    if isinstance(cmd, RecordPending):
        # A purchase worth less than one bonus still shows to the member, as 0.
        _positive(cmd.amount, "a pending accrual", zero_allowed=True)
        txn = _new_transaction(
            cmd,
            cmd.kind,
            Status.PENDING,
            cmd.amount,
            cmd.source,
            expected_at=cmd.expected_at,
            details=dict(cmd.details),
        )
        return Decision(Balances(pending=cmd.amount), txn, None)
    if isinstance(cmd, Credit):
        _positive(cmd.amount, "a credit")
        txn = _new_transaction(cmd, cmd.kind, Status.ACCRUED, cmd.amount, cmd.source, details=dict(cmd.details))
        return Decision(gain(balances, cmd.amount), txn, None)
    if isinstance(cmd, Debit):
        _positive(cmd.amount, "a debit")
        txn = _new_transaction(cmd, cmd.kind, Status.ACCRUED, -cmd.amount, cmd.source)
        return Decision(lose(balances, cmd.amount), txn, None)
    if isinstance(cmd, Spend):
        _positive(cmd.amount, "a spend")
        if cmd.amount > balances.available:
            raise InsufficientBalance(available=balances.available, requested=cmd.amount)
        txn = _new_transaction(cmd, cmd.kind, Status.WRITTEN_OFF, cmd.amount, cmd.source, details=dict(cmd.details))
        return Decision(Balances(available=-cmd.amount, written_off=cmd.amount), txn, None)
    if isinstance(cmd, SpendUpTo):
        if cmd.limit is not None:
            _positive(cmd.limit, "a spending limit", zero_allowed=True)
        amount = balances.available if cmd.limit is None else min(balances.available, cmd.limit)
        if amount <= 0:
            return None
        txn = _new_transaction(cmd, cmd.kind, Status.WRITTEN_OFF, amount, cmd.source, details=dict(cmd.details))
        return Decision(Balances(available=-amount, written_off=amount), txn, None)
    raise TypeError(f"not a ledger command: {cmd!r}")


def _decide_move(cmd: Command, balances: Balances, txn: Transaction) -> Decision | None:
    if txn.amount < 0:
        # A debit is final: "reversing" it would take back a negative amount, i.e. credit it back unasked.
        # Only another adjustment corrects it.
        return None
    moved = replace(txn, reason=cmd.reason, updated_at=cmd.at)
    if isinstance(cmd, Reprice):
        _positive(cmd.amount, "a repriced accrual", zero_allowed=True)
        if txn.status is not Status.PENDING or cmd.amount == txn.amount:
            return None
        repriced = replace(moved, amount=cmd.amount, details={**txn.details, **cmd.details})
        return Decision(Balances(pending=cmd.amount - txn.amount), repriced, txn.status)
    if isinstance(cmd, Accrue):
        if txn.status is not Status.PENDING:
            return None
        delta = Balances(pending=-txn.amount) + gain(balances, txn.amount)
        return Decision(delta, replace(moved, status=Status.ACCRUED), txn.status)
    if isinstance(cmd, Reject):
        if txn.status is Status.PENDING:
            return Decision(Balances(pending=-txn.amount), replace(moved, status=Status.REJECTED), txn.status)
        if txn.status is Status.ACCRUED:
            return Decision(lose(balances, txn.amount), replace(moved, status=Status.REJECTED), txn.status)
        return None
    if isinstance(cmd, GiveBack):
        if txn.status is not Status.WRITTEN_OFF or txn.kind not in (Kind.SETTLEMENT, Kind.CERTIFICATE):
            return None
        delta = Balances(written_off=-txn.amount) + gain(balances, txn.amount)
        return Decision(delta, replace(moved, status=Status.REJECTED), txn.status)
    raise TypeError(f"not a ledger command: {cmd!r}")
