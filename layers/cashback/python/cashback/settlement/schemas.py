from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

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
    topups_confirmed: int = Field(description="Top-ups the billing system has confirmed so far.")
    topups_failed: int = Field(
        description="Top-ups the billing system refused so far; their bonuses were given back to the members."
    )

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
            topups_confirmed=report.topups_confirmed,
            topups_failed=report.topups_failed,
        )


# --- billing's answers on the operator's bus (API.md, Events) ------------------------------------------


class TopUpCompleted(BaseModel):
    topup_id: str = Field(min_length=1, max_length=256)


class TopUpFailed(TopUpCompleted):
    reason: str = Field(min_length=1, max_length=500, description="Why billing refused: a number ported away, ...")


class _BusEvent(BaseModel):
    """The part of EventBridge's envelope used here (powertools' EventBridgeModel would bring its whole parser
    package into the settlement functions' cold start)."""

    id: str
    time: AwareDatetime


class TopUpCompletedEvent(_BusEvent):
    detail_type: Literal["TopUpCompleted"] = Field(alias="detail-type")
    detail: TopUpCompleted


class TopUpFailedEvent(_BusEvent):
    detail_type: Literal["TopUpFailed"] = Field(alias="detail-type")
    detail: TopUpFailed


TopUpAnswerEvent = Annotated[TopUpCompletedEvent | TopUpFailedEvent, Field(discriminator="detail_type")]
top_up_answer_event: TypeAdapter[TopUpCompletedEvent | TopUpFailedEvent] = TypeAdapter(TopUpAnswerEvent)
