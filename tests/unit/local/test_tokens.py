"""Locally minted tokens: member ID tokens shaped as Cognito's, operator tokens standing in for IAM, the
key set they are checked with, and what the local stack refuses."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from local import tokens

NOW = 1_800_000_000


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def test_a_member_token_is_an_id_token_as_cognito_issues_after_an_sms_sign_in() -> None:
    token = tokens.mint_member("+79161234567", now=NOW)

    claims = _payload(token)

    assert claims["sub"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "cashback-local-member:+79161234567"))
    assert claims["cognito:username"] == claims["sub"]
    assert (claims["phone_number"], claims["phone_number_verified"]) == ("+79161234567", True)
    assert (claims["token_use"], claims["iss"], claims["aud"]) == ("id", tokens.ISSUER, tokens.CLIENT_ID)
    assert (claims["iat"], claims["auth_time"], claims["exp"]) == (NOW, NOW, NOW + 12 * 3600)


def test_the_same_phone_is_always_the_same_member() -> None:
    first = _payload(tokens.mint_member("+79161234567"))
    again = _payload(tokens.mint_member("+79161234567"))
    other = _payload(tokens.mint_member("+79161234568"))

    assert first["sub"] == again["sub"] != other["sub"]


@pytest.mark.parametrize("phone", ["89161234567", "+7 916 123-45-67", "", "+0123"])
def test_a_member_token_needs_an_e164_phone(phone: str) -> None:
    with pytest.raises(tokens.InvalidTokenRequest) as refused:
        tokens.mint_member(phone)
    assert refused.value.code == "invalid_phone"


def test_the_key_set_holds_the_public_key_the_tokens_name() -> None:
    document = tokens.jwks()

    [key] = document["keys"]
    assert set(key) == {"alg", "e", "kid", "kty", "n", "use"}  # as a user pool publishes, no private part
    assert (key["alg"], key["kty"], key["use"], key["kid"]) == ("RS256", "RSA", "sig", tokens.current_key().kid)


def test_a_kept_key_signs_tokens_that_stay_valid_after_a_restart() -> None:
    # Given the key `make run` keeps with its data
    kept = tokens.SigningKey.generate()
    token = tokens.mint_member("+79161234567", key=kept)
    # When a new process loads it from its PEM
    reloaded = tokens.SigningKey.from_pem(kept.pem())
    # Then yesterday's token still names the member
    assert reloaded.kid == kept.kid
    assert tokens.member_verifier(reloaded).member(token) is not None
    assert tokens.member_verifier(tokens.SigningKey.generate()).member(token) is None


def test_operator_tokens_name_their_role_and_a_terminals_store() -> None:
    admin = tokens.verify_operator(tokens.mint_operator("admin"))
    pos = tokens.verify_operator(tokens.mint_operator("pos", "store-17", "till-3"))

    assert admin is not None
    assert pos is not None
    assert tokens.role_session(admin) == "local-admin"
    assert tokens.role_session(pos) == "store-17@till-3"
    assert "phone_number" not in pos


@pytest.mark.parametrize(
    ("role", "store", "terminal", "code"),
    [
        ("pos", None, None, "store_id_required"),
        ("pos", "store 17", None, "invalid_store_id"),
        ("pos", "store@17", None, "invalid_store_id"),  # `@` separates store and terminal in the session
        ("pos", "store-17", "till/3", "invalid_terminal_id"),
        ("admin", "store-17", None, "invalid_role"),
        ("root", None, None, "invalid_role"),
    ],
)
def test_an_operator_token_needs_a_known_role_and_a_terminal_its_store(
    role: str, store: str | None, terminal: str | None, code: str
) -> None:
    with pytest.raises(tokens.InvalidTokenRequest) as refused:
        tokens.mint_operator(role, store, terminal)  # type: ignore[arg-type]
    assert refused.value.code == code


def test_member_and_operator_tokens_are_not_interchangeable() -> None:
    assert tokens.verify_operator(tokens.mint_member("+79161234567")) is None
    assert tokens.member_verifier().verified_claims(tokens.mint_operator("admin")) is None


def test_an_operator_token_expires() -> None:
    token = tokens.mint_operator("admin", now=NOW)

    assert tokens.verify_operator(token, now=NOW + 12 * 3600 - 1) is not None
    assert tokens.verify_operator(token, now=NOW + 12 * 3600) is None


def test_an_operator_token_signed_by_another_key_is_refused() -> None:
    forged = tokens.mint_operator("admin", key=tokens.SigningKey.generate())
    assert tokens.verify_operator(forged) is None


def test_an_operator_token_whose_role_was_changed_is_refused() -> None:
    header, payload, signature = tokens.mint_operator("pos", "store-17").split(".")
    claims = _payload(f"{header}.{payload}.{signature}") | {"role": "admin"}
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    assert tokens.verify_operator(f"{header}.{changed}.{signature}") is None


def test_an_unsigned_operator_token_is_refused() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = tokens.mint_operator("admin").split(".")[1]

    assert tokens.verify_operator(f"{header}.{payload}.") is None


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "ä.ö.ü", "Bearer x.y.z", "x" * 10_000])
def test_garbage_is_not_an_operator_token(garbage: str) -> None:
    assert tokens.verify_operator(garbage) is None
