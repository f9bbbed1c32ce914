"""Exact money: bonuses are whole ints, purchase amounts Decimal roubles, rates Decimal percents.

Every conversion to bonuses rounds down, in the operator's favour. No float is ever accepted.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from cashback.platform.errors import InvalidInput

Bonus = int

_KOPECK = Decimal("0.01")
_HUNDRED = Decimal(100)


def _decimal(text: str, what: str, example: str, code: str) -> Decimal:
    if not isinstance(text, str):
        raise InvalidInput(f'{what} is a decimal string such as "{example}"', code=code)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not {what}", code=code) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{text!r} is not a positive {what}", code=code)
    return value


def parse_amount(text: str) -> Decimal:
    """A purchase amount: a positive decimal string with at most two decimals ("1999.90")."""
    amount = _decimal(text, "an amount", "1999.90", "invalid_amount")
    if amount != amount.quantize(_KOPECK):
        raise InvalidInput(f"{text!r} has more than two decimals", code="invalid_amount")
    return amount.quantize(_KOPECK)


def parse_rate_percent(text: str) -> Decimal:
    """A cashback rate in percent, 0 < rate <= 100, as a decimal string ("7", "4.5")."""
    rate = _decimal(text, "a rate", "7.5", "invalid_rate")
    if rate > _HUNDRED:
        raise InvalidInput(f"{text!r} is not a rate between 0 and 100 percent", code="invalid_rate")
    return rate


def cashback(amount: Decimal, rate_percent: Decimal) -> Bonus:
    """Bonuses earned on a purchase: floor(amount x rate)."""
    if isinstance(amount, float) or isinstance(rate_percent, float):
        raise TypeError("money never touches a float")
    return int((amount * rate_percent / _HUNDRED).to_integral_value(rounding=ROUND_FLOOR))


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(_KOPECK))
