"""The providers that take a message to its recipient: SMS through SNS (moto has no End User Messaging,
and SNS sends transactional SMS through it anyway), email through SES v2. Each hands back the provider's
message id, kept on the delivery record. Clients are built on the first send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class SmsSender(Protocol):
    def send_sms(self, phone: str, text: str) -> str: ...


class EmailSender(Protocol):
    def send_email(self, address: str, subject: str, text: str) -> str: ...


class SnsSms:
    def __init__(self, client: Callable[[], Any], sender_id: str = "") -> None:
        self._client = client
        self._sender_id = sender_id

    def send_sms(self, phone: str, text: str) -> str:
        # Transactional: delivered with priority (codes), and not subject to marketing opt-outs and hours.
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        answer = self._client().publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)
        return str(answer["MessageId"])


class SesEmail:
    def __init__(self, client: Callable[[], Any], from_address: str) -> None:
        self._client = client
        self._from_address = from_address

    def send_email(self, address: str, subject: str, text: str) -> str:
        answer = self._client().send_email(
            FromEmailAddress=self._from_address,
            Destination={"ToAddresses": [address]},
            Content={
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                }
            },
        )
        return str(answer["MessageId"])
