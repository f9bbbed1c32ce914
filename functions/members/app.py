"""Members: enrolment and the member's own record."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.api.members import EnrolRequest, MemberOut
from cashback.observability import logger, metrics, tracer
from cashback.service import members
from cashback.web.identity import member_identity
from cashback.web.resolver import make_resolver

app = make_resolver()


@app.post("/members", summary="Enrol the caller", tags=["members"])
@tracer.capture_method
def enrol(request: Annotated[EnrolRequest | None, Body()] = None) -> tuple[MemberOut, int]:
    request = request or EnrolRequest()
    member, created = members.enrol(member_identity(app.current_event), request.email)
    if created:
        metrics.add_metric(name="MembersEnrolled", unit=MetricUnit.Count, value=1)
    return MemberOut.of(member), HTTPStatus.CREATED if created else HTTPStatus.OK


@app.get("/members/me", summary="The caller's member record", tags=["members"])
@tracer.capture_method
def me() -> MemberOut:
    return MemberOut.of(members.me(member_identity(app.current_event)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
