"""Monthly settlement: start (or resume) a month's run, enumerate the candidates shard by shard through
the queue, and settle each member once: a top-up of the phone for `phone_topup`, nothing for `smartphone`.

Messages on the queue:
- `enumerate` {month, attempt, shard, page}: read one page of a shard's candidates, send its batches,
  move the shard's cursor, then send the next page's `enumerate` (no invocation reads a whole shard).
- `settle` {month, attempt, batch, member_ids}: settle each member, then add the batch to the run.

Billing answers each top-up on the operator's bus: a confirmation is recorded and counted; a refusal gives
the bonuses back to the member (one ledger operation, with the answer, its count and the member's SMS).
The first answer about a top-up stands: a repeat changes nothing, a contradiction is noted for support.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from cashback.ledger.repository import Attachment, Ledger, LedgerBusy, Snapshot
from cashback.ledger.rules import Decision, GiveBack, Kind, Source, SpendUpTo
from cashback.members.rules import Goal, Member, mask_phone
from cashback.members.service import MemberService
from cashback.outbox.repository import Message, MessageKind, OutboxRepository
from cashback.platform.errors import Conflict, NotFound
from cashback.platform.observability import logger
from cashback.settlement.repository import SettlementRepository
from cashback.settlement.rules import (
    BATCHES_PER_PAGE,
    MEMBERS_PER_BATCH,
    PAGE_SIZE,
    SHARDS,
    AnswerOutcome,
    LineOutcome,
    RecordedAnswer,
    Report,
    RunState,
    TopUpAnswer,
    answer_outcome,
    batch_id,
    check_month,
    parse_topup_id,
    top_up_failed_reason,
    topup_id,
)

# SQS gives a message up to this many receives before the dead-letter queue; the last one records the
# members it could not settle as failures, so that the run still finishes with a report.
MAX_RECEIVES = 5


class SettlementQueue(Protocol):
    def send(self, messages: Sequence[dict[str, Any]]) -> None: ...


class SqsQueue:
    """SendMessageBatch, ten messages a call; entries SQS refuses are sent again, then raised."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._url = queue_url
        self._client = client

    def _sqs(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))}
                for i, m in enumerate(messages[start : start + 10])
            ]
            for _ in range(3):
                failed = self._sqs().send_message_batch(QueueUrl=self._url, Entries=entries).get("Failed", [])
                if not failed:
                    break
                ids = {f["Id"] for f in failed}
                entries = [e for e in entries if e["Id"] in ids]
            else:
                raise RuntimeError(f"SQS refused {len(entries)} settlement messages")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


# --- the run ------------------------------------------------------------------------------------------


