"""The rate of an order's day: the CBR sets none on weekends and holidays, so the latest set before it stands,
but never one older than the look-back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cashback.bootstrap import Container
from cashback.rates.repository import RatesRepository
from cashback.rates.rules import Rate

pytestmark = pytest.mark.usefixtures("moto_tables")

FRIDAY = date(2026, 11, 20)


@pytest.fixture
def store(container: Container) -> RatesRepository:
    store = RatesRepository(container.settings.table("RATES_TABLE"))
    store.save(Rate("USD", date(2026, 11, 19), Decimal("91.10")))
    store.save(Rate("USD", FRIDAY, Decimal("92.50")))
    store.save(Rate("EUR", FRIDAY, Decimal("101.25")))
    return store


def test_the_rate_of_the_day_itself(container: Container, store: RatesRepository) -> None:
    assert container.rates.rate_on("USD", FRIDAY) == Rate("USD", FRIDAY, Decimal("92.50"))


@pytest.mark.parametrize("day", [date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 27)])
def test_a_weekend_order_is_priced_at_fridays_rate(container: Container, store: RatesRepository, day: date) -> None:
    assert container.rates.rate_on("usd", day) == Rate("USD", FRIDAY, Decimal("92.50"))


def test_no_rate_older_than_a_week_stands(container: Container, store: RatesRepository) -> None:
    assert container.rates.rate_on("USD", date(2026, 11, 28)) is None


def test_no_rate_before_the_first_one_set(container: Container, store: RatesRepository) -> None:
    assert container.rates.rate_on("USD", date(2026, 11, 18)) is None


def test_a_currency_the_cbr_never_set_has_no_rate(container: Container, store: RatesRepository) -> None:
    assert container.rates.rate_on("GBP", FRIDAY) is None
