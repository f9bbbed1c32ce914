"""Who is calling, as API Gateway's authorizers established it. Nothing here trusts the request body.

Members: the JWT authorizer has checked the token's signature, issuer, client and expiry; being a member
also takes an ID token whose phone number is verified, which the authorizer does not check.

Operators: IAM-authorised routes tell the function only the caller's ARN. Each kind of operator assumes
its own role (template.yaml: AdminCallerRole, PosCallerRole), and the handlers check the role too, not
only the roles' policies: an admin caller reaches only admin routes, a store terminal only pos routes.
A terminal's role session is named `<store id>@<terminal id>`, and the role's trust policy allows no
other name than the one its principal's tags give (`cashback-store-id`, `cashback-terminal-id`): the
store a terminal speaks for comes from its identity, never from what it sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from cashback.platform.errors import Forbidden, Unauthorized
from cashback.platform.web.id_tokens import MemberClaims, member_of

MemberIdentity = MemberClaims

# arn:aws:sts::<account>:assumed-role/<role name>/<session name>; names as IAM allows them.
_ASSUMED_ROLE = re.compile(r"^arn:aws[a-z-]*:sts::\d{12}:assumed-role/([\w+=,.@-]{1,64})/([\w+=,.@-]{2,64})$")


@dataclass(frozen=True)
class Terminal:
    """A store terminal: the store it speaks for, and its own identity (its ARN), which limits count on."""

    store_id: str
    identity: str


def member_identity(event: APIGatewayProxyEventV2) -> MemberIdentity:
    claims = event.request_context.authorizer.jwt_claim or {}
    if not claims.get("sub"):
        raise Unauthorized("a member token is required", code="unauthorized")
    member = member_of(claims, verified="true")  # API Gateway passes every claim as a string
    if member is None:
        raise Forbidden(
            "sign in with a verified phone number (an ID token with phone_number_verified)",
            code="phone_not_verified",
        )
    return member


def _assumed_role(event: APIGatewayProxyEventV2, role_name: str, kind: str) -> tuple[str, str]:
    arn = event.request_context.authorizer.iam.user_arn or ""
    matched = _ASSUMED_ROLE.match(arn)
    if not role_name or matched is None or matched.group(1) != role_name:
        raise Forbidden(f"this route is for {kind} callers only", code="forbidden")
    return arn, matched.group(2)


def admin_identity(event: APIGatewayProxyEventV2, admin_role: str) -> str:
    """The ARN of an admin caller (kept with every change it makes); anyone else is refused."""
    arn, _ = _assumed_role(event, admin_role, "admin")
    return arn


def terminal_identity(event: APIGatewayProxyEventV2, pos_role: str) -> Terminal:
    """The calling store terminal; anyone else, and a session not named `<store>@<terminal>`, is refused."""
    arn, session = _assumed_role(event, pos_role, "store terminal")
    store_id, at, terminal_id = session.partition("@")
    if not at or not store_id or not terminal_id:
        raise Forbidden("a store terminal's session names its store and terminal", code="forbidden")
    return Terminal(store_id=store_id, identity=arn)


class CallerRoles(Protocol):
    @property
    def admin_caller_role(self) -> str: ...
    @property
    def pos_caller_role(self) -> str: ...


def check_operator_route(event: APIGatewayProxyEventV2, roles: CallerRoles) -> None:
    """On an IAM-authorised route, refuses a caller of the other kind before anything reads the request:
    admin routes (under /admin/) are for admin callers only, the others for store terminals only."""
    if not event.request_context.authorizer.iam.user_arn:
        return  # a member or public route: its own checks apply
    path = (event.route_key or "").partition(" ")[2] or event.raw_path
    if path.startswith("/admin/"):
        admin_identity(event, roles.admin_caller_role)
    else:
        terminal_identity(event, roles.pos_caller_role)
