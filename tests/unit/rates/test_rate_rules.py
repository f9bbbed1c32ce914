"""The CBR's daily rates document and conversion to roubles: Nominal, decimal commas, kopecks rounded down."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.rates.rules import InvalidRates, Rate, parse_cbr_daily, to_roubles
from local.fake_rates import FixedRates

CBR = """<?xml version="1.0" encoding="windows-1251"?>
<ValCurs Date="21.11.2026" name="Foreign Currency Market">
<Valute ID="R01235"><NumCode>840</NumCode><CharCode>USD</CharCode><Nominal>1</Nominal>
<Name>Доллар США</Name><Value>92,5000</Value><VunitRate>92,5</VunitRate></Valute>
<Valute ID="R01335"><NumCode>398</NumCode><CharCode>KZT</CharCode><Nominal>100</Nominal>
<Name>Тенге</Name><Value>17,9512</Value><VunitRate>0,179512</VunitRate></Valute>
</ValCurs>
""".encode("windows-1251")


def test_the_cbr_document_gives_roubles_per_one_unit_of_each_currency() -> None:
    rates = parse_cbr_daily(CBR)

    assert rates == [
        Rate("USD", date(2026, 11, 21), Decimal("92.5")),
        Rate("KZT", date(2026, 11, 21), Decimal("0.179512")),  # 17,9512 for 100 tenge
    ]


def test_the_local_source_has_the_fixed_rates() -> None:
    rates = {r.currency: r.roubles_per_unit for r in FixedRates().daily_rates(date(2026, 11, 21))}

    assert rates == {"USD": Decimal(90), "EUR": Decimal(100), "KZT": Decimal("0.18")}


@pytest.mark.parametrize(
    "document",
    [
        b"<html>maintenance</html>",
        b"not xml",
        b'<ValCurs Date="31.02.2026"></ValCurs>',
        b'<ValCurs Date="21.11.2026"><Valute><CharCode>USD</CharCode><Nominal>1</Nominal>'
        b"<Value>n/a</Value></Valute></ValCurs>",
        b'<ValCurs Date="21.11.2026"><Valute><CharCode>USD</CharCode><Nominal>0</Nominal>'
        b"<Value>92,5</Value></Valute></ValCurs>",
    ],
)
def test_an_answer_that_is_not_the_daily_rates_is_refused(document: bytes) -> None:
    with pytest.raises(InvalidRates):
        parse_cbr_daily(document)


def test_100000_tenge_at_18_roubles_per_100_are_18000_roubles() -> None:
    assert to_roubles(Decimal("100000.00"), Rate("KZT", date(2026, 11, 21), Decimal("0.18"))) == Decimal("18000.00")


def test_a_fraction_of_a_kopeck_is_dropped() -> None:
    # 9.99 USD x 92.5 = 924.075: the member is paid on 924.07, never rounded up.
    assert to_roubles(Decimal("9.99"), Rate("USD", date(2026, 11, 21), Decimal("92.5"))) == Decimal("924.07")


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        to_roubles(9.99, Rate("USD", date(2026, 11, 21), Decimal("92.5")))  # type: ignore[arg-type]


kopecks = st.integers(min_value=1, max_value=10**11).map(lambda k: Decimal(k).scaleb(-2))
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10000), places=6)


@given(amount=kopecks, per_unit=rates)
def test_a_conversion_is_the_exact_product_less_under_a_kopeck(amount: Decimal, per_unit: Decimal) -> None:
    converted = to_roubles(amount, Rate("XXX", date(2026, 11, 21), per_unit))

    exact = amount * per_unit
    assert converted == converted.quantize(Decimal("0.01"))
    assert converted <= exact < converted + Decimal("0.01")
