"""Who is calling, as API Gateway's authorizers established it. Nothing here trusts the request body."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from cashback.platform.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class MemberIdentity:
    """A member verified by the identity provider: `sub` is stable, the phone number is verified."""

    sub: str
    phone: str


def member_identity(event: APIGatewayProxyEventV2) -> MemberIdentity:
    claims = event.request_context.authorizer.jwt_claim
    sub, phone = claims.get("sub"), claims.get("phone_number")
    if not sub:
        raise Unauthorized("a member token is required", code="unauthorized")
    if not phone:
        raise Forbidden("the token carries no verified phone number", code="phone_not_verified")
    return MemberIdentity(sub=str(sub), phone=str(phone))


def operator_identity(event: APIGatewayProxyEventV2) -> str:
    """The IAM principal of an admin or store-terminal call, kept with every change it makes."""
    arn = event.request_context.authorizer.iam.user_arn
    if not arn:
        raise Forbidden("an operator's IAM identity is required", code="forbidden")
    return arn
