"""Email confirmation codes are derived from the member and a nonce with a key: six digits, the same for
the sender and the checker, and no other code passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.members.email_codes import PendingConfirmation, derive_email_code
from cashback.platform.errors import Gone

KEY = b"unit-test-email-code-key"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@given(member_id=st.text(min_size=1, max_size=64), other=st.integers(min_value=0, max_value=999_999))
def test_the_derived_code_passes_and_any_other_fails(member_id: str, other: int) -> None:
    pending = PendingConfirmation.issue("anna@example.com", NOW)
    code = derive_email_code(KEY, member_id, pending.nonce)

    assert len(code) == 6
    assert code.isdigit()
    assert pending.check(code, NOW, key=KEY, member_id=member_id)
    assert pending.check(f"{other:06d}", NOW, key=KEY, member_id=member_id) is (f"{other:06d}" == code)


def test_a_code_is_bound_to_its_member_its_request_and_the_key() -> None:
    pending = PendingConfirmation.issue("anna@example.com", NOW)
    again = PendingConfirmation.issue("anna@example.com", NOW)
    code = derive_email_code(KEY, "m-1", pending.nonce)

    codes = {
        derive_email_code(KEY, "m-2", pending.nonce),
        derive_email_code(KEY, "m-1", again.nonce),
        derive_email_code(b"another-key", "m-1", pending.nonce),
    }
    # One in a million each may collide by chance; three independent draws all colliding would be a bug.
    assert codes != {code}


def test_a_code_expires_after_fifteen_minutes() -> None:
    pending = PendingConfirmation.issue("anna@example.com", NOW)
    code = derive_email_code(KEY, "m-1", pending.nonce)

    with pytest.raises(Gone):
        pending.check(code, NOW + timedelta(minutes=15), key=KEY, member_id="m-1")
