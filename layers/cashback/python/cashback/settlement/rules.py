"""Monthly settlement's rules: which month, how members are spread over shards and batches, what is paid.

Members with something to settle carry a candidate record in one of `SHARDS` shards (a hash of the
member id, so that no key is hot). A run enumerates each shard a page at a time; a page becomes up to
`BATCHES_PER_PAGE` queue messages of `MEMBERS_PER_BATCH` members each.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from cashback.ledger.calendar import MOSCOW
from cashback.ledger.money import Bonus
from cashback.platform.errors import InvalidInput

SHARDS = 16
MEMBERS_PER_BATCH = 50
BATCHES_PER_PAGE = 10  # one SendMessageBatch call per page
PAGE_SIZE = MEMBERS_PER_BATCH * BATCHES_PER_PAGE
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class RunState(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class LineOutcome(StrEnum):
    SETTLED = "settled"
    SKIPPED_SMARTPHONE = "skipped_smartphone"
    SKIPPED_NOTHING = "skipped_nothing"


@dataclass(frozen=True)
class Report:
    month: str
    state: RunState
    members_settled: int
    bonuses_paid: Bonus
    skipped: int
    failures: int
    batches_sent: int = 0
    batches_done: int = 0
    attempt: int = 1
    topups_confirmed: int = 0
    topups_failed: int = 0


@dataclass(frozen=True)
class ShardCursor:
    """How far a shard's enumeration got: the next page to read and where it starts (`after`)."""

    page: int
    after: str | None
    done: bool
    # The members of the page read last (page - 1), kept so that a repeat sends exactly the same batches.
    last_page: tuple[str, ...] = ()


def shard_of(member_id: str) -> int:
    return int.from_bytes(hashlib.sha256(member_id.encode()).digest()[:4], "big") % SHARDS


def month_just_ended(now: datetime) -> str:
    """The Moscow month before `now`'s: at 00:00 Moscow on the 1st it is the month that ended that instant."""
    first = now.astimezone(MOSCOW).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def check_month(month: str, now: datetime) -> str:
    """ "YYYY-MM", or "auto": the month that has just ended in Moscow (the schedule fires at 00:00 on the 1st).
    Only that month can be settled (started, or resumed after a failure): the current one is not over (its last
    days' accruals would wait for the run after next), and an older one was settled, or skipped, in its turn;
    settling it now would pay each member's monthly cap once more."""
    just_ended = month_just_ended(now)
    if month == "auto":
        return just_ended
    found = _MONTH.match(month or "")
    try:
        first_day = date(int(found.group(1)), int(found.group(2)), 1) if found else None
    except ValueError:  # year 0000
        first_day = None
    if first_day is None:
        raise InvalidInput('month is "YYYY-MM"', code="invalid_month")
    if month != just_ended:
        raise InvalidInput(f"only the month that has just ended, {just_ended}, can be settled", code="invalid_month")
    return month


def batch_id(attempt: int, shard: int, page: int, index: int) -> str:
    return f"a{attempt}-s{shard:02d}-p{page:06d}-b{index}"


def topup_id(month: str, member_id: str) -> str:
    return f"topup:{month}:{member_id}"


_TOPUP_ID = re.compile(r"^topup:(\d{4}-(?:0[1-9]|1[0-2])):([A-Za-z0-9_.:@+-]{1,128})$")


def parse_topup_id(text: str) -> tuple[str, str] | None:
    """(month, member id) of a top-up id this programme made (`topup_id`); None for anything else."""
    found = _TOPUP_ID.match(text)
    return (found.group(1), found.group(2)) if found else None


class TopUpAnswer(StrEnum):
    """What the billing system said about a top-up."""

    COMPLETED = "completed"
    FAILED = "failed"


class AnswerOutcome(StrEnum):
    CONFIRMED = "confirmed"
    FAILED_AND_RETURNED = "failed_and_returned"
    REPEAT = "repeat"  # the same answer again: nothing changed
    CONFLICTING = "conflicting"  # contradicts the first answer, which stands: recorded for support, no money moved
    UNKNOWN = "unknown"  # not a top-up this programme requested


@dataclass(frozen=True)
class RecordedAnswer:
    answer: TopUpAnswer
    reason: str | None
    at: datetime


def answer_outcome(first: RecordedAnswer, answer: TopUpAnswer) -> AnswerOutcome:
    """A later answer about a top-up already answered: billing's first word stands."""
    return AnswerOutcome.REPEAT if first.answer is answer else AnswerOutcome.CONFLICTING


def top_up_failed_reason(month: str, reason: str) -> str:
    return f"Top-up for {month} refused by billing: {reason}"


def final_state(failures: int) -> RunState:
    return RunState.COMPLETED if failures == 0 else RunState.FAILED
