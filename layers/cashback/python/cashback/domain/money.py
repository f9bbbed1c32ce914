"""Exact money: bonuses are whole ints, purchase amounts Decimal roubles, rates Decimal percents.

Every conversion to bonuses rounds down, in the operator's favour. No float is ever accepted.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from cashback.domain.errors import InvalidInput

Bonus = int

_KOPECK = Decimal("0.01")
_HUNDRED = Decimal(100)


def parse_amount(text: str) -> Decimal:
    """A purchase amount: a positive decimal string with at most two decimals ("1999.90")."""
    if not isinstance(text, str):
        raise InvalidInput('an amount is a decimal string such as "1999.90"', code="invalid_amount")
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not an amount", code="invalid_amount") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(f"{text!r} is not a positive amount", code="invalid_amount")
    if amount != amount.quantize(_KOPECK):
        raise InvalidInput(f"{text!r} has more than two decimals", code="invalid_amount")
    return amount.quantize(_KOPECK)


def parse_rate_percent(text: str) -> Decimal:
    """A cashback rate in percent, 0 < rate <= 100, as a decimal string ("7", "4.5")."""
    if not isinstance(text, str):
        raise InvalidInput('a rate is a decimal string such as "7.5"', code="invalid_rate")
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not a rate", code="invalid_rate") from None
    if not rate.is_finite() or rate <= 0 or rate > _HUNDRED:
        raise InvalidInput(f"{text!r} is not a rate between 0 and 100 percent", code="invalid_rate")
    return rate


def cashback(amount: Decimal, rate_percent: Decimal) -> Bonus:
    """Bonuses earned on a purchase: floor(amount x rate)."""
    if isinstance(amount, float) or isinstance(rate_percent, float):
        raise TypeError("money never touches a float")
    return int((amount * rate_percent / _HUNDRED).to_integral_value(rounding=ROUND_FLOOR))


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(_KOPECK))
