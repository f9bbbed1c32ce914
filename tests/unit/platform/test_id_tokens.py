"""Member ID tokens: a genuine, current ID token of our pool and app client with a verified phone names a
member; anything else - forged, expired, for another app, another issuer, an `alg` trick, malformed in
any way - names nobody, and never raises.

Tokens are signed here with `cryptography` directly, independently of the PyJWT the verifier uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from cashback.bootstrap import Container
from cashback.platform.config import Settings
from cashback.platform.web.id_tokens import (
    JWKS_REFRESH_SECONDS,
    MAX_TOKEN_LENGTH,
    IdTokenVerifier,
    JwksKeys,
    MemberClaims,
)
from local import tokens

REGION, POOL, CLIENT = "eu-central-1", "eu-central-1_Example", "4k8example"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
NOW = 1_795_521_600
SUB = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"
PHONE = "+79161234567"
MEMBER = MemberClaims(sub=SUB, phone=PHONE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()  # allow_nan: some tests need NaN and Infinity in a token


class Pool:
    """A user pool's signing keys and JWKS, and a counter of how often the JWKS was fetched."""

    def __init__(self, bits: int = 2048) -> None:
        self.keys = {"key-1": rsa.generate_private_key(public_exponent=65537, key_size=bits)}
        self.fetches = 0
        self.down = False

    def jwks(self, url: str) -> Mapping[str, Any]:
        assert url == f"{ISSUER}/.well-known/jwks.json"
        self.fetches += 1
        if self.down:
            raise OSError("network unreachable")
        keys = []
        for kid, key in self.keys.items():
            numbers = key.public_key().public_numbers()
            keys.append({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": _int_b64(numbers.n), "e": "AQAB"})
        return {"keys": keys}

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims = {
            "sub": SUB,
            "aud": CLIENT,
            "iss": ISSUER,
            "token_use": "id",
            "phone_number": PHONE,
            "phone_number_verified": True,
            "auth_time": NOW - 60,
            "iat": NOW - 60,
            "exp": NOW + 3600,
            **changes,
        }
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, header: Mapping[str, Any], payload: bytes, kid: str = "key-1") -> str:
        signing_input = f"{_b64(_json(header))}.{_b64(payload)}".encode()
        signature = self.keys[kid].sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64(signature)}"

    def token(self, kid: str = "key-1", header: Mapping[str, Any] | None = None, **claims: Any) -> str:
        return self.sign(header or {"alg": "RS256", "kid": kid, "typ": "JWT"}, _json(self.claims(**claims)), kid)


@pytest.fixture
def pool() -> Pool:
    return Pool()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cognito(pool: Pool, clock: Clock) -> IdTokenVerifier:
    return IdTokenVerifier(ISSUER, CLIENT, JwksKeys(f"{ISSUER}/.well-known/jwks.json", pool.jwks, clock), clock=clock)


def test_an_id_token_with_a_verified_phone_names_the_member(cognito: IdTokenVerifier, pool: Pool) -> None:
    assert cognito.member(pool.token()) == MEMBER


@pytest.mark.parametrize("verified", [False, "true", None])
def test_a_phone_that_is_not_verified_names_nobody(cognito: IdTokenVerifier, pool: Pool, verified: Any) -> None:
    # Given a genuine ID token whose phone_number_verified is false, a string, or missing
    token = pool.token(phone_number_verified=verified)
    # Then API Gateway's checks pass (the function refuses it), but it makes no member
    assert cognito.verified_claims(token) is not None
    assert cognito.member(token) is None


def test_an_access_token_passes_api_gateway_but_names_no_member(cognito: IdTokenVerifier, pool: Pool) -> None:
    token = pool.token(token_use="access", aud=None, client_id=CLIENT, phone_number=None, phone_number_verified=None)
    assert cognito.verified_claims(token) is not None
    assert cognito.member(token) is None


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW},  # expired this second
        {"exp": NOW - 60},
        {"exp": str(NOW + 3600)},  # a string PyJWT alone would read as a number
        {"exp": True},
        {"exp": float("nan")},
        {"exp": float("inf")},
        {"exp": 1e400},  # Infinity again, written as a number
        {"exp": None},
        {"nbf": NOW + 60},
        {"iss": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other"},
        {"iss": None},
        {"aud": "another-app"},
        {"aud": [CLIENT, "another-app"]},
        {"token_use": "refresh"},
        {"token_use": None},
        {"sub": ""},
        {"sub": None},
        {"phone_number": None},
    ],
    ids=repr,
)
def test_a_token_not_for_us_or_not_current_names_nobody(
    cognito: IdTokenVerifier, pool: Pool, claims: dict[str, Any]
) -> None:
    assert cognito.member(pool.token(**claims)) is None


