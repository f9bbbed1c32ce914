"""The deployed wiring on moto: the code keys come from Secrets Manager, so the IAM proof sees each
function read the secrets its policy names, and the keys the members, certificates and notifications
functions share give the same codes."""

from __future__ import annotations

import re

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from cashback.bootstrap import Container
from tests.builders import adjust
from tests.fixtures.handlers import handler_module, invoke, sample_event
from tests.fixtures.notifications import Postbox
from tests.fixtures.wiring import use_container

MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"  # the member of the sample events


def separate_containers() -> None:
    """In AWS each function reads its secrets itself; in one test process powertools would share its cache."""
    parameters.clear_caches()


@pytest.fixture
def deployed(postbox: Postbox, monkeypatch: pytest.MonkeyPatch) -> Postbox:
    """Members, certificates and notifications on Container.from_environment(), their keys in Secrets Manager."""
    secrets = boto3.client("secretsmanager")
    for variable, name in (
        ("CERTIFICATE_CODE_SECRET_ARN", "certificate-code"),
        ("EMAIL_CODE_SECRET_ARN", "email-code"),
    ):
        arn = secrets.create_secret(Name=f"cashback/{name}", SecretString=f"{name}-key-0123456789abcdef")["ARN"]
        monkeypatch.setenv(variable, arn)
    for function in ("members", "certificates", "notifications"):
        use_container(handler_module(function), Container.from_environment())
    return postbox


def test_an_email_code_derived_by_the_sender_confirms_the_address(deployed: Postbox) -> None:
    # Given a member who gave an email address at enrolment
    status, _ = invoke("members", sample_event("members-enrol", body={"email": "anna@example.com"}))
    assert status == 201

    # When the email reaches them and they type its code
    [email] = deployed.deliver()
    [code] = re.findall(r"\b\d{6}\b", email.text)
    separate_containers()
    status, confirmed = invoke("members", sample_event("members-email-confirm", body={"code": code}))

    # Then it confirms the address
    assert (status, confirmed["email_confirmed"]) == (200, True)


def test_a_certificate_code_derived_by_the_sender_is_the_one_the_member_bought(
    deployed: Postbox, container: Container
) -> None:
    # Given a smartphone member with bonuses
    invoke("members", sample_event("members-enrol", body=None))
    invoke("members", sample_event("members-update", body={"goal": "smartphone"}))
    container.ledger.execute(MEMBER, adjust("seed", 1_000))

    # When they buy a certificate and its SMS arrives
    status, certificate = invoke("certificates", sample_event("certificates-issue"))
    separate_containers()
    [sms] = deployed.deliver()

    # Then the SMS holds the code the purchase answered with
    assert status == 201
    assert certificate["code"] in sms.text
