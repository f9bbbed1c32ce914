"""The operator's payment events as they arrive on its EventBridge bus (API.md, Events)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter

Product = Literal["tariff", "store", "content", "wallet", "card"]


class PaymentCompleted(BaseModel):
    payment_id: str = Field(min_length=1, max_length=128)
    phone: str = Field(min_length=5, max_length=32)
    product: Product
    amount: str = Field(description='Roubles as a decimal string, "1999.90": never a JSON number (a float).')
    currency: str = Field(min_length=3, max_length=3)
    occurred_at: AwareDatetime


class PaymentRefunded(PaymentCompleted):
    refund_id: str = Field(min_length=1, max_length=128)
    amount: str = Field(description="The refunded part of the payment, roubles as a decimal string.")


class PaymentCompletedEvent(EventBridgeModel):
    detail_type: Literal["PaymentCompleted"] = Field(alias="detail-type")
    detail: PaymentCompleted


class PaymentRefundedEvent(EventBridgeModel):
    detail_type: Literal["PaymentRefunded"] = Field(alias="detail-type")
    detail: PaymentRefunded


PaymentEvent = Annotated[PaymentCompletedEvent | PaymentRefundedEvent, Field(discriminator="detail_type")]
payment_event: TypeAdapter[PaymentCompletedEvent | PaymentRefundedEvent] = TypeAdapter(PaymentEvent)
