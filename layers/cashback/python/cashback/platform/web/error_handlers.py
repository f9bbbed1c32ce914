"""Every failure leaves as `{"error": {"code", "message"}}`: domain errors with their own status and code,
invalid input as 422, a body the route cannot read as 400 or 415, anything unexpected as a logged 500
that tells the caller nothing internal.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import ValidationError

from cashback.platform.errors import DomainError


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers=headers,
    )


def _describe(errors: Any) -> tuple[str, list[dict[str, str]]]:
    details = []
    for err in errors:
        where = ".".join(str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path"))
        details.append({"field": where or "body", "problem": str(err.get("msg", "invalid"))})
    first = details[0] if details else {"field": "body", "problem": "invalid"}
    return f"{first['field']}: {first['problem']}", details


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        return error_response(error.status, error.code, error.message, headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        if any(err.get("type") == "json_invalid" for err in error.errors()):
            return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "the body is not valid JSON")
        message, details = _describe(error.errors())
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", message, details)

    @app.exception_handler(ValidationError)
    def invalid_model(error: ValidationError) -> Response:
        message, details = _describe(error.errors())
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", message, details)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media_type(error: RequestUnsupportedContentType) -> Response:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "the body must be application/json"
        )

    @app.exception_handler(json.JSONDecodeError)
    def malformed_json(error: json.JSONDecodeError) -> Response:
        return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "the body is not valid JSON")

    @app.not_found
    def no_route(_: Exception) -> Response:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")
