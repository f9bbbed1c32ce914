"""The catalog's rules in plain Python: the rate in force, what a partner may be, and how members find it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cashback.catalog.rules import MAX_PROMOTIONS, Category, Promotion
from cashback.platform.errors import InvalidInput
from tests.unit.catalog.support import NOW, partner, promotion

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# --- the rate in force -------------------------------------------------------------------------------------


def test_without_a_promotion_the_base_rate_is_in_force() -> None:
    assert partner(rate_percent=Decimal("7")).rate_in_force(NOW) == Decimal("7")
    assert partner().promotion_in_force(NOW) is None


def test_a_running_promotion_raises_the_rate_for_its_window_only() -> None:
    black_friday = promotion("11", starts=-DAY, ends=+DAY)
    aliexpress = partner(rate_percent=Decimal("7"), promotions=(black_friday,))

    assert aliexpress.rate_in_force(NOW) == Decimal("11")
    assert aliexpress.promotion_in_force(NOW) == black_friday
    assert aliexpress.rate_in_force(NOW - 2 * DAY) == Decimal("7")
    assert aliexpress.rate_in_force(NOW + 2 * DAY) == Decimal("7")


def test_a_window_includes_its_start_and_excludes_its_end() -> None:
    window = promotion("11", starts=timedelta(0), ends=HOUR)
    store = partner(promotions=(window,))

    assert store.rate_in_force(NOW) == Decimal("11")
    assert store.rate_in_force(NOW + HOUR - timedelta(microseconds=1)) == Decimal("11")
    assert store.rate_in_force(NOW + HOUR) == Decimal("7")


def test_of_overlapping_promotions_the_highest_rate_wins() -> None:
    store = partner(
        promotions=(
            promotion("9", starts=-DAY, ends=+DAY, promotion_id="weekend"),
            promotion("12.5", starts=-HOUR, ends=+HOUR, promotion_id="flash"),
            promotion("10", starts=-DAY, ends=+DAY, promotion_id="black-friday"),
        )
    )
    assert store.rate_in_force(NOW) == Decimal("12.5")
    assert store.promotion_in_force(NOW).promotion_id == "flash"  # type: ignore[union-attr]
    assert store.rate_in_force(NOW + 2 * HOUR) == Decimal("10")


def test_a_promotion_never_lowers_a_rate() -> None:
    store = partner(rate_percent=Decimal("15"), promotions=(promotion("10", starts=-DAY, ends=+DAY),))
    assert store.rate_in_force(NOW) == Decimal("15")
    assert store.promotion_in_force(NOW) is None


def test_rates_stay_exact_decimals() -> None:
    store = partner(rate_percent=Decimal("4.35"), promotions=(promotion("6.05", starts=-DAY, ends=+DAY),))
    assert store.rate_in_force(NOW) == Decimal("6.05")
    assert isinstance(store.rate_in_force(NOW), Decimal)


# --- what a partner may be --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://ad.admitad.com/g/abc/?subid={click_id}",  # not https
        "https://ad.admitad.com/g/abc/",  # no click id
        "https://ad.admitad.com/g/{click_id}/?subid={click_id}",  # twice
        "https://ad.admitad.com/g/{hash}/?subid={click_id}",  # another placeholder
        "https://{click_id}.partner.example/track",  # in the host
        "https://partner.example/track#{click_id}",  # in the fragment, which never reaches the partner
        "https://user:pass@partner.example/track?click={click_id}",  # credentials
        "https://partner.example/track?click={click_id} ",  # a space
        "https://localhost/track?click={click_id}",  # no public host
        "javascript:alert(1)//{click_id}",
        "",
    ],
)
def test_a_tracking_url_that_could_lose_the_click_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        partner(tracking_url=url)
    assert refused.value.code == "invalid_tracking_url"


def test_the_tracking_url_carries_the_click_id_url_encoded() -> None:
    store = partner(tracking_url="https://partner.example/track?click={click_id}&src=cashback")
    assert store.tracking_url_for("01JD3 X/Y") == "https://partner.example/track?click=01JD3%20X%2FY&src=cashback"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"partner_id": "Ozon"}, "invalid_partner_id"),
        ({"partner_id": "-ozon"}, "invalid_partner_id"),
        ({"partner_id": "ozon_ru"}, "invalid_partner_id"),
        ({"partner_id": "o" * 65}, "invalid_partner_id"),
        ({"name": "  "}, "invalid_name"),
        ({"category": "groceries"}, "invalid_category"),
        ({"network": "cj"}, "invalid_network"),
        ({"rate_percent": Decimal("0")}, "invalid_rate"),
        ({"rate_percent": Decimal("-1")}, "invalid_rate"),
        ({"rate_percent": Decimal("100.01")}, "invalid_rate"),
        ({"rate_percent": 7.5}, "invalid_rate"),
        ({"accrual_days": 0}, "invalid_accrual_days"),
        ({"accrual_days": 91}, "invalid_accrual_days"),
        ({"accrual_days": True}, "invalid_accrual_days"),
        ({"conditions": ""}, "invalid_conditions"),
        ({"aliases": ("",)}, "invalid_aliases"),
    ],
)
def test_a_partner_that_breaks_a_rule_is_refused_with_its_code(changes: dict, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        partner(**changes)
    assert refused.value.code == code


def test_the_longest_accrual_period_is_ninety_days() -> None:
    assert partner(accrual_days=90).accrual_days == 90


@pytest.mark.parametrize(
    ("rate", "starts", "ends", "code"),
    [
        ("10", DAY, DAY, "invalid_promotion_window"),
        ("10", DAY, -DAY, "invalid_promotion_window"),
        ("0", -DAY, DAY, "invalid_rate"),
        ("101", -DAY, DAY, "invalid_rate"),
    ],
)
def test_a_promotion_needs_a_window_and_a_rate(rate: str, starts: timedelta, ends: timedelta, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        promotion(rate, starts, ends)
    assert refused.value.code == code


def test_promotion_times_carry_an_offset() -> None:
    with pytest.raises(InvalidInput) as refused:
        Promotion("p", Decimal("10"), NOW.replace(tzinfo=None), (NOW + DAY).replace(tzinfo=None))
    assert refused.value.code == "invalid_promotion_window"


# --- changes by the back office ---------------------------------------------------------------------------


def test_replacing_a_partner_keeps_its_promotions() -> None:
    current = partner(promotions=(promotion("11", -DAY, DAY),))
    new = partner(name="AliExpress Russia", rate_percent=Decimal("6"))

    replaced = current.replaced_by(new)

    assert (replaced.name, replaced.rate_percent) == ("AliExpress Russia", Decimal("6"))
    assert replaced.promotions == current.promotions


def test_ended_promotions_make_room_for_new_ones() -> None:
    ended = tuple(promotion("9", -3 * DAY, -2 * DAY, promotion_id=f"old-{i}") for i in range(MAX_PROMOTIONS))
    store = partner(promotions=ended)

    added = store.with_promotion(promotion("11", -HOUR, HOUR, promotion_id="new"), NOW)

    assert [p.promotion_id for p in added.promotions] == ["new"]


def test_a_partner_cannot_pile_up_promotions_without_end() -> None:
    coming = tuple(promotion("9", DAY, 2 * DAY, promotion_id=f"p{i}") for i in range(MAX_PROMOTIONS))
    with pytest.raises(InvalidInput) as refused:
        partner(promotions=coming).with_promotion(promotion("11", DAY, 2 * DAY, promotion_id="one-more"), NOW)
    assert refused.value.code == "too_many_promotions"


# --- finding a partner ------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["perekrestok", "PEREK", "Перекрёсток", "перекресток", "ПЕРЕКРЕСТОК", "vprok"])
def test_members_find_a_store_by_any_of_its_names_in_any_case(query: str) -> None:
    store = partner(
        "perekrestok",
        name="Perekrestok",
        category=Category.GROCERY_DELIVERY,
        aliases=("Перекрёсток", "Perekrestok Vprok"),
    )
    assert store.matches(query)


def test_a_search_for_another_store_does_not_match() -> None:
    assert not partner().matches("booking")
