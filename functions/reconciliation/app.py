"""The networks' function: the daily reconciliation with a network, started by the schedule (03:00 Moscow)
or by an operator, and reported; and the lost orders support filed with the network, followed by a schedule
(`{"task": "lost_orders"}`) until the network answers.

The schedule's payload is its Input, `{"network": "admitad", "scheduled_time": "<aws.scheduler.scheduled-time>"}`:
the scheduler puts the invocation's scheduled time in, the same on each of its retries, and that time names
the run, so a retry resumes the run instead of starting another. An operator's start runs here and now,
within the function's timeout; a run that fails is reported as failed and resumes on the next start.
"""

from dataclasses import asdict
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.networks.rules import Run
from cashback.networks.schemas import ReconciliationOut, ReconciliationRequest, RunStarted
from cashback.platform.observability import logger, metrics
from cashback.platform.web.identity import admin_identity
from cashback.platform.web.resolver import make_resolver

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
app = make_resolver(operators=container.settings)


def _actor() -> str:
    """The admin caller, kept with what they do (anyone else was refused before the route ran)."""
    return admin_identity(app.current_event, container.settings.admin_caller_role)


def _count(run: Run) -> None:
    metrics.add_metric(name="ReconciliationActionsApplied", unit=MetricUnit.Count, value=run.applied)
    metrics.add_metric(name="ReconciliationDifferences", unit=MetricUnit.Count, value=run.differences_total)


@app.post(
    "/admin/reconciliations", summary="Pull a network's statistics, apply what was missed", tags=["administration"]
)
def start(request: Annotated[ReconciliationRequest, Body()]) -> tuple[RunStarted, int]:
    logger.info("reconciliation requested", extra={"by": _actor(), "network": request.network})
    run = container.reconciliation.start(request.network, request.since)
    try:
        _count(container.reconciliation.run(run.run_id))
    except Exception:
        # The run is saved as failed with its error and resumes where it stopped on its next start; the
        # operator reads that in its report.
        logger.exception("reconciliation failed", extra={"run_id": run.run_id})
    return RunStarted(run_id=run.run_id), HTTPStatus.ACCEPTED


@app.get("/admin/reconciliations/<run_id>", summary="A reconciliation run's report", tags=["administration"])
def report(run_id: Annotated[str, Path(max_length=100)]) -> ReconciliationOut:
    _actor()
    return ReconciliationOut.of(container.reconciliation.report(run_id))


def _scheduled_time(event: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(event.get("scheduled_time")))
    except ValueError:
        return None  # no time put in (a local run of the schedule): this invocation names its own run


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "requestContext" in event:
        return app.resolve(event, context)
    # EventBridge Scheduler delivers the target's Input as the whole event. A failure is raised, so that
    # Lambda retries it and, past the retries, its on-failure destination keeps it (alarmed).
    if event.get("task") == "lost_orders":
        followed = container.lost_orders.follow()
        metrics.add_metric(name="LostOrdersAccepted", unit=MetricUnit.Count, value=followed.accepted)
        metrics.add_metric(name="LostOrdersRejected", unit=MetricUnit.Count, value=followed.rejected)
        return asdict(followed)
    run = container.reconciliation.reconcile(str(event.get("network", "admitad")), now=_scheduled_time(event))
    _count(run)
    return ReconciliationOut.of(run).model_dump(mode="json")
