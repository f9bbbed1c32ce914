"""Local stand-ins for the callers' credentials: Cognito member JWTs and IAM-signed operators.

HS256 JWTs signed with a per-process random secret, `CASHBACK_LOCAL_TOKEN_SECRET`, or one set with
`use_secret` (`make run` keeps its secret with its data, so that tokens survive a restart). They are
only ever accepted by the local gateway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import uuid
from typing import Any, Literal

ISSUER = "cashback-local"
LIFETIME_SECONDS = 12 * 3600
E164 = re.compile(r"^\+[1-9]\d{7,14}$")

Role = Literal["admin", "pos"]
ROLES: tuple[Role, ...] = ("admin", "pos")

# Text, not raw bytes: in-process handlers that verify a member token themselves get it as an env variable.
_SECRET = (os.environ.get("CASHBACK_LOCAL_TOKEN_SECRET") or secrets.token_urlsafe(32)).encode()


def current_secret() -> str:
    return _SECRET.decode()


def use_secret(secret: bytes) -> None:
    """Sign and verify with `secret` from now on (`make run` keeps one on disk, next to its data)."""
    global _SECRET
    if len(secret) < 16:
        raise ValueError("a token secret needs at least 16 bytes")
    _SECRET = secret


class InvalidTokenRequest(ValueError):
    """What was asked for cannot be a token; `code` is the API's snake_case error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(signing_input: bytes, secret: bytes) -> str:
    return _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())


def encode(claims: dict[str, Any], secret: bytes | None = None) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{_sign(signing_input, secret or _SECRET)}"


def _timed(claims: dict[str, Any], now: int | None) -> dict[str, Any]:
    issued = int(time.time()) if now is None else now
    return {**claims, "iss": ISSUER, "iat": issued, "exp": issued + LIFETIME_SECONDS}


def member_id_for(phone: str) -> str:
    """The stable `sub` of a phone number, as Cognito keeps one user per phone."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cashback-local-member:{phone}"))


def mint_member(phone: str, *, secret: bytes | None = None, now: int | None = None) -> str:
    if not isinstance(phone, str) or not E164.match(phone):
        raise InvalidTokenRequest("invalid_phone", "phone must be in E.164 form, like +79161234567")
    claims = {"sub": member_id_for(phone), "phone_number": phone, "token_use": "access"}
    return encode(_timed(claims, now), secret)


def mint_operator(
    role: Role, store_id: str | None = None, *, secret: bytes | None = None, now: int | None = None
) -> str:
    if role not in ROLES:
        raise InvalidTokenRequest("invalid_role", "role must be admin or pos")
    if role == "pos" and not (isinstance(store_id, str) and store_id.strip()):
        raise InvalidTokenRequest("store_id_required", "a pos token needs the store_id of its terminal")
    claims: dict[str, Any] = {"sub": f"{role}:{store_id or 'local-admin'}", "role": role}
    if store_id is not None:
        claims["store_id"] = store_id
    return encode(_timed(claims, now), secret)


def verify(token: str, *, secret: bytes | None = None, now: int | None = None) -> dict[str, Any] | None:
    """The token's claims if it was signed here and has not expired, else None."""
    try:
        header, payload, signature = token.split(".")
        expected = _sign(f"{header}.{payload}".encode("ascii"), secret or _SECRET)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
            return None
        if json.loads(_unb64(header)).get("alg") != "HS256":
            return None
        claims = json.loads(_unb64(payload))
    except (ValueError, UnicodeError, AttributeError):
        return None
    if not isinstance(claims, dict):
        return None
    expires = claims.get("exp")
    current = int(time.time()) if now is None else now
    if not isinstance(expires, int) or expires <= current:
        return None
    return claims


def is_member(claims: dict[str, Any]) -> bool:
    return claims.get("token_use") == "access" and isinstance(claims.get("phone_number"), str)


def is_operator(claims: dict[str, Any]) -> bool:
    return claims.get("role") in ROLES and "phone_number" not in claims


class LocalMemberTokens:
    """The member tokens minted here, as the handlers of public routes check them in the local stack (in AWS
    the composition root gives them Cognito's verifier instead)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret

    def member_id(self, token: str) -> str | None:
        claims = verify(token, secret=self._secret)
        if claims is None or claims.get("iss") != ISSUER or not is_member(claims):
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) and sub else None
