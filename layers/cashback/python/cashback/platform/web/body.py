"""Request bodies as this API reads them: JSON, UTF-8, and nothing else (API.md, Conventions).

A body a route cannot read is refused here, at the edge, in the contract's error shape: another media
type is 415 `unsupported_media_type`; bytes that are not UTF-8 text, or text that is not JSON, nests too
deep or holds a number no one can hold, are 400 (`malformed_json`, `json_too_deep`, `number_too_long`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from cashback.platform.errors import MalformedInput, UnsupportedMediaType
from cashback.platform.json_text import parse_json

# application/json and its structured-syntax relatives (application/merge-patch+json, ...), any case.
_JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9.!#$&^_-]+\+)?json")


def body_text(event: BaseProxyEvent, *, errors: str = "strict") -> str:
    """The body as text: base64-decoded when API Gateway encoded it, then decoded as UTF-8."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise MalformedInput("the body is not valid base64", code="malformed_json") from None
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError:
        raise MalformedInput("the body is not UTF-8 text", code="malformed_json") from None


def read_json_body(event: BaseProxyEvent) -> Any:
    """The request's JSON body, None when there is none (whatever type the request names)."""
    if not event.body:
        return None
    media_type = (event.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media_type and not _JSON_MEDIA_TYPE.fullmatch(media_type):
        raise UnsupportedMediaType(f"the body must be application/json, not {media_type[:100]}")
    return parse_json(body_text(event))


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading each route's body as this API does. Powertools would also
    take form and multipart bodies, and lets a body it cannot decode escape as a 500; `_get_body` is the
    one place it reads a body, and only for routes that declare one.

    `check_caller`, when given, runs first: a caller the route is not for is refused before its request is
    read (a pos terminal on an admin route gets 403 whatever it sends, not a validation error)."""

    def __init__(self, check_caller: Callable[[BaseProxyEvent], None] | None = None) -> None:
        super().__init__()
        self._check_caller = check_caller

    def handler(self, app: EventHandlerInstance, next_middleware: NextMiddleware) -> Response:
        if self._check_caller is not None:
            self._check_caller(app.current_event)
        return super().handler(app, next_middleware)

    def _get_body(self, app: EventHandlerInstance) -> Any:
        return read_json_body(app.current_event)