class SettlementService:
    def __init__(
        self,
        settlements: SettlementRepository,
        ledger: Ledger,
        outbox: OutboxRepository,
        queue: SettlementQueue,
        *,
        members: MemberService,
    ) -> None:
        self._settlements = settlements
        self._ledger = ledger
        self._outbox = outbox
        self._queue = queue
        self._members = members

    def start_settlement(self, month: str, *, now: datetime | None = None) -> Report:
        """Starts the month's run, or resumes it: a running run gets each unfinished shard's enumeration sent
        again from its cursor; a failed one starts a new attempt; a completed one is left as it is."""
        now = _now(now)
        month = check_month(month, now)
        store = self._settlements
        run = store.run(month) or store.create_run(month, now)
        if run.state is RunState.COMPLETED:
            return run
        if run.state is RunState.FAILED:
            run = store.retry_run(run, now)
        attempt = run.attempt
        resumed = []
        for shard in range(SHARDS):
            cursor = store.cursor(month, attempt, shard)
            if cursor.done:
                continue
            if cursor.page == 0:
                resumed.append(_enumerate_message(month, attempt, shard, 0))
            else:  # the last page recorded may not have been sent: send it again, then go on
                resumed.append({**_enumerate_message(month, attempt, shard, cursor.page - 1), "resume": True})
        self._queue.send(resumed)
        logger.info("settlement started", extra={"month": month, "attempt": attempt, "shards": len(resumed)})
        # Read again: a queue that delivers at once (the local stack's) may have finished the run already.
        store.complete_if_done(month)
        return self.report(month)

    def completed_run(self, month: str, *, now: datetime | None = None) -> tuple[str, Report | None]:
        """The month ("auto": the one that has just ended) and its run if that run has completed, else None:
        what the 06:00 check on the 1st reports, so that a run still going or failed is alarmed on."""
        month = check_month(month, _now(now))
        run = self._settlements.run(month)
        return month, run if run is not None and run.state is RunState.COMPLETED else None

    def report(self, month: str) -> Report:
        run = self._settlements.run(month)
        if run is None:
            raise NotFound(f"there is no settlement for {month}", code="settlement_not_found")
        confirmed, failed = self._settlements.top_up_counts(month)
        return replace(run, topups_confirmed=confirmed, topups_failed=failed)

    def handle_message(self, message: dict[str, Any], *, receive_count: int = 1) -> None:
        if message.get("type") == "enumerate":
            self.enumerate_page(
                message["month"],
                int(message["attempt"]),
                int(message["shard"]),
                int(message["page"]),
                repeat=receive_count > 1 or bool(message.get("resume")),
            )
        elif message.get("type") == "settle":
            self.settle_batch(
                message["month"],
                int(message["attempt"]),
                str(message["batch"]),
                list(message["member_ids"]),
                final_receive=receive_count >= MAX_RECEIVES,
            )
        else:
            raise ValueError(f"not a settlement message: {message.get('type')!r}")

    def enumerate_page(self, month: str, attempt: int, shard: int, page: int, *, repeat: bool = False) -> None:
        """Reads page `page` of a shard once (the cursor records it with its members), then sends its batches
        and asks for the next page. A repeat of a page already recorded sends the same batches again only if
        it may be the delivery that recorded it and then failed (`repeat`); otherwise it does nothing."""
        store = self._settlements
        run = store.run(month)
        if run is None or run.attempt != attempt or run.state is not RunState.RUNNING:
            return  # a message of an attempt that is over
        cursor = store.cursor(month, attempt, shard)
        if cursor.page == page and not cursor.done:
            member_ids, after = store.candidates(shard, cursor.after, PAGE_SIZE)
            recorded = store.advance(month, attempt, shard, page, member_ids, after, _batch_count(len(member_ids)))
            if recorded is None:
                return  # another delivery of this page recorded it; that one sends it
            cursor = recorded
        elif not (cursor.page == page + 1 and repeat):
            return
        members_of_page = list(cursor.last_page)
        batches = [
            members_of_page[i : i + MEMBERS_PER_BATCH] for i in range(0, len(members_of_page), MEMBERS_PER_BATCH)
        ]
        assert len(batches) <= BATCHES_PER_PAGE
        self._queue.send(
            [
                {
                    "type": "settle",
                    "month": month,
                    "attempt": attempt,
                    "batch": batch_id(attempt, shard, page, index),
                    "member_ids": ids,
                }
                for index, ids in enumerate(batches)
            ]
        )
        if not cursor.done:
            self._queue.send([_enumerate_message(month, attempt, shard, page + 1)])
        else:
            store.complete_if_done(month)

    def settle_batch(
        self, month: str, attempt: int, batch: str, member_ids: Iterable[str], *, final_receive: bool
    ) -> None:
        store = self._settlements
        member_ids = list(member_ids)
        operation = _operation_id(month)
        try:
            # One read of the whole batch (its members, then their accounts) instead of reads per member.
            known_members = self._members.find_many(member_ids)
            known_states = self._ledger.snapshots(member_ids, operation_id=operation, transaction_id=operation)
        except Exception as error:
            if not final_receive:
                raise  # SQS delivers the batch again
            # The last delivery: the batch's members are failures of the run, so that the report ends and
            # says so, instead of staying "running" with the batch in the dead-letter queue.
            logger.exception("settlement batch could not be read", extra={"month": month, "batch": batch})
            for member_id in member_ids:
                store.record_failure(month, attempt, member_id, batch, type(error).__name__, _now(None))
            if store.finish_batch(month, attempt, batch):
                store.complete_if_done(month)
            return
        for member_id in member_ids:
            try:
                self.settle_member(
                    month, member_id, batch, member=known_members.get(member_id), known=known_states.get(member_id)
                )
            except (NotFound, ValueError) as error:  # the member cannot be settled however often we try
                store.record_failure(month, attempt, member_id, batch, type(error).__name__, _now(None))
            except Exception as error:
                if not final_receive:
                    raise  # SQS delivers the batch again; settled members are not settled twice
                logger.exception("settlement failed", extra={"month": month, "batch": batch})
                store.record_failure(month, attempt, member_id, batch, type(error).__name__, _now(None))
        if store.finish_batch(month, attempt, batch):
            store.complete_if_done(month)

    def settle_member(
        self,
        month: str,
        member_id: str,
        batch: str,
        *,
        now: datetime | None = None,
        member: Member | None = None,
        known: Snapshot | None = None,
    ) -> MemberSettled:
        """One member's settlement for `month`, once: a `phone_topup` member's available bonuses (capped by
        their monthly limit) become a top-up request, in one transaction with the ledger change and the
        member's settlement line. `member` and `known` are what the batch read for everyone at once.

        A repeat is caught by the ledger (the month's entry exists) or by the line (a skip is recorded once)."""
        now = _now(now)
        store = self._settlements
        member = member or self._members.find(member_id)
        if member is None:
            raise NotFound(f"member {member_id} has bonuses but no member record", code="member_not_found")
        if member.goal is Goal.SMARTPHONE:
            recorded = store.record_skip(month, member_id, batch, LineOutcome.SKIPPED_SMARTPHONE, now)
            return MemberSettled(LineOutcome.SKIPPED_SMARTPHONE if recorded else None)

        def attachments(decision: Decision) -> list[Attachment]:
            amount = decision.transaction.amount
            return [
                store.settled_line(month, member_id, batch, amount, now),
                self._outbox.enqueue(_top_up_message(month, member_id, member.phone, amount, now)),
            ]

        try:
            outcome = self._ledger.execute(
                member_id,
                _top_up(month, member_id, member.phone, member.monthly_writeoff_limit, now),
                attachments,
                known=known,
            )
        except Conflict:
            return MemberSettled(None)  # the line exists, or the batch was finished by another delivery
        if outcome.applied and outcome.transaction is not None:
            amount = outcome.transaction.amount
            logger.info("member settled", extra={"month": month, "phone": mask_phone(member.phone), "amount": amount})
            return MemberSettled(LineOutcome.SETTLED, amount)
        if outcome.transaction is not None:
            return MemberSettled(None)  # settled by an earlier delivery
        # Nothing to pay: everything was spent since the member was listed, or their monthly limit is 0.
        recorded = store.record_skip(month, member_id, batch, LineOutcome.SKIPPED_NOTHING, now)
        return MemberSettled(LineOutcome.SKIPPED_NOTHING if recorded else None)

    # --- billing's answers ----------------------------------------------------------------------------

    def confirm_top_up(self, top_up: str, *, at: datetime | None = None) -> AnswerOutcome:
        """Billing topped the phone up: recorded and counted once, and the member is told by SMS."""
        at = _now(at)
        requested = self._requested(top_up)
        if requested is None:
            return AnswerOutcome.UNKNOWN
        month, member_id, amount = requested
        store = self._settlements
        first = store.answer(month, member_id)
        if first is not None:
            return self._later_answer(month, member_id, first, TopUpAnswer.COMPLETED, None, at)
        attached = [store.answer_record(month, member_id, TopUpAnswer.COMPLETED, None, at)]
        member = self._members.find(member_id)
        if member is not None:
            sms = _top_up_sms(top_up, "topup_completed", member, {"amount": amount, "month": month}, at)
            attached.append(self._outbox.enqueue(sms))
        if store.record_answer(attached):
            logger.info("top-up confirmed", extra={"topup_id": top_up, "amount": amount})
            return AnswerOutcome.CONFIRMED
        return self._answered_meanwhile(month, member_id, TopUpAnswer.COMPLETED, None, at)

    def fail_top_up(self, top_up: str, reason: str, *, at: datetime | None = None) -> AnswerOutcome:
        """Billing refused the top-up: the month's settlement is given back to the member as available, with
        the reason, in one ledger operation with the answer, its count and the member's SMS; once."""
        at = _now(at)
        requested = self._requested(top_up)
        if requested is None:
            return AnswerOutcome.UNKNOWN
        month, member_id, _ = requested
        store = self._settlements
        first = store.answer(month, member_id)
        if first is not None:
            return self._later_answer(month, member_id, first, TopUpAnswer.FAILED, reason, at)
        member = self._members.find(member_id)

        def attachments(decision: Decision) -> list[Attachment]:
            attached = [store.answer_record(month, member_id, TopUpAnswer.FAILED, reason, at)]
            if member is not None:
                body = {"amount": decision.transaction.amount, "month": month, "reason": reason}
                attached.append(self._outbox.enqueue(_top_up_sms(top_up, "topup_failed", member, body, at)))
            return attached

        give_back = GiveBack(
            operation_id=f"topup-failed:{month}",
            transaction_id=_operation_id(month),
            reason=top_up_failed_reason(month, reason),
            at=at,
        )
        try:
            outcome = self._ledger.execute(member_id, give_back, attachments)
        except LedgerBusy:
            raise  # the event is delivered again
        except Conflict:  # another answer was recorded between our read and our write
            return self._answered_meanwhile(month, member_id, TopUpAnswer.FAILED, reason, at)
        if outcome.applied and outcome.transaction is not None:
            logger.info(
                "top-up failed, bonuses given back", extra={"topup_id": top_up, "amount": outcome.transaction.amount}
            )
            return AnswerOutcome.FAILED_AND_RETURNED
        return self._answered_meanwhile(month, member_id, TopUpAnswer.FAILED, reason, at)

    def _requested(self, top_up: str) -> tuple[str, str, int] | None:
        """(month, member id, amount) of a top-up this programme requested; None for any other id."""
        parsed = parse_topup_id(top_up)
        if parsed is None:
            return None
        month, member_id = parsed
        settled = self._ledger.transaction(member_id, _operation_id(month))
        if settled is None or settled.details.get("topup_id") != top_up:
            return None
        return month, member_id, settled.amount

    def _later_answer(
        self, month: str, member_id: str, first: RecordedAnswer, answer: TopUpAnswer, reason: str | None, at: datetime
    ) -> AnswerOutcome:
        outcome = answer_outcome(first, answer)
        if outcome is AnswerOutcome.CONFLICTING:
            self._settlements.note_contradiction(month, member_id, answer, reason, at)
            logger.warning(
                "billing contradicted its first answer about a top-up; the first stands",
                extra={"topup_id": topup_id(month, member_id), "first": first.answer.value, "then": answer.value},
            )
        return outcome

    def _answered_meanwhile(
        self, month: str, member_id: str, answer: TopUpAnswer, reason: str | None, at: datetime
    ) -> AnswerOutcome:
        first = self._settlements.answer(month, member_id)
        if first is None:
            # The settlement transaction cannot move (not a written-off top-up), and no answer explains it.
            settled = self._ledger.transaction(member_id, _operation_id(month))
            logger.error(
                "top-up answer changed nothing and no answer is recorded",
                extra={"topup_id": topup_id(month, member_id), "status": settled.status.value if settled else None},
            )
            return AnswerOutcome.UNKNOWN
        return self._later_answer(month, member_id, first, answer, reason, at)


