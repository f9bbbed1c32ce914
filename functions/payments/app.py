"""The operator's payment events (EventBridge): cashback on its own products, once per payment."""

from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.ledger.money import parse_amount
from cashback.members.rules import mask_phone
from cashback.payments.rules import Payment, Product
from cashback.payments.schemas import PaymentCompletedEvent
from cashback.platform.observability import logger, metrics

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


@logger.inject_lambda_context
@metrics.log_metrics
@event_parser(model=PaymentCompletedEvent)
def lambda_handler(event: PaymentCompletedEvent, context: LambdaContext) -> dict:
    detail = event.detail
    payment = Payment(
        payment_id=detail.payment_id,
        phone=detail.phone,
        product=Product(detail.product),
        amount=parse_amount(detail.amount),
        currency=detail.currency.upper(),
        occurred_at=datetime.fromisoformat(detail.occurred_at.isoformat()),
    )
    outcome = container.payments.receive_payment(payment)
    metrics.add_metric(name=f"Payments_{outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info(
        "payment",
        extra={"payment_id": payment.payment_id, "phone": mask_phone(payment.phone), "outcome": outcome.value},
    )
    return {"payment_id": payment.payment_id, "outcome": outcome.value}
