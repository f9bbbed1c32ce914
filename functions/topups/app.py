"""Billing's answers about top-ups (EventBridge, the operator's bus): a confirmation is counted, a refusal
gives the member's bonuses back; each once, the first answer standing.

An event that cannot be read, or that names no top-up of ours, can never succeed: it is logged and
counted, and the invocation succeeds, so that neither Lambda nor the rule retries it for a day. What may
pass on a retry (DynamoDB throttled, the account too busy) raises, for Lambda's retries and then the
on-failure destination.
"""

import re
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from cashback.bootstrap import Container
from cashback.platform.observability import logger, metrics
from cashback.settlement.rules import AnswerOutcome
from cashback.settlement.schemas import TopUpFailedEvent, top_up_answer_event

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        answer = top_up_answer_event.validate_python(event)
    except ValidationError as error:
        # Where and why only: the values may hold a phone number.
        problems = [{"at": ".".join(map(str, e["loc"])), "type": e["type"]} for e in error.errors()]
        event_id = event.get("id") if isinstance(event, dict) else None
        logger.error("unreadable top-up answer dropped", extra={"event_id": event_id, "problems": problems})
        metrics.add_metric(name="TopUpAnswers_malformed", unit=MetricUnit.Count, value=1)
        return {"outcome": "malformed"}
    top_up = answer.detail.topup_id
    if isinstance(answer, TopUpFailedEvent):
        outcome = container.settlement.fail_top_up(top_up, answer.detail.reason, at=answer.time)
    else:
        outcome = container.settlement.confirm_top_up(top_up, at=answer.time)
    metrics.add_metric(name=f"TopUpAnswers_{outcome.value}", unit=MetricUnit.Count, value=1)
    logged = _masked(top_up) if outcome is AnswerOutcome.UNKNOWN else top_up
    logger.info("top-up answer", extra={"topup_id": logged, "answer": answer.detail_type, "outcome": outcome.value})
    return {"outcome": outcome.value}


def _masked(text: str) -> str:
    # An id that is not ours may be anything billing had, a phone number among them: digits are hidden.
    return re.sub(r"\d(?=\d\d)", "*", text[:80])
