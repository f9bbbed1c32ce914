"""The local stand-in for the Central Bank of Russia's daily rates: fixed rates on every day, offline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cashback.rates.rules import Rate, parse_cbr_daily

# The CBR's own document shape, so that the local run parses what the deployed one does (Nominal included).
_DAILY = """<?xml version="1.0" encoding="windows-1251"?>
<ValCurs Date="{day}" name="Foreign Currency Market">
<Valute><CharCode>USD</CharCode><Nominal>1</Nominal><Name>US Dollar</Name><Value>90,0000</Value></Valute>
<Valute><CharCode>EUR</CharCode><Nominal>1</Nominal><Name>Euro</Name><Value>100,0000</Value></Valute>
<Valute><CharCode>KZT</CharCode><Nominal>100</Nominal><Name>Tenge</Name><Value>18,0000</Value></Valute>
</ValCurs>
"""
FIXED = {"USD": Decimal("90.00"), "EUR": Decimal("100.00"), "KZT": Decimal("0.18")}


class FixedRates:
    def daily_rates(self, day: date) -> list[Rate]:
        return parse_cbr_daily(_DAILY.format(day=day.strftime("%d.%m.%Y")).encode("windows-1251"))
