"""Settlement worker (SQS): enumerates pages of candidates and settles batches of members.

A message that fails is retried by SQS (partial batch response) and dead-lettered after its last
receive; the last receive records the members it could not settle as failures of the run.
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.platform.observability import logger, metrics

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    receives = int(record.attributes.approximate_receive_count or 1)
    container.settlement.handle_message(json.loads(record.body), receive_count=receives)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
