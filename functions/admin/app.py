"""Administration: the operator's back office. IAM-authorised; every change records who made it."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from catalog_routes import router as catalog_router

from cashback.bootstrap import Container
from cashback.ledger.schemas import AdjustmentOut, AdjustmentRequest, TransactionOut
from cashback.members.promo_code_schemas import NewPromoCode, PromoCodeOut
from cashback.members.promo_codes import PromoCode, normalise_code
from cashback.platform.observability import logger, metrics
from cashback.platform.web.identity import admin_identity
from cashback.platform.web.resolver import make_resolver

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
app = make_resolver(operators=container.settings)
app.include_router(catalog_router)


def _actor() -> str:
    """The admin caller, kept with what they do (anyone else was refused before the route ran)."""
    return admin_identity(app.current_event, container.settings.admin_caller_role)


@app.post("/admin/adjustments", summary="Credit or debit a member by hand, with a reason", tags=["admin"])
def adjust(
    request: Annotated[AdjustmentRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=128)] = None,
) -> tuple[AdjustmentOut, int]:
    actor = _actor()
    outcome = container.ledger_service.adjust(
        request.member_id, request.amount, request.reason, actor=actor, idempotency_key=idempotency_key
    )
    assert outcome.transaction is not None  # an adjustment always has its transaction
    if outcome.applied:
        metrics.add_metric(name="AdjustmentBonuses", unit=MetricUnit.Count, value=request.amount)
    body = AdjustmentOut(
        member_id=request.member_id,
        applied=outcome.applied,
        transaction=TransactionOut.of(outcome.transaction),
        available=outcome.balances.available,
        debt=outcome.balances.debt,
    )
    return body, HTTPStatus.CREATED if outcome.applied else HTTPStatus.OK


@app.post("/admin/promo-codes", summary="Create a promo code", tags=["admin"])
def create_promo_code(request: Annotated[NewPromoCode, Body()]) -> tuple[PromoCodeOut, int]:
    promo = PromoCode(
        code=normalise_code(request.code),
        bonus=request.bonus,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        max_uses=request.max_uses,
    )
    created = container.members.create_promo_code(promo, actor=_actor())
    return PromoCodeOut.of(created), HTTPStatus.CREATED


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    app.append_context(container=container)  # the catalog routes' router reads it there
    return app.resolve(event, context)
