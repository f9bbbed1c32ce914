"""The operator's payment events as they arrive on its EventBridge bus (API.md, Events)."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, BaseModel, Field


class PaymentCompleted(BaseModel):
    payment_id: str = Field(min_length=1, max_length=128)
    phone: str = Field(min_length=5, max_length=32)
    product: Literal["tariff", "store", "content", "wallet"]
    amount: str = Field(description='Roubles as a decimal string, "1999.90": never a JSON number (a float).')
    currency: str = Field(min_length=3, max_length=3)
    occurred_at: AwareDatetime


class PaymentCompletedEvent(EventBridgeModel):
    detail: PaymentCompleted
