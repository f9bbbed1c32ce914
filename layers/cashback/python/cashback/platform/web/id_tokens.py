"""Member ID tokens (RS256 JWTs), checked with PyJWT: Cognito's in AWS, the local stack's keys locally.

One verifier for both: only the issuer, the audience (the app client) and where the keys come from
differ. Two levels of checking:
- `verified_claims`: what API Gateway's JWT authorizer checks before a member route runs (signature,
  issuer, audience or client, expiry); the local gateway runs exactly this.
- `member`: what makes the caller a member on a public route, where API Gateway checks nothing: the above,
  plus an ID token (`token_use: id`) whose phone number has been verified.

Anything that is not a well-formed token of ours (nested or huge JSON, non-canonical base64, a NaN or
string expiry, an `alg` other than RS256, a key we do not have) yields None, never an exception.

PyJWT (with cryptography, ~120 ms) is imported on the first token checked, not with this module: every
member route's handler reads claims through here, and only the public catalog verifies a token itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from cashback.platform.errors import MalformedInput
from cashback.platform.json_text import parse_json

ALGORITHM = "RS256"
# Cognito's ID tokens are 1-2 KB; API Gateway refuses headers past 10 KB anyway.
MAX_TOKEN_LENGTH = 8192
MIN_RSA_BITS = 2048
JWKS_REFRESH_SECONDS = 300
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")

Clock = Callable[[], float]  # not money: seconds since the epoch
FetchKeys = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class MemberClaims:
    """A member as their ID token names them: `sub` is stable, the phone number has been verified."""

    sub: str
    phone: str


class KeySource(Protocol):
    def key(self, kid: str) -> Any | None:
        """The public key of `kid`, or None when there is none."""


class MemberTokenVerifier(Protocol):
    def member(self, token: str) -> MemberClaims | None: ...


def _canonical_segment(segment: str) -> bytes | None:
    # Python's decoder accepts spellings no JWT encoder writes (padding, stray bits): refuse them, so that
    # one token has one spelling.
    if not _SEGMENT.match(segment):
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == segment else None


def _header(token: str) -> dict[str, Any] | None:
    """The token's header when every part is canonical base64url and header and payload are JSON objects
    of sane depth; the payload is checked here, before PyJWT reads it with an unbounded json.loads."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    decoded = [_canonical_segment(part) for part in parts]
    if any(part is None for part in decoded):
        return None
    try:
        header, payload = parse_json(decoded[0] or b""), parse_json(decoded[1] or b"")
    except MalformedInput:
        return None
    return header if isinstance(header, dict) and isinstance(payload, dict) else None


def _whole_seconds(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class JwksKeys:
    """The keys of a JSON Web Key Set, fetched once per container and again only for a key id not seen
    before, at most every 5 minutes (a broken network must not add a call per request)."""

    def __init__(self, url: str, fetch: FetchKeys | None = None, clock: Clock = time.time) -> None:
        self.url = url
        self._fetch = fetch or fetch_jwks
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None  # not money: a time

    def key(self, kid: str) -> Any | None:
        now = self._clock()
        if kid not in self._keys and (self._fetched_at is None or now - self._fetched_at >= JWKS_REFRESH_SECONDS):
            self._fetched_at = now
            try:
                self._keys = signing_keys(self._fetch(self.url))
            except (OSError, ValueError):
                return None
        return self._keys.get(kid)


class StaticKeys:
    """A key set known in advance (the local stack's, the tests')."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._keys = signing_keys(document)

    def key(self, kid: str) -> Any | None:
        return self._keys.get(kid)


def signing_keys(document: Mapping[str, Any]) -> dict[str, Any]:
    """RS256 signing keys of at least 2048 bits by key id; anything else in the set is ignored."""
    import jwt

    keys: dict[str, Any] = {}
    entries = document.get("keys") if isinstance(document, Mapping) else None
    for jwk in entries if isinstance(entries, list) else ():
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("kty") != "RSA" or jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        if key.key_size >= MIN_RSA_BITS:
            keys[jwk["kid"]] = key
    return keys


def fetch_jwks(url: str) -> Mapping[str, Any]:
    from urllib.request import urlopen  # only the deployed verifier fetches anything

    if not url.startswith("https://"):
        raise ValueError(f"refusing to fetch keys from {url!r}")
    with urlopen(url, timeout=2) as response:  # noqa: S310 (an https URL built from our own settings)
        document: Mapping[str, Any] = json.load(response)
    return document


class IdTokenVerifier:
    def __init__(self, issuer: str, audience: str, keys: KeySource, *, clock: Clock = time.time) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = keys
        self._clock = clock

    @classmethod
    def cognito(cls, region: str, user_pool_id: str, client_id: str, **options: Any) -> IdTokenVerifier:
        issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        return cls(issuer, client_id, JwksKeys(f"{issuer}/.well-known/jwks.json"), **options)

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a genuine, current token of this issuer for this app client (an ID token names it
        in `aud`, an access token in `client_id`), as API Gateway's JWT authorizer accepts them."""
        header = _header(token)
        if header is None or header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            return None
        key = self._keys.key(header["kid"])
        if key is None:
            return None
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                # Times are checked below against our clock; the audience too, for access tokens' sake.
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, RecursionError):
            return None
        if not self._current(claims):
            return None
        use = claims.get("token_use")
        if use == "id" and claims.get("aud") == self.audience:
            return claims
        if use == "access" and claims.get("client_id") == self.audience:
            return claims
        return None

    def member(self, token: str) -> MemberClaims | None:
        claims = self.verified_claims(token)
        return member_of(claims) if claims is not None else None

    def _current(self, claims: Mapping[str, Any]) -> bool:
        expires, not_before, now = claims.get("exp"), claims.get("nbf"), self._clock()
        if not _whole_seconds(expires) or expires <= now:
            return False
        return not_before is None or (_whole_seconds(not_before) and not_before <= now)


def member_of(claims: Mapping[str, Any], *, verified: object = True) -> MemberClaims | None:
    """The member an ID token names, when its phone number has been verified. The token holds a JSON
    boolean; API Gateway hands claims to a function as strings, so handlers ask for "true" instead."""
    sub, phone = claims.get("sub"), claims.get("phone_number")
    if claims.get("token_use") != "id" or claims.get("phone_number_verified") != verified:
        return None
    if type(claims.get("phone_number_verified")) is not type(verified):
        return None  # 1 == True in Python; a token must say true, not 1
    if not (isinstance(sub, str) and sub and isinstance(phone, str) and phone):
        return None
    return MemberClaims(sub=sub, phone=phone)
