"""Publishes the API's OpenAPI document, generated from every function's routes by `make openapi`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Read once, at cold start: the document ships with the function and never changes while it runs.
DOCUMENT = Path(__file__).with_name("openapi.json").read_text(encoding="utf-8")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "public, max-age=300"},
        "body": DOCUMENT,
    }
