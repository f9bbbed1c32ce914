"""Partner postbacks: one endpoint per network, authenticated per network, answered 200 for repeats
and for postbacks kept for support, so that networks stop retrying."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from cashback.bootstrap import Container
from cashback.platform.errors import TooLarge
from cashback.platform.observability import logger, metrics
from cashback.platform.web.body import body_text
from cashback.platform.web.resolver import make_resolver
from cashback.postbacks.networks import PostbackRequest

app = make_resolver()
# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
# Postbacks are small; anything larger is not one, and is refused before it is parsed.
MAX_BODY_BYTES = 16 * 1024


class PostbackReceipt(BaseModel):
    outcome: str = Field(description="applied, unchanged (a repeat), or kept_for_support")
    conversion: str
    status: str | None = Field(description="The member's transaction status after this postback")


def _request() -> PostbackRequest:
    event = app.current_event
    body = body_text(event, errors="replace")  # as the network sent it: its adapter checks and parses it
    if len(body.encode()) > MAX_BODY_BYTES:
        raise TooLarge("a postback is at most 16 KB")
    return PostbackRequest(
        method=event.request_context.http.method,
        query=dict(event.query_string_parameters or {}),
        headers={k.lower(): v for k, v in (event.headers or {}).items()},
        body=body,
    )


@app.route("/postbacks/<network>", method=["GET", "POST"], summary="A partner network's postback", tags=["postbacks"])
def postback(network: str) -> PostbackReceipt:
    receipt = container.postbacks.receive(network, _request())
    metrics.add_dimension(name="network", value=network)
    metrics.add_metric(name=f"Postbacks_{receipt.outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info("postback", extra={"network": network, "outcome": receipt.outcome.value, "status": receipt.status})
    return PostbackReceipt(outcome=receipt.outcome.value, conversion=receipt.conversion, status=receipt.status)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
