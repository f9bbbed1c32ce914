"""Publishes the API's OpenAPI document, generated from every function's routes by `make openapi`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def _document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "public, max-age=300"},
        "body": _document(),
    }
