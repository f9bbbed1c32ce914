"""The stand-in AWS account and region that the local stack's ARNs, contexts and events name."""

from __future__ import annotations

import os

ACCOUNT_ID = "000000000000"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"
