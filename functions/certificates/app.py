"""Smartphone certificates: members buy and list them; store terminals redeem them."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.certificates.schemas import (
    CertificateOut,
    CertificatePage,
    CertificateRequest,
    CodeSmsSent,
    RedeemRequest,
    RedemptionOut,
)
from cashback.platform.observability import logger, metrics
from cashback.platform.web.identity import member_identity, terminal_identity
from cashback.platform.web.resolver import make_resolver

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
app = make_resolver(operators=container.settings)


@app.post("/certificates", summary="Buy a smartphone certificate with bonuses", tags=["certificates"])
def issue_certificate(
    request: Annotated[CertificateRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> tuple[CertificateOut, int]:
    issued = container.certificates.issue_certificate(
        member_identity(app.current_event).sub, request.denomination, idempotency_key
    )
    if issued.created:
        metrics.add_metric(name="CertificatesIssued", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="CertificateBonusesSpent", unit=MetricUnit.Count, value=issued.certificate.denomination)
    return CertificateOut.of(issued.certificate, issued.code), HTTPStatus.CREATED


@app.get("/certificates", summary="The caller's certificates, codes masked", tags=["certificates"])
def list_certificates(
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> CertificatePage:
    page = container.certificates.list_certificates(member_identity(app.current_event).sub, limit=limit, cursor=cursor)
    return CertificatePage(items=[CertificateOut.of(c) for c in page.items], next_cursor=page.next_cursor)


@app.post(
    "/certificates/<certificate_id>/sms",
    summary="Send the certificate's code by SMS again (at most one a minute, five a day)",
    tags=["certificates"],
)
def resend_code(certificate_id: Annotated[str, Path(min_length=1, max_length=64)]) -> tuple[CodeSmsSent, int]:
    sent = container.certificates.resend_code(member_identity(app.current_event).sub, certificate_id)
    metrics.add_metric(name="CertificateCodesResent", unit=MetricUnit.Count, value=1)
    return CodeSmsSent(certificate_id=sent.certificate_id, sent_to=sent.sent_to), HTTPStatus.ACCEPTED


@app.post("/certificates/redeem", summary="Redeem a certificate at a store terminal", tags=["certificates"])
def redeem_certificate(request: Annotated[RedeemRequest, Body()]) -> RedemptionOut:
    terminal = terminal_identity(app.current_event, container.settings.pos_caller_role)
    redemption = container.certificates.redeem_certificate(
        request.code,
        store_id=request.store_id,
        order_id=request.order_id,
        price=request.price,
        item=request.item,
        operator=terminal.identity,
        operator_store_id=terminal.store_id,
    )
    metrics.add_metric(name="CertificatesRedeemed", unit=MetricUnit.Count, value=1)
    return RedemptionOut.of(redemption)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