def test_a_forged_token_names_nobody(cognito: IdTokenVerifier, pool: Pool) -> None:
    # Given a genuine token whose claims were changed, and one signed by a key the pool does not have
    head, _, signature = pool.token().split(".")
    changed = _b64(_json(pool.claims(sub="someone-else")))
    stranger = Pool()
    # Then neither names anybody
    assert cognito.member(f"{head}.{changed}.{signature}") is None
    assert cognito.member(stranger.token()) is None


def test_alg_tricks_are_refused(cognito: IdTokenVerifier, pool: Pool) -> None:
    claims = _b64(_json(pool.claims()))
    public_jwks = _json(pool.jwks(f"{ISSUER}/.well-known/jwks.json"))
    public_pem_like = public_jwks  # whatever bytes an attacker might guess the verifier uses as an HMAC key
    unsigned = f"{_b64(_json({'alg': 'none', 'kid': 'key-1'}))}.{claims}."
    hs_head = _b64(_json({"alg": "HS256", "kid": "key-1"}))
    hs_mac = hmac.new(public_pem_like, f"{hs_head}.{claims}".encode(), hashlib.sha256).digest()
    rs512 = pool.sign({"alg": "RS512", "kid": "key-1"}, _json(pool.claims()))  # signed SHA-256, named otherwise
    no_kid = pool.sign({"alg": "RS256"}, _json(pool.claims()))
    odd_kid = pool.sign({"alg": "RS256", "kid": ["key-1"]}, _json(pool.claims()))

    for token in (unsigned, f"{hs_head}.{claims}.{_b64(hs_mac)}", rs512, no_kid, odd_kid):
        assert cognito.member(token) is None


def _nested(depth: int) -> bytes:
    return b'{"sub": ' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    "make",
    [
        lambda pool: "",
        lambda pool: "garbage",
        lambda pool: "a.b.c",
        lambda pool: "a.b",
        lambda pool: "e30.e30.e30",
        lambda pool: pool.token() + ".extra",
        lambda pool: pool.token() + "=",  # padding no encoder writes
        lambda pool: pool.token().replace(".", "=.", 1),
        lambda pool: pool.token()[:-1] + chr(ord(pool.token()[-1]) ^ 1),  # stray bits in the last symbol
        lambda pool: pool.token().replace("e", "é", 1),
        lambda pool: pool.sign({"alg": "RS256", "kid": "key-1"}, _nested(5000)),
        lambda pool: pool.sign({"alg": "RS256", "kid": "key-1"}, b"[1, 2, 3]"),
        lambda pool: pool.sign({"alg": "RS256", "kid": "key-1"}, b'{"exp": NaN}'),
        lambda pool: pool.sign({"alg": "RS256", "kid": "key-1"}, b'{"exp": 1' + b"0" * 5000 + b"}"),
        lambda pool: pool.sign({"alg": "RS256", "kid": "key-1"}, b"\xff\xfe not utf-8"),
        lambda pool: pool.token(padding="x" * MAX_TOKEN_LENGTH),  # huge
    ],
    ids=[
        "empty",
        "garbage",
        "short parts",
        "two parts",
        "empty objects",
        "four parts",
        "padded",
        "padded header",
        "non-canonical base64",
        "not ascii",
        "nested 5000 deep",
        "payload not an object",
        "NaN expiry",
        "5000-digit expiry",
        "not utf-8",
        "huge",
    ],
)
def test_malformed_tokens_name_nobody_without_raising(cognito: IdTokenVerifier, pool: Pool, make: Any) -> None:
    token = make(pool)
    assert cognito.verified_claims(token) is None
    assert cognito.member(token) is None


