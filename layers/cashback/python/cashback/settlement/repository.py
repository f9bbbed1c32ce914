"""Settlement runs in the ledger table. Every hot path is spread over many keys:

- `SETTLE#<shard>` / `MEMBER#<id>`: the settlement candidates, kept by the ledger (put by the transaction
  that makes a member's available balance positive, deleted by the one that empties it); a run reads
  them shard by shard (Query, no scan).
- `SETTLEMENT#<month>` / `RUN`: the run (state, attempt, counters); `CURSOR#<attempt>#<shard>`: how far
  the enumeration of a shard has come.
- `SETTLEMENT#<month>#BATCH#<batch>` / `BATCH`: a batch's counters, changed only by the worker that
  holds the batch, and added to the run's counters once, when the batch is done.
- `MEMBER#<id>` / `SETTLEMENT#<month>`: the member's settlement line, written with the ledger change (or
  the skip) on condition that it does not exist: a member is settled and counted once per month.
- `MEMBER#<id>` / `SETTLEMENT#<month>#ANSWER`: billing's first answer about the member's top-up, written on
  condition that it does not exist (the first answer wins), with the change it causes; a contradicting
  later answer is noted on it for support.
- `SETTLEMENT#<month>` / `TOPUPS#<shard>`: answers counted per shard of members (a hash of the member
  id, as the candidates), so that billing's answers for millions of top-ups never meet on one item; the
  report adds the shards up.
"""

from __future__ import annotations

import random
import time
from contextlib import suppress
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.ledger.repository import (
    CANDIDATE_PREFIX,
    AccountModel,
    Attachment,
    CandidateModel,
    partition,
    retryable,
)
from cashback.platform import dynamodb as tables
from cashback.settlement.rules import (
    SHARDS,
    LineOutcome,
    RecordedAnswer,
    Report,
    RunState,
    ShardCursor,
    TopUpAnswer,
    final_state,
    shard_of,
)

RUN_SK = "RUN"
TOPUPS_PREFIX = "TOPUPS#"


def _run_pk(month: str) -> str:
    return f"SETTLEMENT#{month}"


def _batch_pk(month: str, batch: str) -> str:
    return f"SETTLEMENT#{month}#BATCH#{batch}"


def _line_sk(month: str) -> str:
    return f"SETTLEMENT#{month}"


def _answer_sk(month: str) -> str:
    return f"SETTLEMENT#{month}#ANSWER"


class RunModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    month = UnicodeAttribute()
    state = UnicodeAttribute()
    attempt = NumberAttribute(default=1)
    members_settled = NumberAttribute(default=0)
    bonuses_paid = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failures = NumberAttribute(default=0)
    batches_sent = NumberAttribute(default=0)
    batches_done = NumberAttribute(default=0)
    shards_done = NumberAttribute(default=0)
    started_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)

    def report(self) -> Report:
        return Report(
            month=self.month,
            state=RunState(self.state),
            members_settled=int(self.members_settled),
            bonuses_paid=int(self.bonuses_paid),
            skipped=int(self.skipped),
            failures=int(self.failures),
            batches_sent=int(self.batches_sent),
            batches_done=int(self.batches_done),
            attempt=int(self.attempt),
        )


class CursorModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # CURSOR#<attempt>#<shard>
    page = NumberAttribute(default=0)  # the next page to read
    after = UnicodeAttribute(null=True)
    done = BooleanAttribute(default=False)
    # The members of the page read last (page - 1), kept so that a repeat sends exactly the same batches.
    last_page = ListAttribute(of=UnicodeAttribute, default=list)


class BatchModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # BATCH
    members_settled = NumberAttribute(default=0)
    bonuses_paid = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failures = NumberAttribute(default=0)
    done = BooleanAttribute(null=True)


class LineModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)  # MEMBER#<id>
    sk = UnicodeAttribute(range_key=True)  # SETTLEMENT#<month>[#FAILED#<attempt>]
    outcome = UnicodeAttribute()
    amount = NumberAttribute(default=0)
    batch = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class AnswerModel(Model):
    """Billing's first answer about a member's top-up for a month; later contradictions are noted on it."""

    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)  # MEMBER#<id>
    sk = UnicodeAttribute(range_key=True)  # SETTLEMENT#<month>#ANSWER
    answer = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    contradicted_by = UnicodeAttribute(null=True)
    contradiction_reason = UnicodeAttribute(null=True)
    contradicted_at = UTCDateTimeAttribute(null=True)
    contradictions = NumberAttribute(null=True)


class TopUpCountsModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)  # SETTLEMENT#<month>
    sk = UnicodeAttribute(range_key=True)  # TOPUPS#<shard>
    confirmed = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)


MODELS: tuple[type[Model], ...] = (
    CandidateModel,
    RunModel,
    CursorModel,
    BatchModel,
    LineModel,
    AccountModel,
    AnswerModel,
    TopUpCountsModel,
)


class SettlementRepository:
    def __init__(self, table_name: str, connection: Connection) -> None:
        self._table_name = table_name
        self._connection = connection
        tables.bind(MODELS, table_name)

    # --- candidates ---------------------------------------------------------------------------------

    def candidates(self, shard: int, after: str | None, limit: int) -> tuple[list[str], str | None]:
        """A page of one shard's members, and where the next page starts (None: the shard is read)."""
        pk = f"{CANDIDATE_PREFIX}{shard}"
        query = CandidateModel.query(
            pk,
            limit=limit,
            last_evaluated_key={"pk": {"S": pk}, "sk": {"S": after}} if after else None,
            consistent_read=True,
        )
        members = [model.member_id for model in query]
        last = query.last_evaluated_key
        return members, last["sk"]["S"] if last else None

    # --- the run ------------------------------------------------------------------------------------

    def run(self, month: str) -> Report | None:
        try:
            return RunModel.get(_run_pk(month), RUN_SK, consistent_read=True).report()
        except DoesNotExist:
            return None

    def create_run(self, month: str, at: datetime) -> Report:
        """The month's run, created once; a concurrent start gets the one that won."""
        run = RunModel(_run_pk(month), RUN_SK, month=month, state=RunState.RUNNING.value, attempt=1, started_at=at)
        try:
            run.save(condition=RunModel.pk.does_not_exist())
        except PutError:
            existing = self.run(month)
            assert existing is not None
            return existing
        return run.report()

    def retry_run(self, run: Report, at: datetime) -> Report:
        """A failed run starts a new attempt: members settled or skipped stay so (their lines exist);
        the failed ones are enumerated and tried again."""
        with suppress(UpdateError):  # another start retried it first: read what it did
            RunModel(_run_pk(run.month), RUN_SK).update(
                actions=[
                    RunModel.state.set(RunState.RUNNING.value),
                    RunModel.attempt.add(1),
                    RunModel.failures.set(0),
                    RunModel.batches_sent.set(0),
                    RunModel.batches_done.set(0),
                    RunModel.shards_done.set(0),
                    RunModel.started_at.set(at),
                    RunModel.finished_at.remove(),
                ],
                condition=(RunModel.state == RunState.FAILED.value) & (RunModel.attempt == run.attempt),
            )
        fresh = self.run(run.month)
        assert fresh is not None
        return fresh

    def cursor(self, month: str, attempt: int, shard: int) -> ShardCursor:
        try:
            found = CursorModel.get(_run_pk(month), f"CURSOR#{attempt}#{shard}", consistent_read=True)
        except DoesNotExist:
            return ShardCursor(page=0, after=None, done=False)
        return ShardCursor(int(found.page), found.after, bool(found.done), tuple(str(m) for m in found.last_page or ()))

    def advance(
        self, month: str, attempt: int, shard: int, page: int, members: list[str], after: str | None, batches: int
    ) -> ShardCursor | None:
        """Records page `page` of the shard (its members, where the next page starts) and counts its batches,
        once: None when another delivery of the same page recorded it first."""
        cursor = CursorModel(
            _run_pk(month),
            f"CURSOR#{attempt}#{shard}",
            page=page + 1,
            after=after,
            done=after is None,
            last_page=members,
        )
        run_actions: list[Action] = [RunModel.batches_sent.add(batches)]
        if after is None:
            run_actions.append(RunModel.shards_done.add(1))
        first = CursorModel.sk.does_not_exist() if page == 0 else CursorModel.page == page
        try:
            with TransactWrite(connection=self._connection) as write:
                write.save(cursor, condition=first)
                write.update(RunModel(_run_pk(month), RUN_SK), run_actions, condition=RunModel.attempt == attempt)
        except TransactWriteError:
            return None
        return ShardCursor(page + 1, after, after is None, tuple(members))

    def finish_batch(self, month: str, attempt: int, batch: str) -> bool:
        """Adds a finished batch's counters to the run, once. False if it was already added."""
        for retry in range(8):
            try:
                counters = BatchModel.get(_batch_pk(month, batch), "BATCH", consistent_read=True)
            except DoesNotExist:
                counters = BatchModel(_batch_pk(month, batch), "BATCH")
            if counters.done:
                return False
            try:
                with TransactWrite(connection=self._connection) as write:
                    write.update(
                        BatchModel(_batch_pk(month, batch), "BATCH"),
                        [BatchModel.done.set(True)],
                        condition=BatchModel.done.does_not_exist() & _unchanged(counters),
                    )
                    write.update(
                        RunModel(_run_pk(month), RUN_SK),
                        [
                            RunModel.members_settled.add(int(counters.members_settled or 0)),
                            RunModel.bonuses_paid.add(int(counters.bonuses_paid or 0)),
                            RunModel.skipped.add(int(counters.skipped or 0)),
                            RunModel.failures.add(int(counters.failures or 0)),
                            RunModel.batches_done.add(1),
                        ],
                        condition=RunModel.attempt == attempt,
                    )
                return True
            except TransactWriteError as error:
                if _conflict_only(error):  # another batch finished at the same moment: try again
                    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**retry)))  # not money
                    continue
                return False
        raise TransactWriteError("the run is too busy; the batch will be finished on its retry")

    def _run_model(self, month: str) -> RunModel | None:
        try:
            return RunModel.get(_run_pk(month), RUN_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def complete_if_done(self, month: str) -> Report | None:
        """Marks the run completed (or failed, with failures) once every shard is read and every batch
        sent is done."""
        run = self._run_model(month)
        if run is None:
            return None
        if run.state != RunState.RUNNING.value:
            return run.report()
        if int(run.shards_done) < SHARDS or int(run.batches_done) < int(run.batches_sent):
            return run.report()
        state = final_state(int(run.failures))
        with suppress(UpdateError):  # changed meanwhile: whoever changed it checks again
            run.update(
                actions=[
                    RunModel.state.set(state.value),
                    RunModel.finished_at.set(datetime.now(run.started_at.tzinfo)),
                ],
                condition=(RunModel.state == RunState.RUNNING.value)
                & (RunModel.attempt == run.attempt)
                & (RunModel.batches_done == run.batches_done)
                & (RunModel.batches_sent == run.batches_sent)
                & (RunModel.failures == run.failures),
            )
        return self.run(month)

    # --- members' lines -----------------------------------------------------------------------------

    def settled_line(self, month: str, member_id: str, batch: str, amount: int, at: datetime) -> Attachment:
        """The line and the batch's counters, as attachments of the member's ledger change."""
        line = LineModel(
            partition(member_id), _line_sk(month), outcome=LineOutcome.SETTLED.value, amount=amount, batch=batch, at=at
        )

        def attach(write: TransactWrite) -> None:
            write.save(line, condition=LineModel.sk.does_not_exist())
            write.update(
                BatchModel(_batch_pk(month, batch), "BATCH"),
                [BatchModel.members_settled.add(1), BatchModel.bonuses_paid.add(amount)],
                condition=BatchModel.done.does_not_exist(),
            )

        return attach

    def record_skip(self, month: str, member_id: str, batch: str, outcome: LineOutcome, at: datetime) -> bool:
        line = LineModel(partition(member_id), _line_sk(month), outcome=outcome.value, amount=0, batch=batch, at=at)
        try:
            with TransactWrite(connection=self._connection) as write:
                write.save(line, condition=LineModel.sk.does_not_exist())
                write.update(
                    BatchModel(_batch_pk(month, batch), "BATCH"),
                    [BatchModel.skipped.add(1)],
                    condition=BatchModel.done.does_not_exist(),
                )
        except TransactWriteError:
            return False
        return True

    def record_failure(self, month: str, attempt: int, member_id: str, batch: str, reason: str, at: datetime) -> bool:
        # No settlement line: a later attempt of the run tries the member again.
        failed = LineModel(
            partition(member_id), f"{_line_sk(month)}#FAILED#{attempt}", outcome=reason[:200], batch=batch, at=at
        )
        try:
            with TransactWrite(connection=self._connection) as write:
                write.save(failed, condition=LineModel.sk.does_not_exist())
                write.update(
                    BatchModel(_batch_pk(month, batch), "BATCH"),
                    [BatchModel.failures.add(1)],
                    condition=BatchModel.done.does_not_exist(),
                )
        except TransactWriteError:
            return False
        return True

    # --- billing's answers --------------------------------------------------------------------------

    def answer(self, month: str, member_id: str) -> RecordedAnswer | None:
        try:
            found = AnswerModel.get(partition(member_id), _answer_sk(month), consistent_read=True)
        except DoesNotExist:
            return None
        return RecordedAnswer(TopUpAnswer(found.answer), found.reason, found.at)

    def answer_record(
        self, month: str, member_id: str, answer: TopUpAnswer, reason: str | None, at: datetime
    ) -> Attachment:
        """The answer, once (its condition fails if any answer came first), and its count in the report, as
        an attachment of the change it causes."""
        record = AnswerModel(partition(member_id), _answer_sk(month), answer=answer.value, reason=reason, at=at)
        counter = TopUpCountsModel(_run_pk(month), f"{TOPUPS_PREFIX}{shard_of(member_id):02d}")
        count = TopUpCountsModel.confirmed if answer is TopUpAnswer.COMPLETED else TopUpCountsModel.failed

        def attach(write: TransactWrite) -> None:
            write.save(record, condition=AnswerModel.sk.does_not_exist())
            write.update(counter, [count.add(1)])

        return attach

    def record_answer(self, attachments: list[Attachment], *, attempts: int = 8) -> bool:
        """Writes an answer that moves no bonuses (`answer_record` and what goes with it) as one transaction.
        False when a condition failed: an answer was recorded first."""
        for attempt in range(attempts):
            write = TransactWrite(connection=self._connection)
            for attach in attachments:
                attach(write)
            try:
                write._commit()
            except TransactWriteError as error:
                codes = {r.code for r in error.cancellation_reasons or [] if r is not None}
                if "ConditionalCheckFailed" in codes:
                    return False
                if not retryable(error) or attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # not money
                continue
            return True
        raise AssertionError("unreachable")

    def note_contradiction(
        self, month: str, member_id: str, answer: TopUpAnswer, reason: str | None, at: datetime
    ) -> None:
        """Keeps the latest answer that contradicted the first, and how many did, for support."""
        actions: list[Action] = [
            AnswerModel.contradicted_by.set(answer.value),
            AnswerModel.contradicted_at.set(at),
            AnswerModel.contradictions.add(1),
        ]
        actions.append(
            AnswerModel.contradiction_reason.set(reason)
            if reason is not None
            else AnswerModel.contradiction_reason.remove()
        )
        with suppress(UpdateError):  # no answer recorded: nothing was contradicted
            AnswerModel(partition(member_id), _answer_sk(month)).update(
                actions=actions, condition=AnswerModel.sk.exists()
            )

    def top_up_counts(self, month: str) -> tuple[int, int]:
        """(confirmed, failed) top-ups of the month, added up over the counter shards."""
        confirmed = failed = 0
        for shard in TopUpCountsModel.query(
            _run_pk(month), TopUpCountsModel.sk.startswith(TOPUPS_PREFIX), consistent_read=True
        ):
            confirmed += int(shard.confirmed or 0)
            failed += int(shard.failed or 0)
        return confirmed, failed


def _unchanged(counters: BatchModel) -> Any:
    """The batch's counters are still the ones read (ADD creates only the attributes it adds)."""
    condition: Any = None
    for attribute in (BatchModel.members_settled, BatchModel.bonuses_paid, BatchModel.skipped, BatchModel.failures):
        value = int(getattr(counters, attribute.attr_name) or 0)
        same = attribute == value if value else attribute.does_not_exist() | (attribute == 0)
        condition = same if condition is None else condition & same
    return condition


def _conflict_only(error: TransactWriteError) -> bool:
    reasons: list[Any] = list(error.cancellation_reasons or [])
    codes = {r.code for r in reasons if r is not None}
    return (bool(codes) and codes <= {"TransactionConflict", "None"}) or error.cause_response_code in (
        "TransactionConflictException",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
    )
