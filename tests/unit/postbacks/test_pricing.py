"""Pricing from the offer frozen on the click: the goods rate the order's tariff selects, else the click's
rate, rounded down, and never more than the partner's share of the commission the network reports."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cashback.clicks.rules import Click
from cashback.ledger.money import SANITY_CEILING
from cashback.postbacks.pricing import over_ceiling, price, priced
from cashback.postbacks.rules import Postback
from tests.builders import a_click, a_postback

amounts = st.decimals(min_value=0, max_value=SANITY_CEILING, places=2)
rates = st.decimals(min_value=Decimal("0.01"), max_value=100, places=2)
shares = st.decimals(min_value=Decimal("0.01"), max_value=100, places=2)
tariffs = st.sampled_from(["31015", "31016", "28402"])


def perekrestok(**changes: Any) -> Click:
    """A click on Perekrestok: 15 % (first order, tariff 31015), 5 % for later orders (tariff 31016)."""
    click = a_click(partner_id="perekrestok", rate_percent="15")
    return replace(click, goods_rates={"31015": Decimal(15), "31016": Decimal(5)}, **changes)


def order(click: Click, amount: str, *, commission: str | None = None, tariff: str | None = None) -> Postback:
    return a_postback(
        click, amount=amount, commission=None if commission is None else Decimal(commission), tariff=tariff
    )


def test_a_reported_tariff_selects_its_goods_rate() -> None:
    click = perekrestok()
    assert price(order(click, "2000.00", tariff="31016"), click) == 100
    assert price(order(click, "2000.00", tariff="31015"), click) == 300


def test_an_unknown_or_absent_tariff_earns_the_clicks_rate() -> None:
    click = perekrestok()
    assert price(order(click, "2000.00", tariff="99999"), click) == 300
    assert price(order(click, "2000.00"), click) == 300


def test_a_click_made_before_goods_rates_were_frozen_earns_its_rate() -> None:
    old = a_click(rate_percent="7")  # no goods rates, the whole commission
    assert price(order(old, "2000.00", tariff="31016"), old) == 140


def test_the_commission_bounds_the_cashback_at_the_partners_share() -> None:
    click = a_click(rate_percent="7")
    assert price(order(click, "100000.00", commission="1000.00"), click) == 1000
    half = replace(click, commission_share_percent=Decimal(50))
    assert price(order(half, "100000.00", commission="1000.00"), half) == 500
    assert priced(order(half, "100000.00", commission="1000.00"), half).capped_by_commission
    assert price(order(half, "1000.00", commission="1000.00"), half) == 70  # the rate is lower: it decides


@given(amount=amounts, rate=rates, goods=st.dictionaries(tariffs, rates, max_size=3), tariff=st.none() | tariffs)
def test_never_more_than_the_amount_at_the_highest_rate_rounded_down(
    amount: Decimal, rate: Decimal, goods: dict[str, Decimal], tariff: str | None
) -> None:
    click = replace(a_click(), rate_percent=rate, goods_rates=goods)
    bonus = price(order(click, str(amount), tariff=tariff), click)

    highest = max([rate, *goods.values()])
    assert 0 <= bonus <= amount * highest / 100
    applied = goods.get(tariff, rate) if tariff is not None else rate
    assert bonus <= amount * applied / 100 < bonus + 1  # floor: less than one bonus is lost, never gained


@given(amount=amounts, rate=rates, commission=amounts, share=shares)
def test_never_more_than_the_partners_share_of_the_commission(
    amount: Decimal, rate: Decimal, commission: Decimal, share: Decimal
) -> None:
    click = replace(a_click(), rate_percent=rate, commission_share_percent=share)
    bonus = price(order(click, str(amount), commission=str(commission)), click)

    assert 0 <= bonus <= commission * share / 100
    assert bonus == min(int(amount * rate // 100), int(commission * share // 100))


@given(rate=rates, goods=st.dictionaries(tariffs, rates, max_size=3), tariff=st.none() | tariffs, share=shares)
def test_a_full_return_earns_nothing(
    rate: Decimal, goods: dict[str, Decimal], tariff: str | None, share: Decimal
) -> None:
    click = replace(a_click(), rate_percent=rate, goods_rates=goods, commission_share_percent=share)
    assert price(order(click, "0", tariff=tariff), click) == 0
    assert price(order(click, "0", commission="0", tariff=tariff), click) == 0


def test_amounts_past_the_sanity_ceiling_are_over_it() -> None:
    click = a_click()
    assert not over_ceiling(order(click, "10000000.00"))
    assert over_ceiling(order(click, "10000000.01"))
    assert over_ceiling(order(click, "7" + "0" * 18))
