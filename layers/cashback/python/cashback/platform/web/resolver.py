"""The resolver every function starts from: payload v2, request validation, the shared error shape."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from cashback.platform.web.error_handlers import install_error_handlers


def make_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    install_error_handlers(app)
    return app
