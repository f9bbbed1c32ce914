"""The certificate's SMS again, on the member's request: to their own number, rate-limited, never for
someone else's or a redeemed certificate, and with the code derived again rather than stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.certificates.rules import CertificateRedeemed, TooManyResends
from cashback.members.rules import Goal, Member
from cashback.platform.errors import NotFound
from tests.builders import a_member_with, adjust
from tests.fixtures.handlers import LambdaContext, handler_module, invoke, sample_event
from tests.fixtures.notifications import Postbox

MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"  # the member of the sample events
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


def resend_event(certificate_id: str, claims: dict[str, str] | None = None) -> dict[str, Any]:
    event = (
        sample_event("certificates-resend-sms", claims=claims) if claims else sample_event("certificates-resend-sms")
    )
    event["pathParameters"] = {"certificate_id": certificate_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/certificates/{certificate_id}/sms"
    return event


def a_certificate(container: Container, member: Member, at: datetime = T0) -> str:
    return container.certificates.issue_certificate(
        member.member_id, 500, "order-0001-abcdef", now=at
    ).certificate.certificate_id


@pytest.fixture
def member(container: Container, moto_tables: dict[str, str]) -> Member:
    return a_member_with(container, 1_000, goal=Goal.SMARTPHONE, phone="+79161234567")


def test_the_member_gets_the_same_code_again_on_their_own_number(postbox: Postbox, container: Container) -> None:
    # Given the member of the sample events with a certificate bought through the API
    status, _ = invoke("members", sample_event("members-enrol", body=None))
    assert status == 201
    invoke("members", sample_event("members-update", body={"goal": "smartphone"}))
    container.ledger.execute(MEMBER, adjust("seed", 1_000))
    status, certificate = invoke("certificates", sample_event("certificates-issue"))
    assert status == 201
    [first] = postbox.deliver()

    # When they ask for its SMS again two minutes later
    later = datetime.now(UTC) + timedelta(minutes=2)
    sent = container.certificates.resend_code(MEMBER, certificate["certificate_id"], now=later)
    [again] = postbox.deliver()

    # Then the same code reaches the same number, told to the member masked, under a new message id
    assert (sent.certificate_id, sent.sent_to) == (certificate["certificate_id"], "+791******67")
    assert again == first
    assert certificate["code"] in again.text
    resent = container.outbox.find(f"certificate-code:{certificate['certificate_id']}:1")
    assert resent is not None
    assert "code" not in resent.body


def test_the_route_answers_202_with_the_masked_number_and_429_with_retry_after(
    postbox: Postbox, container: Container
) -> None:
    # Given the member of the sample events with a certificate bought a while ago
    invoke("members", sample_event("members-enrol", body=None))
    invoke("members", sample_event("members-update", body={"goal": "smartphone"}))
    container.ledger.execute(MEMBER, adjust("seed", 1_000))
    bought = container.certificates.issue_certificate(
        MEMBER, 500, "order-0001-abcdef", now=datetime.now(UTC) - timedelta(hours=1)
    )
    certificate_id = bought.certificate.certificate_id

    # When they ask for the SMS again, and at once once more
    status, body = invoke("certificates", resend_event(certificate_id))
    refused = handler_module("certificates").lambda_handler(resend_event(certificate_id), LambdaContext())

    # Then the first is accepted, the second refused until a minute has passed
    assert (status, body) == (202, {"certificate_id": certificate_id, "sent_to": "+791******67"})
    assert refused["statusCode"] == 429
    assert json.loads(refused["body"])["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused["headers"]["Retry-After"]) <= 60


def test_someone_elses_certificate_is_not_found(postbox: Postbox, container: Container, member: Member) -> None:
    # Given another member's certificate
    certificate_id = a_certificate(container, member)

    # When the member of the sample events asks for its SMS, or for a certificate that does not exist
    invoke("members", sample_event("members-enrol", body=None))
    status, error = invoke("certificates", resend_event(certificate_id))
    unknown, _ = invoke("certificates", resend_event("cert-000000000000000000000000"))

    # Then both are 404, and nothing is sent
    assert (status, error["error"]["code"]) == (404, "certificate_not_found")
    assert unknown == 404
    assert len(postbox.deliver()) == 1  # the purchase's SMS only


def test_at_most_one_a_minute_and_five_a_moscow_day(container: Container, member: Member) -> None:
    # Given a certificate bought at noon, Moscow time
    certificate_id = a_certificate(container, member)

    def resend(at: datetime) -> int | str:
        try:
            container.certificates.resend_code(member.member_id, certificate_id, now=at)
        except TooManyResends as refused:
            return f"429 after {refused.retry_after}s"
        return 202

    # When the member asks again at once, then every two minutes six times, then the next Moscow day
    answers = [resend(T0 + timedelta(seconds=30))]
    answers += [resend(T0 + timedelta(minutes=2 * n)) for n in range(1, 7)]
    answers.append(resend(datetime(2026, 11, 24, 21, 0, 1, tzinfo=UTC)))  # 00:00:01 on the 25th in Moscow

    # Then: too soon after the purchase's SMS, five resends, the sixth waits for midnight, then one more
    assert answers == ["429 after 30s", 202, 202, 202, 202, 202, f"429 after {(12 * 60 - 12) * 60}s", 202]
    assert container.outbox.find(f"certificate-code:{certificate_id}:6") is not None


def test_a_redeemed_certificate_is_not_sent_again(container: Container, member: Member) -> None:
    # Given a certificate a store has redeemed
    issued = container.certificates.issue_certificate(member.member_id, 500, "order-0001-abcdef", now=T0)
    container.certificates.redeem_certificate(
        issued.code,
        store_id="s-1",
        order_id="o-1",
        price="999.00",
        item="smartphone",
        operator="pos-1",
        operator_store_id="s-1",
    )

    # When the member asks for its SMS
    with pytest.raises(CertificateRedeemed) as refused:
        container.certificates.resend_code(
            member.member_id, issued.certificate.certificate_id, now=T0 + timedelta(hours=1)
        )

    # Then it is 409 certificate_redeemed
    assert (refused.value.status, refused.value.code) == (409, "certificate_redeemed")


def test_not_found_for_a_member_who_never_bought_it(container: Container, member: Member) -> None:
    certificate_id = a_certificate(container, member)
    with pytest.raises(NotFound):
        container.certificates.resend_code("someone-else", certificate_id, now=T0 + timedelta(hours=1))
