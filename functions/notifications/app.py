"""Sends the outbox's SMS and emails (DynamoDB stream of the outbox, NEW_IMAGE), at least once and never
twice for one message id; codes are derived at send time, never read from the outbox."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.outbox.repository import Claim, message_from_image
from cashback.platform.observability import logger, metrics

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failed: list[str] = []
    sent = 0
    for record in event.get("Records", []):
        change = record["dynamodb"]
        message = message_from_image(change.get("NewImage") or {}) if record.get("eventName") == "INSERT" else None
        if message is None:
            continue
        # Ids and templates only: a message's recipient and text (a code) never reach the logs.
        where = {"message_id": message.message_id, "channel": message.kind.value}
        try:
            claim = container.notifications.deliver(message)
        except Exception as error:
            # The type and the provider's error code only: a provider's message may quote the number.
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            logger.error("message not sent", extra={**where, "error": type(error).__name__, "code": code})
            failed.append(change["SequenceNumber"])
            continue
        if claim is Claim.HELD:
            logger.warning("message being sent by another invocation; retried after its lease", extra=where)
            failed.append(change["SequenceNumber"])
        elif claim is Claim.CLAIMED:
            sent += 1
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=sent)
    if failed:
        metrics.add_metric(name="MessagesNotSent", unit=MetricUnit.Count, value=len(failed))
    # ReportBatchItemFailures: the stream retries from the first failed record on; sent ones are not sent again.
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
