"""Clicks: the redirect to a partner's store that records the member's click. The platform's hot path.

Lambda's active tracing (Tracing: Active) times each redirect in the function's own trace segment.
"""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.clicks.schemas import ClickOut, ClickRequest
from cashback.platform.web.identity import member_identity
from cashback.platform.web.resolver import make_resolver

app = make_resolver()
# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
logger = Logger()
metrics = Metrics()


def _user_agent() -> str:
    return app.current_event.request_context.http.user_agent or ""


@app.get(
    "/go/<partner_id>",
    summary="Record a click and go to the partner's store",
    description="302 to the partner's tracking link carrying the click id; a missing, forged or expired "
    "link token answers 302 to sign-in; an unknown partner 404.",
    responses={302: {"description": "To the partner's store, or to sign-in"}},
    tags=["clicks"],
)
def go(
    partner_id: str, t: Annotated[str | None, Query(description="The link token from go_url")] = None
) -> Response[str]:
    redirect = container.clicks.follow_link(partner_id, t, user_agent=_user_agent())
    if redirect.refused:
        metrics.add_metric(name="RedirectsRefused", unit=MetricUnit.Count, value=1)
        logger.info("link refused", extra={"partner_id": partner_id, "reason": redirect.refused})
    else:
        metrics.add_metric(name="Clicks", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.FOUND, headers={"Location": redirect.location, "Cache-Control": "no-store"}, body=""
    )


@app.post("/clicks", summary="Record a click for a client that opens the store itself", tags=["clicks"])
def click(request: Annotated[ClickRequest, Body()]) -> tuple[ClickOut, int]:
    member = member_identity(app.current_event)
    redirect = container.clicks.record_click(member.sub, request.partner_id, user_agent=_user_agent())
    assert redirect.click is not None  # a member's own click is never refused
    metrics.add_metric(name="Clicks", unit=MetricUnit.Count, value=1)
    return ClickOut(click_id=redirect.click.click_id, redirect_url=redirect.location), HTTPStatus.CREATED


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
