"""The routes' authorizers as API Gateway runs them: the JWT authorizer for members and IAM for operators,
both checking tokens minted by `local.tokens`, and what each hands the function in requestContext.authorizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from local import tokens
from local.gateway.account import ACCOUNT_ID
from local.gateway.http_api import FORBIDDEN, UNAUTHORIZED, Response
from local.template import Route


def _bearer(headers: Sequence[tuple[str, str]]) -> str | None:
    value = next((v for k, v in headers if k.lower() == "authorization"), None)
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    # API Gateway's JWT authorizer accepts the token with or without its "Bearer " prefix.
    return token.strip() if scheme.lower() == "bearer" else value.strip()


def _claim_text(value: Any) -> str:
    # API Gateway hands every claim to the function as a string; arrays look like "[a b]".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return str(value)


def authorize(route: Route, headers: Sequence[tuple[str, str]]) -> tuple[dict[str, Any] | None, Response | None]:
    """(requestContext.authorizer, None) when the caller may call the route, else (None, the refusal)."""
    if route.auth == "none":
        return None, None
    token = _bearer(headers)
    claims = tokens.verify(token) if token else None
    if route.auth == "jwt":
        if claims is None or not tokens.is_member(claims):
            return None, UNAUTHORIZED
        return {"jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()}, "scopes": None}}, None
    if claims is None or not tokens.is_operator(claims):
        return None, FORBIDDEN
    role, store_id = claims["role"], claims.get("store_id")
    return {
        "iam": {
            "accessKey": "LOCAL",
            "accountId": ACCOUNT_ID,
            "callerId": "LOCAL",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/cashback-{role}/{store_id or 'local-admin'}",
            "userId": f"LOCAL:{role}",
        }
    }, None
