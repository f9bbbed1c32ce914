"""The operator's payment events (EventBridge): cashback on its own products, once per payment and for one
member; refunds take the cashback of what was refunded back, once per refund."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.ledger.money import parse_amount
from cashback.members.rules import mask_phone
from cashback.payments.rules import Payment, Product, Refund
from cashback.payments.schemas import PaymentCompleted, PaymentRefundedEvent, payment_event
from cashback.payments.service import PaymentOutcome
from cashback.platform.observability import logger, metrics

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


def _payment(detail: PaymentCompleted) -> Payment:
    return Payment(
        payment_id=detail.payment_id,
        phone=detail.phone,
        product=Product(detail.product),
        amount=parse_amount(detail.amount),
        currency=detail.currency.upper(),
        occurred_at=datetime.fromisoformat(detail.occurred_at.isoformat()),
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = payment_event.validate_python(event)
    payment = _payment(parsed.detail)
    logged: dict[str, Any] = {"payment_id": payment.payment_id, "phone": mask_phone(payment.phone)}
    if isinstance(parsed, PaymentRefundedEvent):
        refund = Refund(
            refund_id=parsed.detail.refund_id,
            payment_id=payment.payment_id,
            phone=payment.phone,
            product=payment.product,
            amount=payment.amount,
            currency=payment.currency,
            occurred_at=payment.occurred_at,
        )
        outcome = container.payments.receive_refund(refund)
        logged["refund_id"] = refund.refund_id
    else:
        outcome = container.payments.receive_payment(payment)
    metrics.add_metric(name=f"Payments_{outcome.value}", unit=MetricUnit.Count, value=1)
    if outcome in (PaymentOutcome.OVER_CEILING, PaymentOutcome.OTHER_MEMBER):
        # Kept for support in the logs: never credited, and worth a look (the alarm counts these metrics).
        logger.error("payment kept for support", extra={**logged, "outcome": outcome.value})
    else:
        logger.info("payment", extra={**logged, "outcome": outcome.value})
    return {"payment_id": payment.payment_id, "outcome": outcome.value}
