from decimal import Decimal

import pytest

from cashback.ledger.money import cashback, parse_amount, parse_rate_percent
from cashback.platform.errors import InvalidInput


@pytest.mark.parametrize(
    ("amount", "rate", "bonuses"),
    [
        ("1999.90", "7", 139),  # 139.993 -> rounded down, never up
        ("100.00", "15", 15),
        ("99.99", "1", 0),  # under one bonus earns nothing
        ("1000", "4.5", 45),
        ("0.01", "50", 0),
        ("123456789.99", "50", 61728394),
    ],
)
def test_cashback_is_the_amount_times_the_rate_rounded_down(amount: str, rate: str, bonuses: int) -> None:
    assert cashback(parse_amount(amount), parse_rate_percent(rate)) == bonuses


def test_cashback_refuses_floats() -> None:
    with pytest.raises(TypeError):
        cashback(1999.9, Decimal(7))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "abc", "-5", "0", "0.00", "1.999", "NaN", "Infinity", "1e3x"])
def test_malformed_amounts_are_refused_with_a_code(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_amount(text)
    assert error.value.code == "invalid_amount"


def test_an_amount_keeps_its_kopecks_exactly() -> None:
    assert parse_amount(" 1999.9 ") == Decimal("1999.90")
    assert str(parse_amount("1999.9")) == "1999.90"


@pytest.mark.parametrize("text", ["0", "-1", "100.01", "x"])
def test_rates_outside_0_to_100_percent_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_rate_percent(text)
