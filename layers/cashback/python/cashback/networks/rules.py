"""The daily reconciliation's rules: what a network's action says as a postback, which window a run pulls,
and how a run's report grows. Pure: the repository keeps runs, the service moves them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cashback.networks.actions import NetworkAction
from cashback.platform.errors import InvalidInput, NotFound
from cashback.postbacks.rules import Postback, PostbackStatus

KNOWN_NETWORKS = frozenset({"admitad"})
# A network may record a status change a while after its own timestamp says it happened: each run pulls
# again the last day of the run before, so that such late updates are not skipped.
OVERLAP = timedelta(days=1)
# The first run of a network has no watermark: it looks back over the longest accrual period a partner has.
FIRST_LOOKBACK = timedelta(days=90)
# A report stays one DynamoDB item (400 KB): the first differences are kept, the rest only counted.
MAX_DIFFERENCES = 1000

_STATUSES = {
    "pending": PostbackStatus.PENDING,
    "approved": PostbackStatus.APPROVED,
    # Approved by the store, the network's payout to us merely held back: the member's purchase is confirmed.
    "approved_but_stalled": PostbackStatus.APPROVED,
    "declined": PostbackStatus.DECLINED,
}


class UnknownStatus(ValueError):
    pass


def postback_of(network: str, action: NetworkAction) -> Postback:
    """The action as the convergence path takes a postback: the network's time of this state orders it
    among the postbacks and earlier pulls of the same conversion."""
    status = _STATUSES.get(action.status.lower())
    if status is None:
        raise UnknownStatus(f"status {action.status!r}")
    return Postback(
        network=network,
        conversion_id=action.action_id,
        click_id=action.subid,
        order_id=action.order_id,
        amount=action.order_sum,
        currency=action.currency.upper(),
        status=status,
        occurred_at=action.status_updated,
        reason=action.comment,
        raw=raw_of(action),
        commission=action.payment_sum,
        tariff=action.tariff_id,
    )


def raw_of(action: NetworkAction) -> dict[str, str]:
    """The action's fields as text, kept with the conversion or the orphan for support."""
    raw = {
        "action_id": action.action_id,
        "subid": action.subid,
        "status": action.status,
        "order_id": action.order_id,
        "order_sum": str(action.order_sum),
        "currency": action.currency,
        "action_date": action.action_date.isoformat(),
        "status_updated": action.status_updated.isoformat(),
    }
    if action.payment_sum is not None:
        raw["payment_sum"] = str(action.payment_sum)
    if action.tariff_id is not None:
        raw["tariff_id"] = action.tariff_id
    if action.comment:
        raw["comment"] = action.comment
    return raw


class RunState(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class Difference:
    """An action the programme could not apply, for support."""

    action_id: str
    subid: str
    reason: str


@dataclass(frozen=True)
class Run:
    run_id: str
    network: str
    since: datetime
    until: datetime
    state: RunState = RunState.RUNNING
    offset: int = 0  # where the next page starts: a resumed run reads from here
    actions_seen: int = 0
    applied: int = 0
    unchanged: int = 0
    differences: tuple[Difference, ...] = ()
    differences_total: int = 0  # past MAX_DIFFERENCES only counted
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str = ""


@dataclass
class PageTally:
    """What one page of actions did."""

    applied: int = 0
    unchanged: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.applied + self.unchanged + len(self.differences)


def after_page(run: Run, tally: PageTally, next_offset: int | None) -> Run:
    room = max(0, MAX_DIFFERENCES - len(run.differences))
    return replace(
        run,
        offset=run.offset if next_offset is None else next_offset,
        actions_seen=run.actions_seen + tally.seen,
        applied=run.applied + tally.applied,
        unchanged=run.unchanged + tally.unchanged,
        differences=run.differences + tuple(tally.differences[:room]),
        differences_total=run.differences_total + len(tally.differences),
    )


def check_network(network: str) -> str:
    if network not in KNOWN_NETWORKS:
        raise NotFound(f"there is no network {network!r}", code="unknown_network")
    return network


def window(since: datetime | None, watermark: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """What a run pulls: from the operator's `since`, or the last completed pull less the overlap, up to now."""
    if since is None:
        since = (watermark - OVERLAP) if watermark is not None else now - FIRST_LOOKBACK
    elif since.tzinfo is None:
        raise InvalidInput("since needs a UTC offset", code="invalid_since")
    if since >= now:
        raise InvalidInput("since must be in the past", code="invalid_since")
    return since.astimezone(UTC), now


def run_id_of(network: str, at: datetime) -> str:
    """A run named by its network and time: the scheduler's retries of one invocation carry the same
    scheduled time, so they resume one run instead of starting another."""
    return f"{network}-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
