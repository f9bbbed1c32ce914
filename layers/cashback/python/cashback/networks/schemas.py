from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cashback.networks.rules import Run, RunState


class ReconciliationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: str = Field(description='The network whose statistics to pull ("admitad").')
    since: AwareDatetime | None = Field(
        default=None, description="Pull actions updated since this time; by default the last pull, less a day."
    )


class RunStarted(BaseModel):
    run_id: str


class DifferenceOut(BaseModel):
    action_id: str
    subid: str
    reason: str


class ReconciliationOut(BaseModel):
    run_id: str
    network: str
    state: RunState
    since: datetime
    until: datetime
    actions_seen: int
    applied: int
    unchanged: int
    differences: list[DifferenceOut] = Field(description="What could not be applied (the first 1,000), for support.")
    differences_total: int = Field(description="All the differences, including those past the first 1,000.")

    @classmethod
    def of(cls, run: Run) -> ReconciliationOut:
        return cls(
            run_id=run.run_id,
            network=run.network,
            state=run.state,
            since=run.since,
            until=run.until,
            actions_seen=run.actions_seen,
            applied=run.applied,
            unchanged=run.unchanged,
            differences=[DifferenceOut(action_id=d.action_id, subid=d.subid, reason=d.reason) for d in run.differences],
            differences_total=run.differences_total,
        )
