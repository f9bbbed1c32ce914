"""Local stand-ins for the callers' credentials: Cognito's member ID tokens and IAM-signed operators.

Member tokens are shaped as the ID tokens Cognito issues after an SMS sign-in (RS256, `token_use: id`,
`aud` = the app client, `phone_number` and `phone_number_verified`), signed with the local stack's RSA key
and checked with the key set it serves at `GET /_local/jwks.json`, by the same verifier the deployed
functions use (`cashback.platform.web.id_tokens`). A frontend built against the local stack therefore
works unchanged against a user pool.

Operator tokens stand in for IAM request signing, which the local gateway cannot check: `{"role": "admin"}`
or `{"role": "pos", "store_id": ..., "terminal_id"?}`, signed with the same key under another issuer, and
accepted on IAM-authorised routes only.

The key is made once per process, or given with `use_key` (`make run` keeps it with its data, so tokens
survive a restart). None of this is deployed.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cashback.platform.web.id_tokens import ALGORITHM, MAX_TOKEN_LENGTH, IdTokenVerifier, StaticKeys

# Shaped like a user pool's issuer, on a domain that cannot exist (.invalid), so it is never mistaken for one.
ISSUER = "https://cognito-idp.local.invalid/local_cashback"
CLIENT_ID = "cashback-local-app"
OPERATOR_ISSUER = f"{ISSUER}/operators"
OPERATOR_AUDIENCE = "cashback-local-iam"
LIFETIME_SECONDS = 12 * 3600
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# IAM role session names allow these; a pos token's session is `<store_id>@<terminal_id>` (identity.py).
SESSION_PART = re.compile(r"^[\w+=,.-]{1,31}$")

Role = Literal["admin", "pos"]
ROLES: tuple[Role, ...] = ("admin", "pos")


class InvalidTokenRequest(ValueError):
    """What was asked for cannot be a token; `code` is the API's snake_case error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
            raise ValueError("the local token key must be an RSA key of at least 2048 bits")
        return cls(key)

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @cached_property
    def kid(self) -> str:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(public).hexdigest()[:16]

    def jwk(self) -> dict[str, Any]:
        # The members of a user pool's keys, no more (PyJWT would add key_ops).
        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {"alg": ALGORITHM, "e": jwk["e"], "kid": self.kid, "kty": "RSA", "n": jwk["n"], "use": "sig"}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


_key: SigningKey | None = None


def current_key() -> SigningKey:
    global _key
    if _key is None:
        _key = SigningKey.generate()
    return _key


def use_key(key: SigningKey) -> None:
    """Sign and verify with `key` from now on (`make run` keeps one on disk, next to its data)."""
    global _key
    _key = key


def jwks(key: SigningKey | None = None) -> dict[str, Any]:
    """The key set `GET /_local/jwks.json` serves, as a user pool serves its own."""
    return {"keys": [(key or current_key()).jwk()]}


def member_verifier(key: SigningKey | None = None) -> IdTokenVerifier:
    """The deployed verifier, given the local issuer, app client and keys."""
    return IdTokenVerifier(ISSUER, CLIENT_ID, StaticKeys(jwks(key)))


def member_id_for(phone: str) -> str:
    """The stable `sub` of a phone number, as Cognito keeps one user per phone."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cashback-local-member:{phone}"))


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def mint_member(
    phone: str, *, key: SigningKey | None = None, now: int | None = None, phone_verified: bool = True
) -> str:
    """An ID token as Cognito issues one after the member signed in with an SMS code."""
    if not isinstance(phone, str) or not E164.match(phone):
        raise InvalidTokenRequest("invalid_phone", "phone must be in E.164 form, like +79161234567")
    issued, sub = _now(now), member_id_for(phone)
    claims = {
        "sub": sub,
        "aud": CLIENT_ID,
        "iss": ISSUER,
        "token_use": "id",
        "cognito:username": sub,
        "phone_number": phone,
        "phone_number_verified": phone_verified,
        "auth_time": issued,
        "iat": issued,
        "exp": issued + LIFETIME_SECONDS,
        "jti": str(uuid.uuid4()),
        "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
    }
    return (key or current_key()).sign(claims)


def mint_operator(
    role: Role,
    store_id: str | None = None,
    terminal_id: str | None = None,
    *,
    key: SigningKey | None = None,
    now: int | None = None,
) -> str:
    if role not in ROLES:
        raise InvalidTokenRequest("invalid_role", "role must be admin or pos")
    claims: dict[str, Any] = {"role": role}
    if role == "pos":
        terminal_id = terminal_id or "terminal-1"
        for name, value in (("store_id", store_id), ("terminal_id", terminal_id)):
            if not isinstance(value, str) or not SESSION_PART.match(value):
                raise InvalidTokenRequest(
                    f"{name}_required" if value is None else f"invalid_{name}",
                    f"a pos token needs the {name} of its terminal: 1-31 letters, digits or +=,.-_",
                )
        claims |= {"store_id": store_id, "terminal_id": terminal_id}
    elif store_id is not None or terminal_id is not None:
        raise InvalidTokenRequest("invalid_role", "only a pos token names a store and terminal")
    issued = _now(now)
    claims |= {
        "sub": f"{role}:{store_id}@{terminal_id}" if role == "pos" else "admin:local-admin",
        "iss": OPERATOR_ISSUER,
        "aud": OPERATOR_AUDIENCE,
        "iat": issued,
        "exp": issued + LIFETIME_SECONDS,
    }
    return (key or current_key()).sign(claims)


def verify_operator(token: str, *, key: SigningKey | None = None, now: int | None = None) -> dict[str, Any] | None:
    """An operator token's claims if it was signed here and has not expired, else None."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            (key or current_key()).private_key.public_key(),
            algorithms=[ALGORITHM],
            issuer=OPERATOR_ISSUER,
            audience=OPERATOR_AUDIENCE,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},  # checked below
        )
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int) or expires <= _now(now):
        return None
    return claims if claims.get("role") in ROLES else None


def role_session(claims: dict[str, Any]) -> str:
    """The IAM role session an operator token stands for (identity.py reads the store from it)."""
    if claims.get("role") == "pos":
        return f"{claims['store_id']}@{claims['terminal_id']}"
    return "local-admin"
