"""The daily reconciliation: pull a network's statistics of actions updated in a window, page by page, and
bring each conversion to the network's word through the postbacks' one convergence path.

A run saves its resume point and counters after each page. A crash resumes at the page it was on: the
actions of that page already applied are applied again, which the convergence path makes a no-op (each
notification is recorded by its fingerprint), so nothing is paid twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from cashback.networks.actions import ActionStatistics, NetworkAction
from cashback.networks.rules import (
    Difference,
    PageTally,
    Run,
    RunState,
    UnknownStatus,
    after_page,
    check_network,
    postback_of,
    run_id_of,
    window,
)
from cashback.platform.errors import NotFound
from cashback.postbacks.pricing import over_ceiling
from cashback.postbacks.rules import MAX_TIME_AHEAD, Postback
from cashback.postbacks.service import Outcome, Receipt

PAGE_SIZE = 500


class Conversions(Protocol):
    def apply(self, postback: Postback, *, received_at: datetime | None = None) -> Receipt: ...


class Runs(Protocol):
    def run(self, run_id: str) -> Run | None: ...

    def create(self, run: Run) -> Run: ...

    def save_progress(self, before: Run, after: Run) -> None: ...

    def watermark(self, network: str) -> datetime | None: ...

    def move_watermark(self, network: str, until: datetime, run_id: str) -> None: ...


class ReconciliationService:
    def __init__(
        self,
        runs: Runs,
        *,
        statistics: Callable[[str], ActionStatistics],
        conversions: Conversions,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._runs = runs
        self._statistics = statistics  # the network's client, built on the first run that needs it
        self._conversions = conversions
        self._page_size = page_size

    def start(self, network: str, since: datetime | None = None, *, now: datetime | None = None) -> Run:
        """The run of `network` named by `now` (the schedule's time): created once, so that a retried
        invocation finds the same run and resumes it."""
        check_network(network)
        now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        existing = self._runs.run(run_id_of(network, now))
        if existing is not None:
            return existing
        begin, until = window(since, self._runs.watermark(network), now)
        return self._runs.create(Run(run_id_of(network, now), network, begin, until, started_at=now))

    def reconcile(self, network: str, since: datetime | None = None, *, now: datetime | None = None) -> Run:
        return self.run(self.start(network, since, now=now).run_id)

    def run(self, run_id: str, *, now: datetime | None = None) -> Run:
        """Pages through the run's window from its resume point to the end, then moves the watermark. A
        completed run is left as it is; a failed one resumes."""
        run = self.report(run_id)
        if run.state is RunState.COMPLETED:
            return run
        while True:
            try:
                statistics = self._statistics(run.network)
                page = statistics.actions_updated(run.since, run.until, offset=run.offset, limit=self._page_size)
                tally = self._apply_all(run.network, page.actions, now)
            except Exception as error:
                failed = replace(run, state=RunState.FAILED, error=f"{type(error).__name__}: {error}"[:500])
                self._runs.save_progress(run, failed)
                raise
            moved = after_page(replace(run, state=RunState.RUNNING, error=""), tally, page.next_offset)
            if page.next_offset is None:
                moved = replace(moved, state=RunState.COMPLETED, finished_at=_now(now))
            self._runs.save_progress(run, moved)
            run = moved
            if run.state is RunState.COMPLETED:
                self._runs.move_watermark(run.network, run.until, run.run_id)
                return run

    def report(self, run_id: str) -> Run:
        run = self._runs.run(run_id)
        if run is None:
            raise NotFound(f"there is no reconciliation run {run_id!r}", code="run_not_found")
        return run

    def _apply_all(self, network: str, actions: list[NetworkAction], now: datetime | None) -> PageTally:
        tally = PageTally()
        for action in actions:
            received_at = _now(now)
            postback, reason = _postback(network, action, received_at)
            if postback is not None:
                receipt = self._conversions.apply(postback, received_at=received_at)
                outcome = receipt.outcome
                if outcome is Outcome.APPLIED:
                    tally.applied += 1
                    continue
                if outcome is Outcome.UNCHANGED:
                    tally.unchanged += 1
                    continue
                # Kept as an orphan in support's queue too, with the same reason.
                reason = receipt.kept_because or "kept for support"
            tally.differences.append(Difference(action.action_id, action.subid, reason))
        return tally


def _postback(network: str, action: NetworkAction, now: datetime) -> tuple[Postback | None, str]:
    """The action as a postback, or why it is kept off the convergence path: the postbacks' own checks at
    their door (a status it cannot read, a time not yet come, an amount past the sanity ceiling)."""
    try:
        postback = postback_of(network, action)
    except UnknownStatus:
        return None, f"unknown status {action.status!r}"
    if postback.occurred_at > now + MAX_TIME_AHEAD:
        return None, "status_updated is in the future"
    if over_ceiling(postback):  # invariant 10: never credited
        return None, "over_ceiling"
    return postback, ""


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)
