"""The notifications function over the outbox's stream, on moto: messages reach members' phones and
inboxes once per message id, a crashed send is retried after its lease, and codes are derived, never read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cashback.bootstrap import Container
from cashback.ledger.rules import Source
from cashback.outbox.repository import Claim, DeliveryState, Message, MessageKind
from tests.builders import AT, credit
from tests.fixtures.handlers import REPO, LambdaContext, invoke, sample_event
from tests.fixtures.handlers import handler_module as load_function
from tests.fixtures.notifications import Postbox
from tests.fixtures.wiring import use_container

PHONE = "+79161234567"


def topup_failed(message_id: str = "topup-failed:2026-10:m-1", locale: str = "ru") -> Message:
    body = {"template": "topup_failed", "amount": 350, "month": "2026-10", "reason": "number closed", "locale": locale}
    return Message(message_id, MessageKind.SMS, body, AT, to=PHONE)


def enqueue(container: Container, *messages: Message) -> None:
    """Messages written as the contexts write them: with a ledger change, in one transaction."""
    for number, message in enumerate(messages):
        operation = f"notice:{message.message_id}:{number}"
        container.ledger.execute(
            "m-1",
            credit(operation, 1, source=Source("test", operation)),
            attachments=[container.outbox.enqueue(message)],
        )


def test_a_top_up_notice_reaches_the_member_in_their_language(postbox: Postbox, container: Container) -> None:
    # Given a failed top-up's notice in English and a completed one's in Russian
    completed = Message(
        "topup-completed:2026-10:m-1",
        MessageKind.SMS,
        {"template": "topup_completed", "amount": 350, "month": "2026-10", "locale": "ru"},
        AT,
        to=PHONE,
    )
    enqueue(container, topup_failed(locale="en"), completed)

    # When the outbox's stream reaches the notifications function
    received = postbox.deliver()

    # Then the member's phone shows both, as they read them
    assert sorted((r.channel, r.to, r.text) for r in received) == [
        (
            "sms",
            PHONE,
            "We could not top up your phone with 350 bonuses for October 2026 (number closed). "
            "The bonuses are back on your balance.",
        ),
        ("sms", PHONE, "Счёт телефона пополнен на 350 руб. кешбэка за октябрь 2026."),
    ]


def test_a_message_delivered_twice_is_sent_once(postbox: Postbox, container: Container) -> None:
    # Given a message in the outbox, delivered by its stream
    enqueue(container, topup_failed())
    [image] = postbox.new_messages()
    first = postbox.run([image])

    # When the stream delivers it again (a retried batch)
    again = postbox.run([image])

    # Then the member got one SMS, and the delivery record says sent, with the provider's id
    assert first == again == {"batchItemFailures": []}
    assert len(postbox.received()) == 1
    delivery = container.outbox.delivery("topup-failed:2026-10:m-1")
    assert delivery is not None
    assert (delivery.channel, delivery.state) == ("sms", DeliveryState.SENT)
    assert delivery.provider_message_id
    assert delivery.sent_at


def test_a_crash_after_claiming_is_retried_after_the_lease(postbox: Postbox, container: Container) -> None:
    # Given a message claimed by a sender that crashed before the provider took it
    enqueue(container, topup_failed())
    message = container.outbox.find("topup-failed:2026-10:m-1")
    assert message is not None
    now = datetime.now(UTC)
    service = container.notifications
    assert container.outbox.claim_delivery(message, now, timedelta(seconds=30)) is Claim.CLAIMED

    # When the stream retries it within the lease, and again after it
    within = service.deliver(message, now=now + timedelta(seconds=10))
    sent_within = postbox.received()
    after = service.deliver(message, now=now + timedelta(seconds=31))

    # Then the first retry leaves it to the lease (the record is reported failed), the second sends it, once
    assert (within, sent_within) == (Claim.HELD, [])
    assert after is Claim.CLAIMED
    assert len(postbox.received()) == 1
    assert service.deliver(message, now=now + timedelta(minutes=5)) is Claim.SENT


def test_a_held_message_fails_its_stream_record_so_the_stream_retries_it(
    postbox: Postbox, container: Container
) -> None:
    # Given a message another invocation is sending right now
    enqueue(container, topup_failed())
    message = container.outbox.find("topup-failed:2026-10:m-1")
    assert message is not None
    container.outbox.claim_delivery(message, datetime.now(UTC), timedelta(seconds=30))

    # When the stream delivers it to the function
    answer = postbox.run(postbox.new_messages())

    # Then its record is reported failed, and nothing is sent
    [failure] = answer["batchItemFailures"]
    assert failure["itemIdentifier"] == postbox.streamed[-1]["dynamodb"]["SequenceNumber"]
    assert postbox.received() == []


def test_a_refused_send_is_retried_at_once_and_logs_no_number(
    postbox: Postbox, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a message to a number SNS refuses once
    enqueue(container, topup_failed())
    message = container.outbox.find("topup-failed:2026-10:m-1")
    assert message is not None
    service = container.notifications
    real = service._sms

    class RefusingOnce:
        def __init__(self) -> None:
            self.refused = False

        def send_sms(self, phone: str, text: str) -> str:
            if not self.refused:
                self.refused = True
                raise RuntimeError(f"Invalid parameter: PhoneNumber {phone}")
            return real.send_sms(phone, text)

    service._sms = RefusingOnce()

    # When the stream delivers it, and retries it at once
    use_container(load_function("notifications"), container)
    [image] = postbox.new_messages()
    refused = postbox.run([image])
    retried = postbox.run([image])

    # Then the first attempt fails its record, logged without the number; the retry sends it
    assert len(refused["batchItemFailures"]) == 1
    assert retried == {"batchItemFailures": []}
    assert len(postbox.received()) == 1
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    assert "topup-failed:2026-10:m-1" in logged
    assert PHONE[1:] not in logged


def test_the_relay_leaves_sms_and_email_to_the_notifications(container: Container) -> None:
    from cashback.outbox.relay import outbound_event

    image = {
        "pk": {"S": "MSG#certificate-code:cert-1"},
        "sk": {"S": "MSG"},
        "message_id": {"S": "certificate-code:cert-1"},
        "kind": {"S": "sms"},
        "to": {"S": PHONE},
        "body": {"S": json.dumps({"template": "certificate_code"})},
    }
    assert outbound_event("1", image, "default") is None
    assert outbound_event("2", {**image, "kind": {"S": "email"}}, "default") is None


def test_an_email_code_round_trip_in_english(postbox: Postbox) -> None:
    # Given a member who enrols from an English-speaking phone, with an email address
    event = sample_event("members-enrol", body={"email": "anna@example.com"})
    event["headers"]["accept-language"] = "en-GB,en;q=0.9,ru;q=0.8"
    status, member = invoke("members", event)
    assert (status, member["language"]) == (201, "en")

    # When the email arrives and they type its code
    [email] = postbox.deliver()
    code = email.text.split("Your confirmation code is ", 1)[1][:6]
    status, confirmed = invoke("members", sample_event("members-email-confirm", body={"code": code}))

    # Then the email was English, from the configured sender, and the code confirms the address
    assert (email.channel, email.to, email.subject) == (
        "email",
        "anna@example.com",
        "Confirm your email for the cashback programme",
    )
    assert (status, confirmed["email_confirmed"], confirmed["bonus"]) == (200, True, 15)


def test_the_stream_event_of_a_failed_top_up_reaches_the_members_phone(postbox: Postbox) -> None:
    # Given the outbox's stream event of a failed top-up's notice, and of its delivery record
    event = json.loads((REPO / "events" / "notifications-outbox-stream.json").read_text())

    # When the notifications function receives it
    answer = load_function("notifications").lambda_handler(event, LambdaContext())

    # Then the notice is sent once, in Russian, and the delivery record is passed over
    assert answer == {"batchItemFailures": []}
    assert [(r.to, r.text) for r in postbox.received()] == [
        (
            PHONE,
            "Не удалось пополнить счёт телефона на 350 бонусов за октябрь 2026 (причина: the number is closed). "
            "Бонусы вернулись на баланс.",
        )
    ]


def test_a_preview_shows_what_the_member_will_read_without_sending_it(postbox: Postbox, container: Container) -> None:
    # Given a message in the outbox
    enqueue(container, topup_failed(locale="en"))
    message = container.outbox.find("topup-failed:2026-10:m-1")
    assert message is not None

    # When it is previewed (the local stack's view), then delivered
    preview = container.notifications.preview(message)
    unsent = (container.outbox.delivery(message.message_id), postbox.received())
    [received] = postbox.deliver()

    # Then the preview is the text delivered, and previewing sent or claimed nothing
    assert unsent == (None, [])
    assert preview.text == received.text
