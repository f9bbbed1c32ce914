"""Who the member is on public routes, where API Gateway checks no token: the handler checks it itself.

The catalog is public, but a member's token adds their signed "Go to store" links. The token is
optional: a missing, malformed, forged or expired one, or one without a verified phone number, makes the
caller anonymous, never an error. The composition root gives the verifier (`id_tokens.IdTokenVerifier`:
the user pool's keys in AWS, the local stack's keys locally).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from cashback.platform.web.id_tokens import MemberTokenVerifier


def bearer_token(event: APIGatewayProxyEventV2) -> str | None:
    value = event.headers.get("authorization") or ""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def optional_member_id(event: APIGatewayProxyEventV2, verifier: MemberTokenVerifier | None) -> str | None:
    """The calling member on a public route, or None for anyone without a valid member token (or where no
    verifier is configured)."""
    token = bearer_token(event)
    member = verifier.member(token) if verifier and token else None
    return member.sub if member else None
