"""The daily job of the operator's store payments: their cashback, pending through the 14-day return
window, becomes available once the window has passed. Started by its schedule; the scheduled event's
content is not used: the job reads the clock, and catches up the days a missed run left."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.platform.observability import logger, metrics

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


class MaturityIncomplete(RuntimeError):
    """Some payments could not be accrued: failing the invocation lets Lambda retry it (idempotent)."""


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = container.payments.mature()
    for name, count in asdict(report).items():
        metrics.add_metric(name=f"PaymentsMatured_{name}", unit=MetricUnit.Count, value=count)
    logger.info("store payments matured", extra=asdict(report))
    if report.failed:
        raise MaturityIncomplete(f"{report.failed} payments left pending; the retry or the next run takes them")
    return asdict(report)
