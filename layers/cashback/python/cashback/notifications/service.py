"""Delivering the outbox's SMS and email messages: at least once, never twice for one message id.

`deliver` claims the message (outbox delivery record, a conditional write with a lease), renders it in
the member's language, derives the code a code template needs (certificate or email confirmation; never
stored, never logged), hands it to the provider, and marks it sent. A repeat of a sent message does
nothing; a claim another sender holds is reported as `HELD` so that the stream tries again after the lease.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cashback.notifications.rules import Rendered, Template, render, template_of
from cashback.notifications.senders import EmailSender, SmsSender
from cashback.outbox.repository import Claim, Message, MessageKind, OutboxRepository

# Longer than the function's timeout (template.yaml, 20 s): a claim still running is never taken over.
LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class CodeDerivers:
    """How the codes are derived again from a message's reference (the keys stay with the composition root)."""

    certificate: Callable[[str, str, str], str]  # (member_id, order_key, nonce) -> the certificate's code
    email: Callable[[str, str], str]  # (member_id, nonce) -> the email confirmation code


class NotificationService:
    def __init__(
        self,
        outbox: OutboxRepository,
        *,
        sms: SmsSender,
        email: EmailSender,
        codes: CodeDerivers,
        lease: timedelta = LEASE,
    ) -> None:
        self._outbox = outbox
        self._sms = sms
        self._email = email
        self._codes = codes
        self._lease = lease

    def deliver(self, message: Message, *, now: datetime | None = None) -> Claim:
        """Sends `message` unless it was sent before; CLAIMED when this call sent it."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        if message.kind not in (MessageKind.SMS, MessageKind.EMAIL):
            raise ValueError(f"{message.kind.value} messages are not the notifications' to send")
        if not message.to:
            raise ValueError(f"message {message.message_id} has no recipient")
        rendered = render(message.body, self._code(message.body))  # a body that cannot be rendered claims nothing
        claim = self._outbox.claim_delivery(message, now, self._lease)
        if claim is not Claim.CLAIMED:
            return claim
        try:
            if message.kind is MessageKind.SMS:
                provider_id = self._sms.send_sms(message.to, rendered.text)
            else:
                provider_id = self._email.send_email(message.to, rendered.subject or "", rendered.text)
        except Exception:
            self._outbox.release_delivery(message.message_id)
            raise
        self._outbox.mark_sent(message.message_id, provider_id, now)
        return Claim.CLAIMED

    def preview(self, message: Message) -> Rendered:
        """The message as its recipient reads it, sent or not (the local stack's outbox view)."""
        return render(message.body, self._code(message.body))

    def _code(self, body: Mapping[str, Any]) -> str | None:
        template = template_of(body)
        if template is Template.CERTIFICATE_CODE:
            return self._codes.certificate(str(body["member_id"]), str(body["order_key"]), str(body["nonce"]))
        if template is Template.EMAIL_CONFIRMATION:
            return self._codes.email(str(body["member_id"]), str(body["nonce"]))
        return None
