"""The operator's payment events (EventBridge): cashback on its own products, once per payment."""

from datetime import datetime
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, Field

from cashback.ledger.money import parse_amount
from cashback.members.rules import mask_phone
from cashback.payments.rules import Payment, Product
from cashback.payments.service import receive_payment
from cashback.platform.observability import logger, metrics, tracer


class PaymentCompleted(BaseModel):
    payment_id: str = Field(min_length=1, max_length=128)
    phone: str = Field(min_length=5, max_length=32)
    product: Literal["tariff", "store", "content", "wallet"]
    amount: str = Field(description='Roubles as a decimal string, "1999.90": never a JSON number (a float).')
    currency: str = Field(min_length=3, max_length=3)
    occurred_at: AwareDatetime


class PaymentCompletedEvent(EventBridgeModel):
    detail: PaymentCompleted


@logger.inject_lambda_context
@tracer.capture_lambda_handler
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
    outcome = receive_payment(payment)
    metrics.add_metric(name=f"Payments_{outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info(
        "payment",
        extra={"payment_id": payment.payment_id, "phone": mask_phone(payment.phone), "outcome": outcome.value},
    )
    return {"payment_id": payment.payment_id, "outcome": outcome.value}
