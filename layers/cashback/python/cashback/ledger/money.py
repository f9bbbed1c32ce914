"""Exact money: bonuses are whole ints, purchase amounts Decimal roubles, rates Decimal percents.

Every conversion to bonuses rounds down, in the operator's favour. No float is ever accepted, and no
amount that needs more digits in kopecks than decimal's context holds: it could not be held exactly.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from cashback.platform.errors import InvalidInput

Bonus = int

_KOPECK = Decimal("0.01")
_HUNDRED = Decimal(100)
MAX_DIGITS = 28  # the precision of decimal's default context, which every calculation here uses
# PRODUCT.md: purchase amounts above 10,000,000 roubles are kept for support, never credited.
SANITY_CEILING = Decimal("10000000")


def _shown(text: str) -> str:
    """The caller's text as a message quotes it: whole when short, else its start."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _decimal(text: str, what: str, example: str, code: str, *, zero: bool = False) -> Decimal:
    if not isinstance(text, str):
        raise InvalidInput(f'{what} is a decimal string such as "{example}"', code=code)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{_shown(text)} is not {what}", code=code) from None
    if not value.is_finite() or value < 0 or (value == 0 and not zero):
        raise InvalidInput(f"{_shown(text)} is not a positive {what}", code=code)
    return value


def parse_amount(text: str, *, zero: bool = False) -> Decimal:
    """A purchase amount: a positive decimal string with at most two decimals ("1999.90"), in kopecks at
    most 28 digits long. `zero` also takes "0": a network reports a fully returned order so."""
    amount = _decimal(text, "an amount", "1999.90", "invalid_amount", zero=zero)
    if amount.adjusted() + 1 + 2 > MAX_DIGITS:  # its whole roubles and two decimals
        raise InvalidInput(f"{_shown(text)} is more than an amount can be", code="invalid_amount")
    in_kopecks = amount.quantize(_KOPECK)
    if amount != in_kopecks:
        raise InvalidInput(f"{_shown(text)} has more than two decimals", code="invalid_amount")
    return in_kopecks


def parse_rate_percent(text: str) -> Decimal:
    """A cashback rate in percent, 0 < rate <= 100, as a decimal string ("7", "4.5")."""
    rate = _decimal(text, "a rate", "7.5", "invalid_rate")
    if rate > _HUNDRED:
        raise InvalidInput(f"{_shown(text)} is not a rate between 0 and 100 percent", code="invalid_rate")
    return rate


def cashback(amount: Decimal, rate_percent: Decimal) -> Bonus:
    """Bonuses earned on a purchase: floor(amount x rate)."""
    if isinstance(amount, float) or isinstance(rate_percent, float):
        raise TypeError("money never touches a float")
    return int((amount * rate_percent / _HUNDRED).to_integral_value(rounding=ROUND_FLOOR))


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(_KOPECK))
