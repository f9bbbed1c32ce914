"""Reconciliation runs and each network's watermark, in the reconciliations table (the networks context's own):

- `RUN#<run_id>` / `RUN`: a run (its window, state, resume offset, counters and the first differences).
- `NETWORK#<network>` / `WATERMARK`: the `until` of the network's latest completed run, where the next daily
  run starts (less the overlap).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model

from cashback.networks.rules import Difference, Run, RunState
from cashback.platform import dynamodb as tables

RUN_SK = "RUN"
WATERMARK_SK = "WATERMARK"


class DifferenceAttribute(MapAttribute[str, str]):
    action_id = UnicodeAttribute()
    subid = UnicodeAttribute()
    reason = UnicodeAttribute()


class RunModel(Model):
    class Meta:
        table_name = "unbound-reconciliations"

    pk = UnicodeAttribute(hash_key=True)  # RUN#<run_id>
    sk = UnicodeAttribute(range_key=True)
    run_id = UnicodeAttribute()
    network = UnicodeAttribute()
    since = UTCDateTimeAttribute()
    until = UTCDateTimeAttribute()
    state = UnicodeAttribute()
    offset = NumberAttribute(default=0)
    actions_seen = NumberAttribute(default=0)
    applied = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    differences = ListAttribute(of=DifferenceAttribute, default=list)
    differences_total = NumberAttribute(default=0)
    started_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    error = UnicodeAttribute(default="")

    def run(self) -> Run:
        return Run(
            run_id=self.run_id,
            network=self.network,
            since=self.since,
            until=self.until,
            state=RunState(self.state),
            offset=int(self.offset),
            actions_seen=int(self.actions_seen),
            applied=int(self.applied),
            unchanged=int(self.unchanged),
            differences=tuple(Difference(d.action_id, d.subid, d.reason) for d in self.differences or ()),
            differences_total=int(self.differences_total),
            started_at=self.started_at,
            finished_at=self.finished_at,
            error=self.error or "",
        )


class WatermarkModel(Model):
    class Meta:
        table_name = "unbound-reconciliations"

    pk = UnicodeAttribute(hash_key=True)  # NETWORK#<network>
    sk = UnicodeAttribute(range_key=True)
    until = UTCDateTimeAttribute()
    run_id = UnicodeAttribute()


def _attribute(difference: Difference) -> DifferenceAttribute:
    return DifferenceAttribute(action_id=difference.action_id, subid=difference.subid, reason=difference.reason)


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _network_pk(network: str) -> str:
    return f"NETWORK#{network}"


class ReconciliationRepository:
    def __init__(self, table_name: str) -> None:
        tables.bind((RunModel, WatermarkModel), table_name)

    def run(self, run_id: str) -> Run | None:
        try:
            return RunModel.get(_run_pk(run_id), RUN_SK, consistent_read=True).run()
        except DoesNotExist:
            return None

    def create(self, run: Run) -> Run:
        """The run, created once; a repeated start (the scheduler's retry) gets the one that exists."""
        model = RunModel(
            _run_pk(run.run_id),
            RUN_SK,
            run_id=run.run_id,
            network=run.network,
            since=run.since,
            until=run.until,
            state=run.state.value,
            started_at=run.started_at,
        )
        try:
            model.save(condition=RunModel.pk.does_not_exist())
        except PutError:
            existing = self.run(run.run_id)
            assert existing is not None
            return existing
        return run

    def save_progress(self, before: Run, after: Run) -> None:
        """The run's counters and resume point after a page, on condition that no one moved it meanwhile: two
        runners of one run would count a page twice."""
        RunModel(_run_pk(after.run_id), RUN_SK).update(
            actions=[
                RunModel.state.set(after.state.value),
                RunModel.offset.set(after.offset),
                RunModel.actions_seen.set(after.actions_seen),
                RunModel.applied.set(after.applied),
                RunModel.unchanged.set(after.unchanged),
                RunModel.differences.set([_attribute(d) for d in after.differences]),
                RunModel.differences_total.set(after.differences_total),
                RunModel.error.set(after.error),
                *([RunModel.finished_at.set(after.finished_at)] if after.finished_at else []),
            ],
            condition=(RunModel.offset == before.offset) & (RunModel.actions_seen == before.actions_seen),
        )

    def watermark(self, network: str) -> datetime | None:
        try:
            return WatermarkModel.get(_network_pk(network), WATERMARK_SK, consistent_read=True).until
        except DoesNotExist:
            return None

    def move_watermark(self, network: str, until: datetime, run_id: str) -> None:
        """Forward only: a run an operator started over an older window leaves the daily runs' start alone."""
        try:
            WatermarkModel(_network_pk(network), WATERMARK_SK).update(
                actions=[WatermarkModel.until.set(until), WatermarkModel.run_id.set(run_id)],
                condition=WatermarkModel.until.does_not_exist() | (WatermarkModel.until < until),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
