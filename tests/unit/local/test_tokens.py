"""Locally minted tokens: what the local gateway's authorizers accept, and what they refuse."""

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


def test_a_member_token_carries_the_cognito_claims_the_handlers_read() -> None:
    token = tokens.mint_member("+79161234567", now=NOW)

    claims = tokens.verify(token, now=NOW + 60)

    assert claims is not None
    assert claims["sub"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "cashback-local-member:+79161234567"))
    assert claims["phone_number"] == "+79161234567"
    assert (claims["token_use"], claims["iss"]) == ("access", "cashback-local")
    assert claims["exp"] == NOW + 12 * 3600
    assert tokens.is_member(claims)
    assert not tokens.is_operator(claims)


def test_the_same_phone_is_always_the_same_member() -> None:
    first = tokens.verify(tokens.mint_member("+79161234567"))
    again = tokens.verify(tokens.mint_member("+79161234567"))
    other = tokens.verify(tokens.mint_member("+79161234568"))

    assert first is not None
    assert again is not None
    assert other is not None
    assert first["sub"] == again["sub"] != other["sub"]


@pytest.mark.parametrize(
    "phone", ["89161234567", "+09161234567", "+7916", "+7 916 123 45 67", "", "+7916123456789012", "79161234567"]
)
def test_a_phone_not_in_e164_form_gets_no_token(phone: str) -> None:
    with pytest.raises(tokens.InvalidTokenRequest) as refused:
        tokens.mint_member(phone)

    assert refused.value.code == "invalid_phone"


def test_operator_tokens_name_their_role_and_store() -> None:
    admin = tokens.verify(tokens.mint_operator("admin"))
    pos = tokens.verify(tokens.mint_operator("pos", "store-17"))

    assert admin is not None
    assert pos is not None
    assert (admin["role"], "store_id" in admin) == ("admin", False)
    assert (pos["role"], pos["store_id"]) == ("pos", "store-17")
    assert tokens.is_operator(admin)
    assert tokens.is_operator(pos)
    assert not tokens.is_member(pos)


def test_a_pos_token_needs_a_store_and_roles_are_admin_or_pos() -> None:
    with pytest.raises(tokens.InvalidTokenRequest) as no_store:
        tokens.mint_operator("pos")
    with pytest.raises(tokens.InvalidTokenRequest) as bad_role:
        tokens.mint_operator("root")  # type: ignore[arg-type]

    assert no_store.value.code == "store_id_required"
    assert bad_role.value.code == "invalid_role"


def test_an_expired_token_is_refused() -> None:
    token = tokens.mint_member("+79161234567", now=NOW)

    assert tokens.verify(token, now=NOW + 12 * 3600 - 1) is not None
    assert tokens.verify(token, now=NOW + 12 * 3600) is None


def test_a_token_signed_with_another_secret_is_refused() -> None:
    forged = tokens.mint_member("+79161234567", secret=b"someone else's secret")

    assert tokens.verify(forged) is None
    assert tokens.verify(forged, secret=b"someone else's secret") is not None


def test_a_token_whose_claims_were_changed_is_refused() -> None:
    header, payload, signature = tokens.mint_member("+79161234567").split(".")
    claims = _payload(f"{header}.{payload}.{signature}") | {"phone_number": "+79990000000"}
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    assert tokens.verify(f"{header}.{changed}.{signature}") is None


def test_an_unsigned_token_is_refused() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = tokens.mint_member("+79161234567").split(".")[1]

    assert tokens.verify(f"{header}.{payload}.") is None


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "ä.ö.ü", "Bearer x.y.z"])
def test_garbage_is_not_a_token(garbage: str) -> None:
    assert tokens.verify(garbage) is None
