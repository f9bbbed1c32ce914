"""Opaque list cursors: the position inside one partition, never the partition itself.

A cursor carries only the sort attributes of the last item; the caller's own partition key is added
back on the server, so a crafted cursor can never reach another member's records.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Generic, TypeVar

from cashback.platform.errors import InvalidInput, MalformedInput
from cashback.platform.json_text import parse_json

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(position: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def invalid_cursor() -> InvalidInput:
    return InvalidInput("the cursor is not one this service gave out", code="invalid_cursor")


def decode_cursor(cursor: str | None, fields: tuple[str, ...]) -> dict[str, str] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = parse_json(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, MalformedInput):
        raise invalid_cursor() from None
    if (
        not isinstance(position, dict)
        or set(position) != set(fields)
        or not all(isinstance(v, str) and v for v in position.values())  # a key is never an empty string
    ):
        raise invalid_cursor()
    return position


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise InvalidInput(f"limit is between 1 and {MAX_LIMIT}", code="invalid_limit")
    return limit
