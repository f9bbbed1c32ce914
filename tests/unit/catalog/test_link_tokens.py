"""Link tokens: one member, one partner, a quarter of an hour; anything else is refused without a read."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cashback.clicks.rules import LinkRefused, sign_link, verify_link
from tests.unit.catalog.support import MEMBER, NOW

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def refusal(token: str | None, partner_id: str = "ozon", at: timedelta = timedelta(0), key: bytes = KEY) -> str:
    with pytest.raises(LinkRefused) as refused:
        verify_link(token, partner_id, NOW + at, key)
    return refused.value.reason


def test_a_fresh_link_names_its_member() -> None:
    token = sign_link(MEMBER, "ozon", NOW, KEY)
    assert verify_link(token, "ozon", NOW + timedelta(minutes=14), KEY) == MEMBER


def test_a_link_expires_after_fifteen_minutes() -> None:
    token = sign_link(MEMBER, "ozon", NOW, KEY)
    assert refusal(token, at=timedelta(minutes=15)) == "expired"
    assert refusal(token, at=timedelta(days=1)) == "expired"


def test_a_link_is_only_good_for_its_partner() -> None:
    token = sign_link(MEMBER, "ozon", NOW, KEY)
    assert refusal(token, partner_id="wildberries") == "other_partner"


def test_a_link_signed_with_another_key_is_forged() -> None:
    assert refusal(sign_link(MEMBER, "ozon", NOW, OTHER_KEY)) == "forged"


def test_a_link_rewritten_for_another_member_is_forged() -> None:
    payload, mac = sign_link(MEMBER, "ozon", NOW, KEY).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[1] = "someone-else"
    rewritten = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert refusal(f"{rewritten}.{mac}") == "forged"


def test_a_link_whose_expiry_was_pushed_back_is_forged() -> None:
    payload, mac = sign_link(MEMBER, "ozon", NOW, KEY).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[3] += 86_400
    rewritten = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert refusal(f"{rewritten}.{mac}", at=timedelta(hours=1)) == "forged"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("not-a-token", "malformed"),
        ("a.b.c", "malformed"),
        ("%%%.###", "malformed"),
        ("x" * 2000 + ".y", "malformed"),
        ("eyJ2IjoxfQ.c2lnbmF0dXJl", "forged"),
    ],
)
def test_anything_that_is_not_a_link_token_is_refused(token: str | None, reason: str) -> None:
    assert refusal(token) == reason


def _decoded(token: str) -> tuple[bytes, ...] | None:
    try:
        return tuple(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split("."))
    except ValueError:
        return None


@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw_-."))
def test_changing_any_character_of_a_token_breaks_it(position: int, replacement: str) -> None:
    token = sign_link(MEMBER, "ozon", NOW, KEY)
    index = position % len(token)
    tampered = token[:index] + replacement + token[index + 1 :]
    assume(_decoded(tampered) != _decoded(token))  # base64's unused last bits: the same bytes, the same token
    with pytest.raises(LinkRefused):
        verify_link(tampered, "ozon", NOW, KEY)


def test_a_short_key_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        sign_link(MEMBER, "ozon", NOW, b"short")
