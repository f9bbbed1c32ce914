"""The optional member token of the public catalog: genuine and current, or the caller is anonymous.

Cognito's tokens are RS256: signed here with keys made by the `cryptography` package (a test-only
dependency), so that the standard-library verification is checked against an independent signer.
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

from cashback.bootstrap import Container
from cashback.platform.config import Settings
from cashback.platform.web.optional_member import (
    JWKS_REFRESH_SECONDS,
    CognitoVerifier,
    RsaPublicKey,
)
from local import tokens
from local.tokens import LocalMemberTokens

REGION, POOL, CLIENT = "eu-central-1", "eu-central-1_Example", "4k8example"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
NOW = 1_795_521_600
SUB = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


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

    def token(self, kid: str = "key-1", header: dict[str, Any] | None = None, **claims: Any) -> str:
        body = {"sub": SUB, "iss": ISSUER, "token_use": "access", "client_id": CLIENT, "exp": NOW + 3600, **claims}
        head = _b64(json.dumps(header or {"alg": "RS256", "kid": kid}).encode())
        signing_input = f"{head}.{_b64(json.dumps(body).encode())}".encode()
        signature = self.keys[kid].sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64(signature)}"


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
def cognito(pool: Pool, clock: Clock) -> CognitoVerifier:
    return CognitoVerifier(REGION, POOL, CLIENT, fetch_keys=pool.jwks, clock=clock)


def test_a_cognito_access_token_names_the_member(cognito: CognitoVerifier, pool: Pool) -> None:
    assert cognito.member_id(pool.token()) == SUB


def test_a_cognito_id_token_for_the_app_names_the_member(cognito: CognitoVerifier, pool: Pool) -> None:
    token = pool.token(token_use="id", aud=CLIENT, client_id=None)
    assert cognito.member_id(token) == SUB


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW},  # expired this second
        {"exp": NOW - 60},
        {"exp": "tomorrow"},
        {"nbf": NOW + 60},
        {"iss": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other"},
        {"client_id": "another-app"},
        {"token_use": "id"},  # an ID token names its app in aud, not client_id
        {"token_use": "refresh"},
        {"sub": ""},
    ],
)
def test_a_cognito_token_that_is_not_for_us_or_not_current_is_anonymous(
    cognito: CognitoVerifier, pool: Pool, claims: dict[str, Any]
) -> None:
    assert cognito.member_id(pool.token(**claims)) is None


def test_a_tampered_cognito_token_is_anonymous(cognito: CognitoVerifier, pool: Pool) -> None:
    head, _, signature = pool.token().split(".")
    other_claims = _b64(json.dumps({"sub": "someone-else", "iss": ISSUER, "exp": NOW + 3600}).encode())
    assert cognito.member_id(f"{head}.{other_claims}.{signature}") is None


def test_alg_none_and_hmac_with_the_public_key_are_refused(cognito: CognitoVerifier, pool: Pool) -> None:
    claims = _b64(json.dumps({"sub": SUB, "iss": ISSUER, "token_use": "access", "client_id": CLIENT}).encode())
    unsigned = f"{_b64(json.dumps({'alg': 'none', 'kid': 'key-1'}).encode())}.{claims}."
    public_key = json.dumps(pool.jwks(f"{ISSUER}/.well-known/jwks.json")).encode()
    head = _b64(json.dumps({"alg": "HS256", "kid": "key-1"}).encode())
    mac = hmac.new(public_key, f"{head}.{claims}".encode(), hashlib.sha256).digest()

    assert cognito.member_id(unsigned) is None
    assert cognito.member_id(f"{head}.{claims}.{_b64(mac)}") is None


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "e30.e30.e30"])
def test_garbage_is_anonymous(cognito: CognitoVerifier, token: str) -> None:
    assert cognito.member_id(token) is None


def test_the_keys_are_fetched_once_and_again_only_for_a_new_key(
    cognito: CognitoVerifier, pool: Pool, clock: Clock
) -> None:
    for _ in range(3):
        assert cognito.member_id(pool.token()) == SUB
    assert pool.fetches == 1

    pool.keys["key-2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # Cognito rotates
    assert cognito.member_id(pool.token(kid="key-2")) is None  # too soon to fetch again
    clock.now += JWKS_REFRESH_SECONDS
    assert cognito.member_id(pool.token(kid="key-2")) == SUB
    assert pool.fetches == 2


def test_unreachable_keys_make_callers_anonymous_without_a_fetch_per_request(
    cognito: CognitoVerifier, pool: Pool
) -> None:
    pool.down = True
    assert [cognito.member_id(pool.token()) for _ in range(3)] == [None, None, None]
    assert pool.fetches == 1


def test_short_rsa_keys_are_not_trusted() -> None:
    weak = Pool(bits=1024)
    verifier = CognitoVerifier(REGION, POOL, CLIENT, fetch_keys=weak.jwks, clock=Clock())
    assert verifier.member_id(weak.token()) is None


def test_the_rsa_check_agrees_with_an_independent_signer() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    public = RsaPublicKey(numbers.n, numbers.e)
    signature = key.sign(b"message", padding.PKCS1v15(), hashes.SHA256())

    assert public.verifies(b"message", signature)
    assert not public.verifies(b"messages", signature)
    assert not public.verifies(b"message", signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not public.verifies(b"message", key.sign(b"message", padding.PKCS1v15(), hashes.SHA384()))


# --- the local stack ---------------------------------------------------------------------------------------

SECRET = "local-gateway-secret-for-tests"


def test_a_member_token_of_the_local_gateway_names_the_member() -> None:
    # Given a member token the local gateway minted
    token = tokens.mint_member("+79161234567", secret=SECRET.encode())
    # When the local stack's verifier checks it, then it names the member
    assert LocalMemberTokens(SECRET.encode()).member_id(token) == tokens.member_id_for("+79161234567")


@pytest.mark.parametrize(
    "token",
    [
        tokens.mint_member("+79161234567", secret=b"another-secret"),  # not ours
        tokens.mint_member("+79161234567", secret=SECRET.encode(), now=NOW - tokens.LIFETIME_SECONDS),  # expired
        tokens.mint_operator("admin", secret=SECRET.encode()),  # not a member
        "",
        "a.b.c",
    ],
)
def test_other_local_tokens_are_anonymous(token: str) -> None:
    assert LocalMemberTokens(SECRET.encode()).member_id(token) is None


# --- which verifier -----------------------------------------------------------------------------------------


def deployed(**variables: str) -> Container:
    return Container(Settings.from_environment({"AWS_REGION": REGION, **variables}))


def test_the_deployed_wiring_checks_cognito_tokens_of_its_pool_and_app() -> None:
    verifier = deployed(USER_POOL_ID=POOL, USER_POOL_CLIENT_ID=CLIENT).member_tokens
    assert isinstance(verifier, CognitoVerifier)
    assert verifier.issuer == ISSUER
    assert verifier.client_id == CLIENT


def test_without_its_pool_and_app_the_deployed_wiring_makes_everyone_anonymous() -> None:
    assert deployed(USER_POOL_ID=POOL).member_tokens is None
    assert deployed().member_tokens is None


def test_the_deployed_wiring_never_accepts_the_local_gateways_tokens() -> None:
    # Given a token as the local stack mints them, and a deployed function that was even given the secret
    token = tokens.mint_member("+79161234567", secret=SECRET.encode())
    verifier = deployed(USER_POOL_ID=POOL, USER_POOL_CLIENT_ID=CLIENT, LOCAL_TOKEN_SECRET=SECRET).member_tokens
    # Then it is no member: only the local composition root knows local tokens
    assert verifier is not None
    assert verifier.member_id(token) is None
