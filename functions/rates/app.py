"""The daily fetch of the Central Bank of Russia's official rates, which price postbacks in other currencies.
Started by its schedule; the event's content is not used: the job stores the rates of today in Moscow
(the CBR's calendar). Storing a day again writes the same items, so a retry is harmless."""

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.ledger.calendar import MOSCOW
from cashback.platform.observability import logger, metrics

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    today = datetime.now(UTC).astimezone(MOSCOW).date()
    refreshed = container.rates.refresh(today)
    metrics.add_metric(name="RatesStored", unit=MetricUnit.Count, value=refreshed.stored)
    logger.info("official rates stored", extra=asdict(refreshed))
    return asdict(refreshed)