def _top_up_sms(top_up: str, template: str, member: Member, fields: dict[str, Any], at: datetime) -> Message:
    # One message per top-up and answer: a repeated answer never texts the member twice.
    return Message(
        message_id=f"{template.replace('_', '-')}:{top_up}",
        kind=MessageKind.SMS,
        to=member.phone,
        body={"template": template, **fields, "locale": member.language.value},
        created_at=at,
    )


def _enumerate_message(month: str, attempt: int, shard: int, page: int) -> dict[str, Any]:
    return {"type": "enumerate", "month": month, "attempt": attempt, "shard": shard, "page": page}


# --- the worker ---------------------------------------------------------------------------------------


def _batch_count(members: int) -> int:
    return -(-members // MEMBERS_PER_BATCH)


@dataclass(frozen=True)
class MemberSettled:
    outcome: LineOutcome | None  # None: already settled this month (a repeat changed nothing)
    amount: int = 0


def _operation_id(month: str) -> str:
    return f"settlement:{month}"  # the month's one settlement of a member: its ledger operation and transaction


def _top_up(month: str, member_id: str, phone: str, limit: int | None, at: datetime) -> SpendUpTo:
    return SpendUpTo(
        operation_id=_operation_id(month),
        transaction_id=_operation_id(month),
        reason=f"Top-up of {phone} for {month}",
        at=at,
        kind=Kind.SETTLEMENT,
        limit=limit,
        source=Source("settlement", month),
        details={"month": month, "topup_id": topup_id(month, member_id)},
    )


def _top_up_message(month: str, member_id: str, phone: str, amount: int, at: datetime) -> Message:
    top_up = topup_id(month, member_id)
    return Message(
        message_id=top_up,
        kind=MessageKind.TOPUP_REQUESTED,
        to=phone,
        body={"topup_id": top_up, "phone": phone, "amount": amount, "month": month},
        created_at=at,
    )
