"""The resolver every function starts from: payload v2, request validation, the shared error shape."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from cashback.platform.json_text import parse_json
from cashback.platform.web.body import JsonBodyValidation
from cashback.platform.web.error_handlers import install_error_handlers
from cashback.platform.web.identity import CallerRoles, check_operator_route


def make_resolver(operators: CallerRoles | None = None) -> APIGatewayHttpResolver:
    """`operators`: for a function with IAM-authorised routes, the roles its admin and pos callers assume;
    each such route then refuses the other kind of caller first."""
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json)
    check = None
    if operators is not None:

        def check(event: object) -> None:
            assert isinstance(event, APIGatewayProxyEventV2)  # the HTTP API's payload v2
            check_operator_route(event, operators)

    # Bodies are read as JSON only, and one that cannot be read is a 400/413/415, never a 500 (body.py).
    app._request_validation_middleware = JsonBodyValidation(check)
    install_error_handlers(app)
    return app
