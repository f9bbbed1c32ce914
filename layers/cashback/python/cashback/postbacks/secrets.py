"""Per-network postback credentials: a JSON object `{"<network>": ["<active secret>", ...]}`.

In AWS it is a Secrets Manager secret (POSTBACK_SECRETS_ARN), re-read every few minutes so that a rotation
reaches warm containers; the local stack passes the development credentials in POSTBACK_SECRETS.
Several secrets per network let a partner rotate without a window of refused postbacks.
"""

from __future__ import annotations

import json
import os
from typing import Any

SECRET_MAX_AGE_SECONDS = 300


class NetworkSecrets:
    def for_network(self, network: str) -> list[str]:
        secrets = _load().get(network, [])
        return [secrets] if isinstance(secrets, str) else [str(s) for s in secrets if s]


def _load() -> dict[str, Any]:
    arn = os.environ.get("POSTBACK_SECRETS_ARN")
    if arn:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_secret(arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
        return dict(value) if isinstance(value, dict) else {}
    return dict(json.loads(os.environ.get("POSTBACK_SECRETS") or "{}"))
