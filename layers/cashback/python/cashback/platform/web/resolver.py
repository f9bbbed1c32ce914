"""The resolver every function starts from: payload v2, request validation, the shared error shape."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from cashback.platform.json_text import parse_json
from cashback.platform.web.body import JsonBodyValidation
from cashback.platform.web.error_handlers import install_error_handlers


def make_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json)
    # Bodies are read as JSON only, and one that cannot be read is a 400/413/415, never a 500 (body.py).
    app._request_validation_middleware = JsonBodyValidation()
    install_error_handlers(app)
    return app
