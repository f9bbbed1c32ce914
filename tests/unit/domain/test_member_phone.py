"""normalise_phone on phonenumberslite (the parsing and formatting of phonenumbers, without its geodata)."""

import pytest

from cashback.members.rules import normalise_phone
from cashback.platform.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+79161234567", "+79161234567"),
        ("8 (916) 123-45-67", "+79161234567"),
        ("89161234567", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+7 495 123-45-67", "+74951234567"),
        ("+7 800 555-35-35", "+78005553535"),
    ],
)
def test_russian_spellings_become_e164(raw: str, e164: str) -> None:
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "+7 916 123", "not a number", "+7916123456789012"])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_phone(raw)
    assert refused.value.code == "invalid_phone"
