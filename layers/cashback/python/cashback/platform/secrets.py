"""The one way secrets are read: Secrets Manager in AWS, re-read every few minutes so that a rotation
reaches warm containers. The local stack and the tests give the composition root a stand-in with the same
interface instead (local/secrets.py)."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from cashback.platform.config import MissingSetting, Settings

SECRET_MAX_AGE_SECONDS = 300


class Secret(StrEnum):
    LINK_SIGNING = "link_signing"  # signs members' links to the stores
    POSTBACK_CREDENTIALS = "postback_credentials"  # JSON {"<network>[:<partner>]": ["<secret>", ...]}
    CERTIFICATE_CODE = "certificate_code"  # derives and looks up certificate codes
    EMAIL_CODE = "email_code"  # derives email confirmation codes (members, notifications)
    ADMITAD_API = "admitad_api"  # JSON {"client_id", "client_secret"}: Admitad's API, OAuth client credentials


class Secrets(Protocol):
    def value(self, secret: Secret) -> str:
        """The secret's current text; raises MissingSetting when this function was not given it."""
        ...


class SecretsManagerSecrets:
    def __init__(self, settings: Settings) -> None:
        self._arns = {
            Secret.LINK_SIGNING: settings.link_signing_secret_arn,
            Secret.POSTBACK_CREDENTIALS: settings.postback_secrets_arn,
            Secret.CERTIFICATE_CODE: settings.certificate_code_secret_arn,
            Secret.EMAIL_CODE: settings.email_code_secret_arn,
            Secret.ADMITAD_API: settings.admitad_api_secret_arn,
        }

    def value(self, secret: Secret) -> str:
        arn = self._arns[secret]
        if not arn:
            raise MissingSetting(f"no ARN of the {secret.value} secret: this function was not given it")
        from aws_lambda_powertools.utilities import parameters  # boto3 is paid for only where a secret is read

        text = parameters.get_secret(arn, max_age=SECRET_MAX_AGE_SECONDS)
        return text if isinstance(text, str) else bytes(text or b"").decode()
