"""Message deliveries against DynamoDB Local: however many senders race for one message, one sends it;
and resends of a certificate's SMS racing each other pass the limit once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3

from cashback.bootstrap import Container
from cashback.certificates.rules import TooManyResends
from cashback.members.rules import Goal
from cashback.outbox.repository import Claim, DeliveryState, Message, MessageKind
from tests.builders import a_member_with


def test_ten_senders_racing_for_one_message_claim_it_once(container: Container) -> None:
    # Given a message
    message = Message(
        f"it-{uuid.uuid4()}", MessageKind.SMS, {"template": "topup_completed"}, datetime.now(UTC), "+79160000000"
    )
    now = datetime.now(UTC)
    start = threading.Barrier(10)

    def claim(_: int) -> Claim:
        start.wait()
        return container.outbox.claim_delivery(message, now, timedelta(seconds=30))

    # When ten senders claim it at once, and one more after the winner marked it sent
    with ThreadPoolExecutor(max_workers=10) as pool:
        claims = list(pool.map(claim, range(10)))
    container.outbox.mark_sent(message.message_id, "provider-1", now)
    late = container.outbox.claim_delivery(message, now + timedelta(minutes=5), timedelta(seconds=30))

    # Then one claims it, the others find it held, and once sent it is never claimed again
    assert sorted(claims) == sorted([Claim.CLAIMED] + [Claim.HELD] * 9)
    assert late is Claim.SENT
    delivery = container.outbox.delivery(message.message_id)
    assert delivery is not None
    assert (delivery.state, delivery.provider_message_id) == (DeliveryState.SENT, "provider-1")


def test_resends_racing_each_other_pass_the_limit_once(container: Container) -> None:
    # Given a member's certificate bought an hour ago
    member = a_member_with(container, 1_000, goal=Goal.SMARTPHONE, member_id=f"it-{uuid.uuid4()}")
    bought = datetime.now(UTC) - timedelta(hours=1)
    issued = container.certificates.issue_certificate(member.member_id, 500, "order-it-resend-race", now=bought)
    certificate_id = issued.certificate.certificate_id
    start = threading.Barrier(5)

    def resend(_: int) -> str:
        start.wait()
        try:
            container.certificates.resend_code(member.member_id, certificate_id)
        except TooManyResends:
            return "429"
        return "202"

    # When the member's app asks five times at once
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(resend, range(5)))

    # Then one SMS is sent again, and no table holds the code
    assert sorted(answers) == ["202", "429", "429", "429", "429"]
    assert container.outbox.find(f"certificate-code:{certificate_id}:1") is not None
    assert container.outbox.find(f"certificate-code:{certificate_id}:2") is None
    client = boto3.client("dynamodb")  # DynamoDB Local: the fixture points AWS_ENDPOINT_URL_DYNAMODB at it
    symbols = issued.code.replace("-", "")
    for table in (container.settings.table("LEDGER_TABLE"), container.settings.table("OUTBOX_TABLE")):
        for page in client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                assert symbols not in str(item).upper().replace("-", "")
