"""What AWS gives the functions from Secrets Manager and Cognito, given locally as plain variables.

The values are development credentials only: API.md names the postback ones so that people and tests
can act as a partner network. The local gateway applies them to the handlers it hosts.
"""

from __future__ import annotations

import json
import secrets

from local import tokens

DEVELOPMENT_POSTBACK_SECRETS = {"admitad": ["local-admitad-secret"], "direct": ["local-direct-secret"]}
# Store links are short-lived: a secret per process is enough, links minted before a restart just expire.
_LINK_SIGNING_SECRET = secrets.token_urlsafe(32)


def local_secrets() -> dict[str, str]:
    return {
        "MEMBER_TOKEN_VERIFIER": "local",
        "LOCAL_TOKEN_SECRET": tokens.current_secret(),
        "LINK_SIGNING_SECRET": _LINK_SIGNING_SECRET,
        "POSTBACK_SECRETS": json.dumps(DEVELOPMENT_POSTBACK_SECRETS),
    }
