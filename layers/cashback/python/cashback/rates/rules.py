"""Official exchange rates: the Central Bank of Russia's rate of a currency on a day, and conversion to roubles.

The CBR publishes `<Valute><CharCode>KZT</CharCode><Nominal>100</Nominal><Value>18,0000</Value>` - roubles per
Nominal units, with a decimal comma. A rate is kept per one unit: Value / Nominal, exact (Nominal is a power
of ten). Converted amounts round down to the kopeck, in the operator's favour like every bonus.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation

ROUBLE = "RUB"
_KOPECK = Decimal("0.01")
# The CBR sets no rate on weekends and holidays (the longest, the New Year's, is eight days with the 1st):
# the rate of an order's day is the latest one set at most this many days before it.
LOOK_BACK_DAYS = 7


class InvalidRates(ValueError):
    """The CBR's answer is not its daily rates document."""


@dataclass(frozen=True)
class Rate:
    currency: str  # ISO 4217 code, e.g. "USD"
    day: date  # the day the rate is in force
    roubles_per_unit: Decimal


def to_roubles(amount: Decimal, rate: Rate) -> Decimal:
    """`amount` in `rate.currency`, in roubles: exact, then down to the kopeck."""
    if isinstance(amount, float) or isinstance(rate.roubles_per_unit, float):
        raise TypeError("money never touches a float")
    return (amount * rate.roubles_per_unit).quantize(_KOPECK, rounding=ROUND_DOWN)


def earliest_day(day: date) -> date:
    """The earliest day whose rate still stands for `day`."""
    return day - timedelta(days=LOOK_BACK_DAYS)


def _decimal(text: str | None, what: str) -> Decimal:
    try:
        value = Decimal((text or "").strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidRates(f"{what} {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise InvalidRates(f"{what} {text!r} is not a positive number")
    return value


def parse_cbr_daily(document: bytes | str) -> list[Rate]:
    """The rates of the CBR's XML_daily.asp answer, for the day its `ValCurs Date` names."""
    try:
        # The CBR's own document over https; expat refuses entity expansion bombs since 2.4.1.
        root = ElementTree.fromstring(document)  # noqa: S314
    except ElementTree.ParseError as error:
        raise InvalidRates(f"not XML: {error}") from None
    if root.tag != "ValCurs" or not root.get("Date"):
        raise InvalidRates("not the CBR's daily rates (no ValCurs Date)")
    try:
        dd, mm, yyyy = root.get("Date", "").split(".")
        day = date(int(yyyy), int(mm), int(dd))
    except ValueError:
        raise InvalidRates(f"ValCurs Date {root.get('Date')!r} is not dd.mm.yyyy") from None
    rates = []
    for valute in root.iter("Valute"):
        code = (valute.findtext("CharCode") or "").strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise InvalidRates(f"{code!r} is not a currency code")
        nominal = _decimal(valute.findtext("Nominal"), f"{code}'s Nominal")
        value = _decimal(valute.findtext("Value"), f"{code}'s Value")
        rates.append(Rate(code, day, value / nominal))
    return rates
