"""Who the member is on public routes, where API Gateway checks no token: the handler checks it itself.

The catalog is public, but a member's token adds their signed "Go to store" links. The token is
optional: a missing, malformed, forged or expired one makes the caller anonymous, never an error.
The composition root gives the verifier: in AWS RS256 JWTs of the member user pool, checked against the
pool's JWKS (fetched once per container, again only for a key id it has not seen, at most every 5
minutes), with issuer, client and expiry checked as API Gateway's JWT authorizer does; the local stack
gives its own (local/tokens.py).

RS256 is verified here with the standard library (RSASSA-PKCS1-v1_5 with SHA-256, RFC 8017 8.2.2): the
expected encoded message is rebuilt and compared whole, which leaves no parsing to get wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from cashback.platform.errors import MalformedInput
from cashback.platform.json_text import parse_json

JWKS_REFRESH_SECONDS = 300
MIN_RSA_BITS = 2048
# DER prefix of DigestInfo for SHA-256 (RFC 8017, 9.2 note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")

Clock = Callable[[], float]  # not money: seconds since the epoch
FetchKeys = Callable[[str], Mapping[str, Any]]


class MemberTokenVerifier(Protocol):
    def member_id(self, token: str) -> str | None:
        """The member's id (`sub`) when the token is genuine and current, else None."""


@dataclass(frozen=True)
class _Jwt:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse(token: str) -> _Jwt | None:
    """The token's parts, or None for anything that is not a JWT: its JSON is read as untrusted JSON (an
    anonymous caller can send a token nested 1,000 deep)."""
    try:
        header, payload, signature = token.split(".")
        parsed = _Jwt(
            parse_json(_unb64(header)), parse_json(_unb64(payload)), f"{header}.{payload}".encode(), _unb64(signature)
        )
    except (ValueError, UnicodeError, MalformedInput):
        return None
    return parsed if isinstance(parsed.header, dict) and isinstance(parsed.claims, dict) else None


def _current(claims: Mapping[str, Any], now: float) -> bool:  # not money: a time
    expires, not_before = claims.get("exp"), claims.get("nbf", 0)
    if isinstance(expires, bool) or not isinstance(expires, int | float) or expires <= now:
        return False
    return isinstance(not_before, int | float) and not_before <= now


def _subject(claims: Mapping[str, Any]) -> str | None:
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


# --- Cognito (AWS) ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RsaPublicKey:
    n: int
    e: int

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> RsaPublicKey | None:
        if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256" or jwk.get("use", "sig") != "sig":
            return None
        try:
            key = cls(int.from_bytes(_unb64(jwk["n"]), "big"), int.from_bytes(_unb64(jwk["e"]), "big"))
        except (KeyError, TypeError, ValueError):
            return None
        return key if key.n.bit_length() >= MIN_RSA_BITS and key.e >= 3 and key.e % 2 == 1 else None

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """RSASSA-PKCS1-v1_5 verification with SHA-256."""
        size = (self.n.bit_length() + 7) // 8
        if len(signature) != size:
            return False
        s = int.from_bytes(signature, "big")
        if s >= self.n:
            return False
        encoded = pow(s, self.e, self.n).to_bytes(size, "big")
        digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        return hmac.compare_digest(encoded, expected)


def fetch_jwks(url: str) -> Mapping[str, Any]:
    from urllib.request import urlopen  # only Cognito's verifier ever fetches anything

    if not url.startswith("https://"):
        raise ValueError(f"refusing to fetch keys from {url!r}")
    with urlopen(url, timeout=2) as response:  # noqa: S310 (an https URL built from our own settings)
        document: Mapping[str, Any] = json.load(response)
    return document


class CognitoVerifier:
    def __init__(
        self,
        region: str,
        user_pool_id: str,
        client_id: str,
        *,
        fetch_keys: FetchKeys = fetch_jwks,
        clock: Clock = time.time,
    ) -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.client_id = client_id
        self._fetch_keys = fetch_keys
        self._clock = clock
        self._keys: dict[str, RsaPublicKey] = {}
        self._fetched_at: float | None = None  # not money: a time

    def member_id(self, token: str) -> str | None:
        jwt = _parse(token)
        if jwt is None or jwt.header.get("alg") != "RS256":
            return None
        key = self._key(jwt.header.get("kid"))
        if key is None or not key.verifies(jwt.signing_input, jwt.signature):
            return None
        claims, now = jwt.claims, self._clock()
        if claims.get("iss") != self.issuer or not _current(claims, now):
            return None
        # Access tokens name the app client in `client_id`, ID tokens in `aud`, as API Gateway checks them.
        use = claims.get("token_use")
        if not (
            (use == "access" and claims.get("client_id") == self.client_id)
            or (use == "id" and claims.get("aud") == self.client_id)
        ):
            return None
        return _subject(claims)

    def _key(self, kid: Any) -> RsaPublicKey | None:
        if not isinstance(kid, str):
            return None
        now = self._clock()
        if kid not in self._keys and (self._fetched_at is None or now - self._fetched_at >= JWKS_REFRESH_SECONDS):
            self._fetched_at = now  # a failed fetch also waits: a broken network must not add a call per request
            try:
                document = self._fetch_keys(f"{self.issuer}/.well-known/jwks.json")
            except (OSError, ValueError):
                return None
            keys = {
                jwk.get("kid"): RsaPublicKey.from_jwk(jwk) for jwk in document.get("keys", ()) if isinstance(jwk, dict)
            }
            self._keys = {k: v for k, v in keys.items() if isinstance(k, str) and v is not None}
        return self._keys.get(kid)


# --- using one -------------------------------------------------------------------------------------------


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
    return verifier.member_id(token) if verifier and token else None
