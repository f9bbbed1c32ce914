"""Relays new outbox messages (DynamoDB stream) to the EventBridge bus: top-ups, SMS and emails."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.outbox.relay import outbound_event
from cashback.platform.observability import logger, metrics

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    events = []
    for record in event.get("Records", []):
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            continue
        change = record["dynamodb"]
        outbound = outbound_event(change["SequenceNumber"], change.get("NewImage") or {}, container.publisher.bus_name)
        if outbound is not None:
            events.append(outbound)
    failed = container.publisher.publish(events) if events else []
    metrics.add_metric(name="OutboxRelayed", unit=MetricUnit.Count, value=len(events) - len(failed))
    if failed:
        logger.warning("events refused by the bus", extra={"count": len(failed)})
    # ReportBatchItemFailures: the stream retries from the first failed record on.
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
