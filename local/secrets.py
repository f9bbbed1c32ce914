"""What AWS gives the functions from Secrets Manager and Cognito, given locally as plain variables.

The values are development credentials only: API.md names the postback ones so that people and tests
can act as a partner network. The local gateway applies them to the handlers it hosts, and
`EnvironmentSecrets` is the secret loader the local composition root gets instead of Secrets Manager.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping

from cashback.platform.config import MissingSetting
from cashback.platform.secrets import Secret

DEVELOPMENT_POSTBACK_SECRETS = {"admitad": ["local-admitad-secret"], "direct": ["local-direct-secret"]}
# What the local fake of Admitad's API (local/fake_admitad.py) accepts as OAuth client credentials.
DEVELOPMENT_ADMITAD_API_CLIENT = {"client_id": "local-admitad-client", "client_secret": "local-admitad-client-secret"}
# Store links are short-lived: a secret per process is enough, links minted before a restart just expire.
_LINK_SIGNING_SECRET = secrets.token_urlsafe(32)


# Never deployed: the template gives AWS functions a Secrets Manager secret instead.
DEVELOPMENT_CERTIFICATE_CODE_KEY = "local-certificate-code-key"
DEVELOPMENT_EMAIL_CODE_KEY = "local-email-code-key"
# Keys that derive codes have a fixed development value: a restart of the local stack must still derive
# the codes of the messages it keeps.
DEVELOPMENT_KEYS = {
    Secret.CERTIFICATE_CODE: DEVELOPMENT_CERTIFICATE_CODE_KEY,
    Secret.EMAIL_CODE: DEVELOPMENT_EMAIL_CODE_KEY,
}
VARIABLES = {
    Secret.LINK_SIGNING: "LINK_SIGNING_SECRET",
    Secret.POSTBACK_CREDENTIALS: "POSTBACK_SECRETS",
    Secret.CERTIFICATE_CODE: "CERTIFICATE_CODE_SECRET",
    Secret.EMAIL_CODE: "EMAIL_CODE_SECRET",
    Secret.ADMITAD_API: "ADMITAD_API_SECRET",
}


class EnvironmentSecrets:
    """Secrets as plain variables of the function's environment (see `local_secrets`)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def value(self, secret: Secret) -> str:
        text = self._environ.get(VARIABLES[secret], "")
        if not text and secret in DEVELOPMENT_KEYS:
            return DEVELOPMENT_KEYS[secret]
        if not text:
            raise MissingSetting(f"{VARIABLES[secret]} is not set")
        return text


def local_secrets() -> dict[str, str]:
    return {
        "LINK_SIGNING_SECRET": _LINK_SIGNING_SECRET,
        "POSTBACK_SECRETS": json.dumps(DEVELOPMENT_POSTBACK_SECRETS),
        "ADMITAD_API_SECRET": json.dumps(DEVELOPMENT_ADMITAD_API_CLIENT),
    }
