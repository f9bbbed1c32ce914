"""The ledger aggregate in DynamoDB: accounts, immutable entries and the member's transactions.

One partition per member (`MEMBER#<id>`) holds the account (`ACCOUNT`), its entries (`ENTRY#<operation>`)
and its transactions (`TXN#<transaction>`). An operation is one read (TransactGetItems of the account,
the transaction and the entry) and one TransactWriteItems that puts the entry if it does not exist,
writes the account if its version is unchanged, writes the transaction if its status is unchanged, and
carries whatever else belongs with the change (certificate, outbox message, settlement line).
A repeat finds its entry and changes nothing; a concurrent change makes the write fail as a whole, and
the operation is decided again on fresh state.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactGetError, TransactWriteError
from pynamodb.indexes import AllProjection, LocalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from cashback.ledger.plans import ItemKey, Plan, Planned, Planner, RawItem, Record, View
from cashback.ledger.rules import (
    Balances,
    Command,
    Decision,
    Kind,
    Source,
    Status,
    Transaction,
    decide,
    mark_accrual,
    paid,
)
from cashback.platform import dynamodb as tables
from cashback.platform.errors import Conflict
from cashback.platform.pagination import Page, check_limit, decode_cursor, encode_cursor, invalid_cursor
from cashback.settlement.rules import shard_of

ACCOUNT_SK = "ACCOUNT"
CANDIDATE_PREFIX = "SETTLE#"
ENTRY_PREFIX = "ENTRY#"
TXN_PREFIX = "TXN#"

# Extra writes that must commit with a ledger change (invariant 4): each adds its items to the transaction.
Attachment = Callable[[TransactWrite], None]
# The attachments, or how to make them from the decision when the command decides the amount itself.
Attachments = Sequence[Attachment] | Callable[[Decision], Sequence[Attachment]]
# The last step of an operation; a parameter so that tests can crash it before or after the commit.
Committer = Callable[[TransactWrite], None]
# The last step of a planned operation (`Ledger.operate`): the TransactWriteItems request's items.
RawCommitter = Callable[[Connection, list[dict[str, Any]]], None]


def partition(member_id: str) -> str:
    return f"MEMBER#{member_id}"


class AccountModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute()
    available = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    written_off = NumberAttribute(default=0)
    debt = NumberAttribute(default=0)
    # Bonuses accrued in all (never decreases): the mark a newly accrued transaction gets (rules.paid).
    accrued_total = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    def balances(self) -> Balances:
        return Balances(int(self.available), int(self.pending), int(self.written_off), int(self.debt))


class EntryModel(Model):
    """An immutable ledger entry: the signed change of each balance made by one operation."""

    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute()
    operation_id = UnicodeAttribute()
    transaction_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    reason = UnicodeAttribute()
    source_type = UnicodeAttribute()
    source_id = UnicodeAttribute()
    actor = UnicodeAttribute()
    status_from = UnicodeAttribute(null=True)
    status_to = UnicodeAttribute()
    d_available = NumberAttribute()
    d_pending = NumberAttribute()
    d_written_off = NumberAttribute()
    d_debt = NumberAttribute()
    created_at = UTCDateTimeAttribute()

    def delta(self) -> Balances:
        return Balances(int(self.d_available), int(self.d_pending), int(self.d_written_off), int(self.d_debt))


class TransactionsByTime(LocalSecondaryIndex["TransactionModel"]):
    class Meta:
        index_name = "by_time"
        projection = AllProjection()

    pk = UnicodeAttribute(hash_key=True)
    listed = UnicodeAttribute(range_key=True)


class TransactionsByStatus(LocalSecondaryIndex["TransactionModel"]):
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    pk = UnicodeAttribute(hash_key=True)
    status_listed = UnicodeAttribute(range_key=True)


class TransactionModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    transaction_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    amount = NumberAttribute()
    reason = UnicodeAttribute()
    source_type = UnicodeAttribute()
    source_id = UnicodeAttribute()
    details = MapAttribute[str, str](default=dict)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expected_at = UTCDateTimeAttribute(null=True)
    paid_mark = NumberAttribute(null=True)
    # Sort keys of the two listings: newest first, and by status then newest first.
    listed = UnicodeAttribute()
    status_listed = UnicodeAttribute()

    by_time = TransactionsByTime()
    by_status = TransactionsByStatus()

    def to_domain(self) -> Transaction:
        return Transaction(
            transaction_id=self.transaction_id,
            kind=Kind(self.kind),
            status=stored_status(Status(self.status), int(self.amount)),
            amount=int(self.amount),
            reason=self.reason,
            source=Source(self.source_type, self.source_id),
            created_at=self.created_at,
            updated_at=self.updated_at,
            expected_at=self.expected_at,
            details=dict(self.details.as_dict() if isinstance(self.details, MapAttribute) else self.details or {}),
            paid_mark=int(self.paid_mark) if self.paid_mark is not None else None,
        )

    @classmethod
    def from_domain(cls, member_id: str, txn: Transaction) -> TransactionModel:
        listed = f"{txn.created_at.isoformat()}#{txn.transaction_id}"
        return cls(
            partition(member_id),
            TXN_PREFIX + txn.transaction_id,
            transaction_id=txn.transaction_id,
            kind=txn.kind.value,
            status=txn.status.value,
            amount=txn.amount,
            reason=txn.reason,
            source_type=txn.source.type,
            source_id=txn.source.id,
            details=dict(txn.details),
            created_at=txn.created_at,
            updated_at=txn.updated_at,
            expected_at=txn.expected_at,
            paid_mark=txn.paid_mark,
            listed=listed,
            status_listed=f"{txn.status.value}#{listed}",
        )


def stored_status(status: Status, amount: int) -> Status:
    """The status a stored transaction reads as. Debits by hand were once stored as written off; only
    a debit has a negative amount, and it reads as accrued, as the ledger records it now. The stored
    items are rewritten by `python -m ops.restate_debits`; until then the written-off listing leaves them
    out and the accrued listing does not find them yet."""
    return Status.ACCRUED if status is Status.WRITTEN_OFF and amount < 0 else status


class CandidateModel(Model):
    """The ledger's index of accounts with something to settle: `SETTLE#<shard>` / `MEMBER#<id>`, put in
    the transaction that makes a member's available balance positive and deleted in the one that empties
    it; read shard by shard by settlement."""

    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)  # SETTLE#<shard>
    sk = UnicodeAttribute(range_key=True)  # MEMBER#<id>
    member_id = UnicodeAttribute()


def candidate(member_id: str) -> CandidateModel:
    return CandidateModel(f"{CANDIDATE_PREFIX}{shard_of(member_id)}", partition(member_id), member_id=member_id)


MODELS: tuple[type[Model], ...] = (AccountModel, EntryModel, TransactionModel, CandidateModel)


@dataclass(frozen=True)
class Outcome:
    """The result of a ledger operation: `applied` is False for a repeat or a command that changed nothing."""

    applied: bool
    transaction: Transaction | None
    balances: Balances


@dataclass(frozen=True)
class Snapshot:
    """What an operation decides on: the account, the transaction it concerns, whether it already ran."""

    account: AccountModel | None
    transaction: TransactionModel | None
    entry_exists: bool


class LedgerBusy(Conflict):
    code = "ledger_busy"


# What a retry can get past: another writer won the race (its conditions fail ours, or DynamoDB cancels
# the transaction as a conflict), or the table is throttling. Anything else (access denied, validation,
# a missing table) fails the same way every time and is surfaced at once.
_RETRYABLE_ERRORS = {
    "TransactionConflictException",
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}
_RETRYABLE_CANCELLATIONS = {"ConditionalCheckFailed", "TransactionConflict", "ThrottlingError", "None"}
_RETRYABLE_CANCELLATIONS |= {"ProvisionedThroughputExceeded", "RequestLimitExceeded"}


def retryable(error: TransactWriteError | TransactGetError) -> bool:
    if error.cause_response_code == "TransactionCanceledException":
        return all(code in _RETRYABLE_CANCELLATIONS for code in _cancellation_codes(error))
    return error.cause_response_code in _RETRYABLE_ERRORS


def _cancellation_codes(error: TransactWriteError | TransactGetError) -> list[str]:
    # pynamodb parses the reasons of a cancelled write only; a cancelled read carries them in the response.
    if isinstance(error, TransactWriteError):
        return [reason.code if reason else "None" for reason in error.cancellation_reasons]
    response = getattr(error.cause, "response", None) or {}
    return [str(reason.get("Code", "None")) for reason in response.get("CancellationReasons", [])]


def _commit(write: TransactWrite) -> None:
    write._commit()


def _commit_raw(connection: Connection, items: list[dict[str, Any]]) -> None:
    connection.transact_write_items(
        condition_check_items=[],
        delete_items=[item["Delete"] for item in items if "Delete" in item],
        put_items=[item["Put"] for item in items if "Put" in item],
        update_items=[],
    )


class Ledger:
    def __init__(
        self,
        table_name: str,
        connection: Connection,
        *,
        max_attempts: int = 40,
        commit: Committer = _commit,
        commit_raw: RawCommitter = _commit_raw,
    ) -> None:
        self._table_name = table_name
        self._connection = connection
        tables.bind(MODELS, table_name)
        self._max_attempts = max_attempts
        self._commit = commit
        self._commit_raw = commit_raw

    @property
    def table_name(self) -> str:
        return self._table_name

    # --- planned operations (ledger/plans.py) ---------------------------------------------------------

    def operate(
        self, member_id: str, transaction_ids: Sequence[str], records: Sequence[ItemKey], plan: Planner[Any]
    ) -> Planned[Any]:
        """Reads the account, `transaction_ids` and `records` in one TransactGetItems, asks `plan` what to
        do, and writes it all in one TransactWriteItems. A write that finds anything changed since the
        read (another delivery, another operation on the account) is planned again on a fresh read."""
        for attempt in range(self._max_attempts):
            account, txns, found = self._read_view(member_id, transaction_ids, records)
            balances = account.balances() if account else Balances()
            view = View(balances, {t: (m.to_domain() if m else None) for t, m in txns.items()}, found)
            planned = plan(view)
            items, changed, after = self._planned_items(member_id, account, txns, planned)
            if not items:
                return Planned(planned.result, {}, balances)
            try:
                self._commit_raw(self._connection, items)
            except TransactWriteError as error:
                if not retryable(error):
                    raise
                self._back_off(attempt)
                continue
            return Planned(planned.result, changed, after)
        raise LedgerBusy("the account is changing too fast; try again")

    def _read_view(
        self, member_id: str, transaction_ids: Sequence[str], records: Sequence[ItemKey]
    ) -> tuple[AccountModel | None, dict[str, TransactionModel | None], dict[ItemKey, RawItem | None]]:
        pk = partition(member_id)
        own = [ItemKey(self._table_name, pk, ACCOUNT_SK)]
        own += [ItemKey(self._table_name, pk, TXN_PREFIX + t) for t in transaction_ids]
        keys = own + list(records)
        request = [{"TableName": k.table, "Key": {"pk": {"S": k.pk}, "sk": {"S": k.sk}}} for k in keys]
        for attempt in range(self._max_attempts):
            try:
                response = self._connection.transact_get_items(get_items=request)
                break
            except TransactGetError as error:
                if not retryable(error):
                    raise
                self._back_off(attempt)
        else:
            raise LedgerBusy("the account is changing too fast; try again")
        items = [r.get("Item") for r in response["Responses"]]
        account = AccountModel.from_raw_data(items[0]) if items[0] else None
        txns = {
            t: (TransactionModel.from_raw_data(item) if item else None)
            for t, item in zip(transaction_ids, items[1 : len(own)], strict=True)
        }
        return account, txns, dict(zip(records, items[len(own) :], strict=True))

    def _planned_items(
        self,
        member_id: str,
        account: AccountModel | None,
        txns: dict[str, TransactionModel | None],
        planned: Plan[Any],
    ) -> tuple[list[dict[str, Any]], dict[str, Transaction], Balances]:
        before = account.balances() if account else Balances()
        balances = before
        current = {t: (m.to_domain() if m else None) for t, m in txns.items()}
        read = dict(txns)
        items: list[dict[str, Any]] = []
        changed: dict[str, Transaction] = {}
        last_at = None
        accrued_total = int(account.accrued_total or 0) if account else 0
        for cmd in planned.commands:
            was = current.get(cmd.transaction_id)
            decision = decide(cmd, balances, was)
            if decision is None:
                continue
            balances = balances + decision.delta
            marked, accrued_total = mark_accrual(was, decision.transaction, accrued_total)
            current[cmd.transaction_id] = changed[cmd.transaction_id] = marked
            items.append(self._put(_entry(member_id, cmd, decision), "attribute_not_exists(pk)"))
            last_at = cmd.at
        for txn_id, txn in changed.items():
            model = TransactionModel.from_domain(member_id, txn)
            stored = read.get(txn_id)
            if stored is None:
                items.append(self._put(model, "attribute_not_exists(pk)"))
            else:
                values = {":status": {"S": stored.status}, ":amount": {"N": str(int(stored.amount))}}
                names = {"#status": "status", "#amount": "amount"}
                items.append(self._put(model, "#status = :status AND #amount = :amount", names, values))
        if changed:
            items.append(self._account_put(member_id, account, balances, accrued_total, last_at))
            if balances.available > 0 >= before.available:
                items.append(self._put(candidate(member_id), None))
            elif before.available > 0 >= balances.available:
                gone = candidate(member_id)
                key = {"pk": {"S": gone.pk}, "sk": {"S": gone.sk}}
                items.append({"Delete": {"TableName": self._table_name, "Key": key}})
        for record in planned.records:
            items.append(_record_put(record))
        return items, changed, balances

    def _put(
        self,
        model: Model,
        condition: str | None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table_name, "Item": model.serialize()}
        if condition:
            put["ConditionExpression"] = condition
        if names:
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}

    def _account_put(
        self, member_id: str, account: AccountModel | None, after: Balances, accrued_total: int, at: Any
    ) -> dict[str, Any]:
        read_version = int(account.version) if account is not None and account.version is not None else None
        model = account or AccountModel(partition(member_id), ACCOUNT_SK, member_id=member_id)
        model.available, model.pending = after.available, after.pending
        model.written_off, model.debt = after.written_off, after.debt
        model.accrued_total = accrued_total
        model.updated_at = at
        model.version = (read_version or 0) + 1
        if read_version is None:
            return self._put(model, "attribute_not_exists(pk)")
        return self._put(model, "#version = :version", {"#version": "version"}, {":version": {"N": str(read_version)}})

    # --- writes -------------------------------------------------------------------------------------

    def execute(
        self, member_id: str, cmd: Command, attachments: Attachments = (), *, known: Snapshot | None = None
    ) -> Outcome:
        """Applies `cmd` once. `known` is the state read beforehand for many members at once (`snapshots`):
        the first attempt decides on it instead of reading; the write's conditions check it all the same."""
        for attempt in range(self._max_attempts):
            state = known if known is not None and attempt == 0 else self._read(member_id, cmd)
            account, existing = state.account, state.transaction
            balances = account.balances() if account else Balances()
            if state.entry_exists:
                return Outcome(False, existing.to_domain() if existing else None, balances)
            decision = decide(cmd, balances, existing.to_domain() if existing else None)
            if decision is None:
                return Outcome(False, existing.to_domain() if existing else None, balances)
            attached = attachments(decision) if callable(attachments) else attachments
            write = self._write(member_id, cmd, account, existing, decision, attached)
            try:
                self._commit(write)
            except TransactWriteError as error:
                # pynamodb sends condition checks, then deletes, then puts (the entry first), then updates.
                entry_at = len(write._condition_check_items) + len(write._delete_items)
                if self._entry_already_written(error, entry_at):
                    return self._replayed(member_id, cmd)
                if self._attachment_refused(error, entry_at):
                    raise Conflict("the change conflicts with a record written meanwhile") from error
                if not retryable(error):
                    raise  # access denied, a malformed request, ...: no retry can make it succeed
                self._back_off(attempt)
                continue
            return Outcome(True, decision.transaction, balances + decision.delta)
        raise LedgerBusy("the account is changing too fast; try again")

    def _read(self, member_id: str, cmd: Command) -> Snapshot:
        """The operation's state, read as one TransactGetItems; DynamoDB cancels one that a concurrent write
        touches, and then it is read again."""
        for attempt in range(self._max_attempts):
            try:
                return self._read_once(member_id, cmd)
            except TransactGetError as error:
                if not retryable(error):
                    raise
                self._back_off(attempt)
        raise LedgerBusy("the account is changing too fast; try again")

    def _read_once(self, member_id: str, cmd: Command) -> Snapshot:
        pk = partition(member_id)
        with TransactGet(connection=self._connection) as get:
            account = get.get(AccountModel, pk, ACCOUNT_SK)
            txn = get.get(TransactionModel, pk, TXN_PREFIX + cmd.transaction_id)
            entry = get.get(EntryModel, pk, ENTRY_PREFIX + cmd.operation_id)
        return Snapshot(_resolved(account), _resolved(txn), _resolved(entry) is not None)

    def snapshots(self, member_ids: Sequence[str], *, operation_id: str, transaction_id: str) -> dict[str, Snapshot]:
        """What `execute` would read for one operation on each of many members (a settlement batch), read in
        BatchGetItem calls of a hundred items instead of one TransactGetItems per member. The items are
        read one by one, not as one snapshot: a change in between makes the write's conditions fail, and
        that member's state is read again."""
        keys = []
        for member_id in member_ids:
            pk = partition(member_id)
            keys += [(pk, ACCOUNT_SK), (pk, TXN_PREFIX + transaction_id), (pk, ENTRY_PREFIX + operation_id)]
        found = {
            (item["pk"]["S"], item["sk"]["S"]): item
            for item in tables.batch_get(self._connection, self._table_name, keys)
        }
        states = {}
        for member_id in member_ids:
            pk = partition(member_id)
            account = found.get((pk, ACCOUNT_SK))
            txn = found.get((pk, TXN_PREFIX + transaction_id))
            states[member_id] = Snapshot(
                AccountModel.from_raw_data(account) if account else None,
                TransactionModel.from_raw_data(txn) if txn else None,
                (pk, ENTRY_PREFIX + operation_id) in found,
            )
        return states

    def _write(
        self,
        member_id: str,
        cmd: Command,
        account: AccountModel | None,
        existing: TransactionModel | None,
        decision: Decision,
        attachments: Sequence[Attachment],
    ) -> TransactWrite:
        pk = partition(member_id)
        if account is None:
            account = AccountModel(pk, ACCOUNT_SK, member_id=member_id)
        before = account.balances()
        after = before + decision.delta
        account.available, account.pending = after.available, after.pending
        account.written_off, account.debt = after.written_off, after.debt
        account.updated_at = cmd.at
        marked, account.accrued_total = mark_accrual(
            existing.to_domain() if existing else None, decision.transaction, int(account.accrued_total or 0)
        )

        entry = _entry(member_id, cmd, decision)
        txn = TransactionModel.from_domain(member_id, marked)
        if existing is None:
            txn_condition = TransactionModel.sk.does_not_exist()
        else:
            txn_condition = (TransactionModel.status == existing.status) & (TransactionModel.amount == existing.amount)

        # No ClientRequestToken of ours: botocore puts a fresh one in each call and keeps it for its own
        # retries, so DynamoDB deduplicates a resend after a lost response. A token shared by two
        # deliveries of one operation would let the second "succeed" as a no-op and report a change it did
        # not make; with its own token it fails on the entry's condition and is reported as a repeat.
        write = TransactWrite(connection=self._connection)
        # The order of the puts matters: the entry's cancellation reason is the first put's (see execute).
        write.save(entry, condition=EntryModel.sk.does_not_exist())
        write.save(account)  # VersionAttribute adds "version unchanged" (or "does not exist yet")
        write.save(txn, condition=txn_condition)
        for attach in attachments:
            attach(write)
        # The candidate index holds exactly the members with something available, for the monthly run.
        if after.available > 0 >= before.available:
            write.save(candidate(member_id))
        elif before.available > 0 >= after.available:
            write.delete(candidate(member_id))
        return write

    @staticmethod
    def _entry_already_written(error: TransactWriteError, entry_at: int) -> bool:
        reasons = error.cancellation_reasons
        return len(reasons) > entry_at and _refused(reasons[entry_at])

    @staticmethod
    def _attachment_refused(error: TransactWriteError, entry_at: int) -> bool:
        """A condition failed on an item other than the entry, the account and the transaction (the first
        three puts): a record written meanwhile that no retry gets past."""
        ledger_items = {entry_at, entry_at + 1, entry_at + 2}
        return any(_refused(r) for i, r in enumerate(error.cancellation_reasons) if i not in ledger_items)

    def _replayed(self, member_id: str, cmd: Command) -> Outcome:
        state = self._read(member_id, cmd)
        existing, account = state.transaction, state.account
        return Outcome(False, existing.to_domain() if existing else None, account.balances() if account else Balances())

    @staticmethod
    def _back_off(attempt: int) -> None:
        # Full jitter keeps concurrent writers on one account from retrying in lockstep. One account sees
        # little contention in production (one member's own actions); the bound is generous so that a
        # burst (fifty certificate orders at once) resolves into successes and refusals, not busy errors.
        time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # not money

    # --- reads --------------------------------------------------------------------------------------

    def balances(self, member_id: str) -> Balances:
        try:
            return AccountModel.get(partition(member_id), ACCOUNT_SK, consistent_read=True).balances()
        except DoesNotExist:
            return Balances()

    def transaction(self, member_id: str, transaction_id: str) -> Transaction | None:
        try:
            return TransactionModel.get(partition(member_id), TXN_PREFIX + transaction_id).to_domain()
        except DoesNotExist:
            return None

    def transactions(
        self, member_id: str, *, status: Status | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[Transaction]:
        """The member's history, newest first, as the member reads it: accrued transactions whose bonuses
        have been spent on the goal read as written off (rules.paid)."""
        limit = check_limit(limit)
        pk = partition(member_id)
        written_off = self.balances(member_id).written_off
        if status is None or status is Status.WRITTEN_OFF:
            position = decode_cursor(cursor, ("sk", "listed"))
            query = TransactionModel.by_time.query(
                pk,
                filter_condition=_written_off(written_off) if status is Status.WRITTEN_OFF else None,
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=_start_key(pk, position),
            )
        else:
            position = decode_cursor(cursor, ("sk", "status_listed"))
            if position is not None and not position["status_listed"].startswith(f"{status.value}#"):
                raise invalid_cursor()  # another status's position: outside this query
            unpaid = TransactionModel.paid_mark.does_not_exist() | (TransactionModel.paid_mark > written_off)
            query = TransactionModel.by_status.query(
                pk,
                TransactionModel.status_listed.startswith(f"{status.value}#"),
                filter_condition=unpaid if status is Status.ACCRUED else None,
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=_start_key(pk, position),
            )
        items = [paid(model.to_domain(), written_off) for model in query]
        last = query.last_evaluated_key
        next_cursor = encode_cursor({k: v["S"] for k, v in last.items() if k != "pk"}) if last else None
        return Page(items, next_cursor)

    def pending(self, member_id: str) -> Iterator[Transaction]:
        query = TransactionModel.by_status.query(
            partition(member_id), TransactionModel.status_listed.startswith(f"{Status.PENDING.value}#")
        )
        for model in query:
            yield model.to_domain()

    def entries(self, member_id: str) -> list[EntryModel]:
        return list(
            EntryModel.query(partition(member_id), EntryModel.sk.startswith(ENTRY_PREFIX), consistent_read=True)
        )


def _refused(reason: Any) -> bool:
    return reason is not None and reason.code == "ConditionalCheckFailed"


def _written_off(written_off: int) -> Any:
    """Spends on the goal (not debits stored as written off before they read as accrued, see stored_status),
    and the accrued transactions those spends paid."""
    spent = (TransactionModel.status == Status.WRITTEN_OFF.value) & (TransactionModel.amount >= 0)
    paid_for = (TransactionModel.status == Status.ACCRUED.value) & (TransactionModel.paid_mark <= written_off)
    return spent | paid_for


def _entry(member_id: str, cmd: Command, decision: Decision) -> EntryModel:
    return EntryModel(
        partition(member_id),
        ENTRY_PREFIX + cmd.operation_id,
        member_id=member_id,
        operation_id=cmd.operation_id,
        transaction_id=cmd.transaction_id,
        kind=decision.transaction.kind.value,
        reason=cmd.reason,
        source_type=decision.transaction.source.type,
        source_id=decision.transaction.source.id,
        actor=cmd.actor,
        status_from=decision.previous_status.value if decision.previous_status else None,
        status_to=decision.transaction.status.value,
        d_available=decision.delta.available,
        d_pending=decision.delta.pending,
        d_written_off=decision.delta.written_off,
        d_debt=decision.delta.debt,
        created_at=cmd.at,
    )


def _record_put(record: Record) -> dict[str, Any]:
    key = {"pk": {"S": record.key.pk}, "sk": {"S": record.key.sk}}
    item = {**record.attributes, **key, "version": {"N": str((record.read_version or 0) + 1)}}
    put: dict[str, Any] = {"TableName": record.key.table, "Item": item}
    if record.read_version is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "#version = :version"
        put["ExpressionAttributeNames"] = {"#version": "version"}
        put["ExpressionAttributeValues"] = {":version": {"N": str(record.read_version)}}
    return {"Put": put}


def _start_key(pk: str, position: dict[str, str] | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"pk": {"S": pk}, **{name: {"S": value} for name, value in position.items()}}


def _resolved(future: Any) -> Any:
    try:
        return future.get()
    except DoesNotExist:
        return None