@given(st.text(max_size=300) | st.from_regex(r"\A[A-Za-z0-9_=-]{0,40}(\.[A-Za-z0-9_=-]{0,40}){2}\Z"))
def test_no_text_makes_the_verifier_raise(text: str) -> None:
    verifier = IdTokenVerifier(ISSUER, CLIENT, JwksKeys("https://example.invalid/jwks.json", lambda url: {"keys": []}))
    assert verifier.member(text) is None


def test_the_keys_are_fetched_once_and_again_only_for_a_new_key(
    cognito: IdTokenVerifier, pool: Pool, clock: Clock
) -> None:
    for _ in range(3):
        assert cognito.member(pool.token()) == MEMBER
    assert pool.fetches == 1

    pool.keys["key-2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # Cognito rotates
    assert cognito.member(pool.token(kid="key-2")) is None  # too soon to fetch again
    clock.now += JWKS_REFRESH_SECONDS
    assert cognito.member(pool.token(kid="key-2")) == MEMBER
    assert pool.fetches == 2


def test_unreachable_keys_make_callers_anonymous_without_a_fetch_per_request(
    cognito: IdTokenVerifier, pool: Pool
) -> None:
    pool.down = True
    assert [cognito.member(pool.token()) for _ in range(3)] == [None, None, None]
    assert pool.fetches == 1


def test_short_rsa_keys_are_not_trusted(clock: Clock) -> None:
    weak = Pool(bits=1024)
    verifier = IdTokenVerifier(ISSUER, CLIENT, JwksKeys(f"{ISSUER}/.well-known/jwks.json", weak.jwks, clock))
    assert verifier.member(weak.token()) is None


# --- the local stack: the same verifier, the local issuer and keys ------------------------------------------


def test_a_locally_minted_id_token_is_shaped_as_cognitos_and_names_the_member() -> None:
    token = tokens.mint_member(PHONE)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    claims = tokens.member_verifier().verified_claims(token)

    assert header == {"alg": "RS256", "kid": tokens.current_key().kid, "typ": "JWT"}
    assert claims is not None
    assert (claims["token_use"], claims["aud"], claims["phone_number_verified"]) == ("id", tokens.CLIENT_ID, True)
    assert tokens.member_verifier().member(token) == MemberClaims(tokens.member_id_for(PHONE), PHONE)


@pytest.mark.parametrize(
    "token",
    [
        tokens.mint_member(PHONE, key=tokens.SigningKey.generate()),  # not the stack's key
        tokens.mint_member(PHONE, now=NOW - tokens.LIFETIME_SECONDS),  # expired
        tokens.mint_member(PHONE, phone_verified=False),
        tokens.mint_operator("admin"),  # an operator, not a member
    ],
    ids=["foreign key", "expired", "unverified phone", "operator"],
)
def test_other_local_tokens_name_no_member(token: str) -> None:
    assert tokens.member_verifier().member(token) is None


# --- which verifier -----------------------------------------------------------------------------------------


def deployed(**variables: str) -> Container:
    return Container(Settings.from_environment({"AWS_REGION": REGION, **variables}))


def test_the_deployed_wiring_checks_id_tokens_of_its_pool_and_app() -> None:
    verifier = deployed(USER_POOL_ID=POOL, USER_POOL_CLIENT_ID=CLIENT).member_tokens
    assert isinstance(verifier, IdTokenVerifier)
    assert (verifier.issuer, verifier.audience) == (ISSUER, CLIENT)


def test_without_its_pool_and_app_the_deployed_wiring_makes_everyone_anonymous() -> None:
    assert deployed(USER_POOL_ID=POOL).member_tokens is None
    assert deployed().member_tokens is None


def test_the_deployed_wiring_never_accepts_the_local_stacks_tokens() -> None:
    verifier = deployed(USER_POOL_ID=POOL, USER_POOL_CLIENT_ID=CLIENT).member_tokens
    assert isinstance(verifier, IdTokenVerifier)
    verifier._keys = tokens.member_verifier()._keys  # even with the local keys, the issuer and app differ
    assert verifier.member(tokens.mint_member(PHONE)) is None
