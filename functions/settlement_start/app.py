"""Monthly settlement: started by the schedule (00:00 Moscow on the 1st) or by an operator, and reported.

The schedules' payloads are their fixed Inputs: `{"month": "auto"}` starts the month that has just ended;
`{"month": "auto", "check": "completed"}` (06:00 on the 1st) reports whether it has completed, as the metric
SettlementNotCompleted that an alarm watches. API Gateway's events go to the routes.
"""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.platform.observability import logger, metrics
from cashback.platform.web.identity import admin_identity
from cashback.platform.web.resolver import make_resolver
from cashback.settlement.schemas import SettlementOut, SettlementRequest

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
app = make_resolver(operators=container.settings)


def _actor() -> str:
    """The admin caller, kept with what they do (anyone else was refused before the route ran)."""
    return admin_identity(app.current_event, container.settings.admin_caller_role)


def _start(month: str) -> SettlementOut:
    report = container.settlement.start_settlement(month)
    metrics.add_metric(name="SettlementStarts", unit=MetricUnit.Count, value=1)
    return SettlementOut.of(report)


@app.post("/admin/settlements", summary="Start, or resume, the settlement of a month", tags=["administration"])
def start(request: Annotated[SettlementRequest, Body()]) -> tuple[SettlementOut, int]:
    logger.info("settlement requested", extra={"by": _actor(), "month": request.month})
    return _start(request.month), HTTPStatus.ACCEPTED


@app.get("/admin/settlements/<month>", summary="A month's settlement report", tags=["administration"])
def report(month: Annotated[str, Path(pattern=r"^\d{4}-\d{2}$")]) -> SettlementOut:
    _actor()
    return SettlementOut.of(container.settlement.report(month))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "requestContext" in event:
        return app.resolve(event, context)
    # EventBridge Scheduler delivers the target's Input as the whole event.
    if event.get("check") == "completed":
        return _check_completed(str(event.get("month", "auto")))
    return _start(str(event.get("month", "auto"))).model_dump(mode="json")


def _check_completed(month: str) -> dict[str, Any]:
    month, completed = container.settlement.completed_run(month)
    metrics.add_metric(name="SettlementNotCompleted", unit=MetricUnit.Count, value=0 if completed else 1)
    if completed is None:
        logger.error("settlement not completed in time", extra={"month": month})
    return {"month": month, "completed": completed is not None}
