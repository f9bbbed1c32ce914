from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cashback.settlement.rules import Report, RunState


class SettlementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: str = Field(description='"YYYY-MM", or "auto" for the month that has just ended (Moscow time).')


class SettlementOut(BaseModel):
    month: str
    state: RunState
    members_settled: int
    bonuses_paid: int
    skipped: int
    failures: int
    batches_sent: int = Field(description="Batches of members handed to the workers so far (this attempt).")
    batches_done: int

    @classmethod
    def of(cls, report: Report) -> SettlementOut:
        return cls(
            month=report.month,
            state=report.state,
            members_settled=report.members_settled,
            bonuses_paid=report.bonuses_paid,
            skipped=report.skipped,
            failures=report.failures,
            batches_sent=report.batches_sent,
            batches_done=report.batches_done,
        )
