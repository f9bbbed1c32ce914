"""moto behind an endpoint (local/moto_server.py): the functions' own boto3 clients, sent there by the
endpoint variables, reach moto's SNS, SES v2 and EventBridge, and what they sent can be read back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from local.moto_server import MotoServer, archived_events, sent_email, sent_sms

SENDER = "no-reply@cashback.local"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    with MotoServer(senders=[SENDER]) as server:
        for variable, value in server.environment.items():
            monkeypatch.setenv(variable, value)
        yield server


def test_an_sms_published_through_the_endpoint_is_read_back_by_its_message_id(aws: MotoServer) -> None:
    published = boto3.client("sns").publish(PhoneNumber="+79161234567", Message="Код сертификата: 1234-5678")

    assert sent_sms(published["MessageId"]) == ("+79161234567", "Код сертификата: 1234-5678")
    assert sent_sms("no-such-id") is None


def test_an_email_from_the_verified_sender_is_accepted_and_read_back(aws: MotoServer) -> None:
    sent = boto3.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["member@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Код"}, "Body": {"Text": {"Data": "Ваш код: 424242"}}}},
    )

    assert sent_email(sent["MessageId"]) == {"to": ["member@example.com"], "subject": "Код", "text": "Ваш код: 424242"}


def test_an_email_from_an_unverified_sender_is_refused_as_ses_would(aws: MotoServer) -> None:
    with pytest.raises(boto3.client("sesv2").exceptions.MessageRejected):
        boto3.client("sesv2").send_email(
            FromEmailAddress="someone@elsewhere.example",
            Destination={"ToAddresses": ["member@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )


def test_the_outbox_relays_events_are_archived_and_others_are_not(aws: MotoServer) -> None:
    events = boto3.client("events")
    entry = {"DetailType": "TopUpRequested", "Detail": json.dumps({"topup_id": "t-1"}), "EventBusName": "default"}

    events.put_events(Entries=[{**entry, "Source": "cashback.outbox"}, {**entry, "Source": "someone.else"}])

    assert [(e["source"], e["detail"]) for e in archived_events()] == [("cashback.outbox", {"topup_id": "t-1"})]


def test_what_the_stack_needs_comes_back_after_a_mock_aws_reset_the_backends(aws: MotoServer) -> None:
    # Given a test's mock_aws in the same process, which resets every moto backend
    with mock_aws():
        pass

    # When the stack readies moto again (as it does before each delivery), the sender is verified again
    aws.prepare()
    aws.prepare()

    sent = boto3.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["member@example.com"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
    )
    assert sent_email(sent["MessageId"]) is not None


def test_an_unsigned_request_is_refused(aws: MotoServer) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(aws.url + "/", data=b"Action=Publish")  # noqa: S310 (our own 127.0.0.1 endpoint)

    assert refused.value.code == 400


def test_a_request_moto_fails_on_is_answered_with_a_500_not_a_dropped_connection(
    aws: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.config import Config
    from botocore.exceptions import ClientError

    import local.moto_server

    def fail(*request: object) -> None:
        raise ValueError("a moto backend's own bug")

    monkeypatch.setattr(local.moto_server, "_moto_response", fail)
    once = Config(retries={"max_attempts": 1})

    with pytest.raises(ClientError) as sms_refused:  # the query protocol: an XML error
        boto3.client("sns", config=once).publish(PhoneNumber="+79161234567", Message="Код")
    with pytest.raises(ClientError) as email_refused:  # REST-JSON: a JSON error
        boto3.client("sesv2", config=once).send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["member@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )

    for refused in (sms_refused, email_refused):
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert refused.value.response["Error"]["Code"] == "InternalFailure"
