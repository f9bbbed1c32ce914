"""The routes' authorizers as API Gateway runs them, and what each hands the function in
requestContext.authorizer.

- JWT (members): the checks of API Gateway's JWT authorizer (signature against the key set, issuer, app
  client, expiry), by the deployed verifier given the local issuer and keys; the claims go to the function
  as strings, as API Gateway passes them. Whether the phone is verified is the function's check, as in AWS.
- IAM (operators): an operator token from `local.tokens` stands for a signed request by a principal that
  assumed the template's AdminCallerRole or PosCallerRole; the route must be one that role's policy allows
  to invoke (template.yaml's execute-api resources, matched as IAM matches them), else 403 as API Gateway
  answers; the function sees the assumed role's ARN, whose session names a terminal's store.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from local import tokens
from local.gateway.account import ACCOUNT_ID, region
from local.gateway.http_api import FORBIDDEN, UNAUTHORIZED, Response
from local.template import CallerRole, Route, caller_role

LOCAL_API_ID = "local"
STAGE = "$default"
ROLE_OF = {"admin": "AdminCallerRole", "pos": "PosCallerRole"}


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


def _iam_matches(pattern: str, arn: str) -> bool:
    # IAM's wildcards: * any run of characters (slashes included), ? one character; nothing else is special.
    return fnmatch.fnmatchcase(arn, pattern.replace("[", "[[]"))


class Authorizers:
    def __init__(self, template: Mapping[str, Any]) -> None:
        context = {
            "AWS::Partition": "aws",
            "AWS::Region": region(),
            "AWS::AccountId": ACCOUNT_ID,
            "HttpApi": LOCAL_API_ID,
        }
        # A template without a caller role (a test's) has no one who may call its IAM routes.
        defined = template.get("Resources") or {}
        self._roles: dict[str, CallerRole] = {
            kind: caller_role(template, logical_id, context)
            for kind, logical_id in ROLE_OF.items()
            if logical_id in defined
        }

    def authorize(
        self, route: Route, headers: Sequence[tuple[str, str]], method: str, path: str
    ) -> tuple[dict[str, Any] | None, Response | None]:
        """(requestContext.authorizer, None) when the caller may call the route, else (None, the refusal)."""
        if route.auth == "none":
            return None, None
        token = _bearer(headers)
        if route.auth == "jwt":
            # Built per request: `make run` may load its kept key after the gateway was made.
            claims = tokens.member_verifier().verified_claims(token) if token else None
            if claims is None:
                return None, UNAUTHORIZED
            return {"jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()}, "scopes": None}}, None
        operator = tokens.verify_operator(token) if token else None
        if operator is None:
            return None, FORBIDDEN
        role = self._roles.get(operator["role"])
        if role is None:
            return None, FORBIDDEN
        resource = f"arn:aws:execute-api:{region()}:{ACCOUNT_ID}:{LOCAL_API_ID}/{STAGE}/{method}{path}"
        if not any(_iam_matches(pattern, resource) for pattern in role.invoke_resources):
            return None, FORBIDDEN
        session = tokens.role_session(operator)
        return {
            "iam": {
                "accessKey": "ASIALOCAL",
                "accountId": ACCOUNT_ID,
                "callerId": f"AROALOCAL{role.logical_id.upper()}:{session}",
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role.name}/{session}",
                "userId": f"AROALOCAL{role.logical_id.upper()}:{session}",
            }
        }, None
