# ruff: noqa: RUF001  (the stores' Russian names are Cyrillic on purpose: members search by them)
"""The local stack's partner catalog: the stores PRODUCT.md names, at their published rates, and some six
hundred more across the five categories, generated deterministically so that every run writes the same.

Idempotent: a second run rewrites the same items (BatchWriteItem, 25 a call). Promotion windows are
placed around `now`, so that a Black Friday is always running when someone looks.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from cashback.bootstrap import Container
from cashback.catalog.rules import Category, GoodsRate, Network, Partner, Promotion

SEEDED_BY = "local-seed"

# (partner id, name, category, rate, accrual days, network, aliases, goods rates, Black Friday rate); a goods
# rate is (name, rate, the network's tariff id that selects it: Admitad's numbers, a direct partner's codes)
Named = tuple[str, str, Category, str, int, Network, tuple[str, ...], tuple[tuple[str, str, str], ...], str | None]
NAMED: tuple[Named, ...] = (
    ("aliexpress", "AliExpress", Category.ONLINE_STORES, "7", 45, Network.ADMITAD, ("Алиэкспресс", "Али"), (), None),
    (
        "ozon",
        "Ozon",
        Category.ONLINE_STORES,
        "4",
        30,
        Network.ADMITAD,
        ("Озон",),
        (("Electronics", "2", "18733"), ("Books", "6", "18734")),
        "8",
    ),
    ("wildberries", "Wildberries", Category.ONLINE_STORES, "3", 30, Network.ADMITAD, ("Вайлдберриз", "WB"), (), None),
    (
        "lamoda",
        "Lamoda",
        Category.ONLINE_STORES,
        "6",
        45,
        Network.ADMITAD,
        ("Ламода",),
        (("Premium brands", "3", "9641"),),
        "12",
    ),
    (
        "m-video",
        "M.Video",
        Category.ONLINE_STORES,
        "2",
        40,
        Network.ADMITAD,
        ("М.Видео", "Мвидео"),
        (("Smartphones", "1", "28402"), ("Home appliances", "3", "28403")),
        "5",
    ),
    ("eldorado", "Eldorado", Category.ONLINE_STORES, "2.5", 40, Network.DIRECT, ("Эльдорадо",), (), None),
    ("asos", "ASOS", Category.ONLINE_STORES, "5", 45, Network.ADMITAD, ("Асос",), (), None),
    ("yandex-market", "Yandex Market", Category.ONLINE_STORES, "3.5", 35, Network.DIRECT, ("Яндекс Маркет",), (), "6"),
    ("delivery-club", "Delivery Club", Category.FOOD_DELIVERY, "8", 14, Network.ADMITAD, ("Деливери Клаб",), (), None),
    (
        "perekrestok",
        "Perekrestok",
        Category.GROCERY_DELIVERY,
        "15",
        30,
        Network.ADMITAD,
        ("Перекрёсток", "Perekrestok Vprok"),
        (("First order", "15", "31015"), ("Later orders", "5", "31016")),
        None,
    ),
    (
        "samokat",
        "Samokat",
        Category.GROCERY_DELIVERY,
        "10",
        30,
        Network.DIRECT,
        ("Самокат",),
        (("Ready meals", "12", "ready-meals"), ("Household goods", "4", "household")),
        None,
    ),
    ("kuper", "Kuper", Category.GROCERY_DELIVERY, "8", 30, Network.ADMITAD, ("Купер", "СберМаркет"), (), None),
    ("booking", "Booking.com", Category.TRAVEL, "5", 90, Network.ADMITAD, ("Букинг", "Booking"), (), None),
    ("ostrovok", "Ostrovok", Category.TRAVEL, "6", 60, Network.ADMITAD, ("Островок",), (), None),
    ("aviasales", "Aviasales", Category.TRAVEL, "1.5", 45, Network.DIRECT, ("Авиасейлс",), (), None),
    ("kassir-ru", "KassirRu", Category.ENTERTAINMENT, "4", 30, Network.ADMITAD, ("Кассир.ру", "Kassir.ru"), (), None),
    ("litres", "Litres", Category.ENTERTAINMENT, "12", 30, Network.ADMITAD, ("Литрес", "ЛитРес"), (), "20"),
    ("ivi", "Ivi", Category.ENTERTAINMENT, "20", 30, Network.DIRECT, ("Иви",), (), None),
    ("okko", "Okko", Category.ENTERTAINMENT, "25", 30, Network.ADMITAD, ("Окко",), (), "35"),
)

# Names of the generated partners: every first word with every second word, per category.
GENERATED_NAMES: dict[Category, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Category.ONLINE_STORES: (
        (
            "Techno",
            "Mega",
            "Smart",
            "Domo",
            "Eco",
            "Style",
            "Kids",
            "Sport",
            "Book",
            "Zoo",
            "Beauty",
            "Home",
            "Garden",
            "Auto",
            "Gift",
            "Digital",
            "Fashion",
            "Shoe",
            "Pharma",
            "Optic",
        ),
        ("Market", "Shop", "Store", "Point", "Mall", "Land", "House", "World", "Hub", "Box", "Plaza", "Outlet"),
    ),
    Category.FOOD_DELIVERY: (
        (
            "Pizza",
            "Sushi",
            "Burger",
            "Wok",
            "Shawarma",
            "Khachapuri",
            "Pelmeni",
            "Vegan",
            "Grill",
            "Noodle",
            "Taco",
            "Bakery",
        ),
        ("Express", "Time", "Point", "Club", "House", "Go", "Master", "Bar", "Kitchen", "Lab"),
    ),
    Category.GROCERY_DELIVERY: (
        ("Fresh", "Green", "Farm", "Daily", "Quick", "Family", "City", "Lavka", "Basket", "Harvest"),
        ("Market", "Foods", "Delivery", "Store", "Cart", "Pantry", "Grocer", "Box"),
    ),
    Category.ENTERTAINMENT: (
        ("Cinema", "Kino", "Music", "Game", "Quest", "Theatre", "Concert", "Karaoke", "Bowling", "Escape"),
        ("Pass", "Club", "Zone", "Hall", "Time", "Park", "Room", "Plus"),
    ),
    Category.TRAVEL: (
        ("Sky", "Rail", "Trip", "Tour", "Hotel", "Hostel", "Bus", "Cruise", "Ski", "Sea"),
        ("Way", "Go", "Stay", "Planner", "Tickets", "Finder", "Trips", "Holidays"),
    ),
}
# Typical rates per category, in half-percent steps: (lowest, highest).
RATE_RANGES = {
    Category.ONLINE_STORES: (1, 12),
    Category.FOOD_DELIVERY: (3, 15),
    Category.GROCERY_DELIVERY: (3, 20),
    Category.ENTERTAINMENT: (5, 30),
    Category.TRAVEL: (1, 8),
}
CONDITIONS = {
    Category.ONLINE_STORES: "Cashback on orders paid in full and not returned. Gift cards, delivery and orders "
    "with another service's promo code earn nothing.",
    Category.FOOD_DELIVERY: "Cashback on delivered orders paid online. Tips and delivery fees earn nothing.",
    Category.GROCERY_DELIVERY: "Cashback on delivered orders paid online. Alcohol, tobacco and baby formula earn "
    "nothing.",
    Category.ENTERTAINMENT: "Cashback on tickets and subscriptions paid in full. Refunded tickets and free trials "
    "earn nothing.",
    Category.TRAVEL: "Cashback once the stay or trip has taken place; cancelled bookings earn nothing. Taxes and "
    "fees are not part of the amount.",
}


def _tracking_url(partner_id: str, network: Network) -> str:
    if network is Network.ADMITAD:
        return f"https://ad.admitad.com/g/{hashlib.sha256(partner_id.encode()).hexdigest()[:30]}/?subid={{click_id}}"
    return f"https://{partner_id}.partner.example/track?click={{click_id}}"


def _campaign_id(partner_id: str, network: Network) -> str | None:
    """A stable made-up Admitad programme id: what support's lost orders are filed under."""
    if network is not Network.ADMITAD:
        return None
    return str(10_000 + int(hashlib.sha256(partner_id.encode()).hexdigest()[:6], 16) % 90_000)


def _conditions(category: Category, accrual_days: int) -> str:
    return f"{CONDITIONS[category]} Confirmed within {accrual_days} days of the purchase."


def _black_friday(partner_id: str, rate: str, now: datetime) -> Promotion:
    return Promotion(f"{partner_id}-black-friday", Decimal(rate), now - timedelta(days=2), now + timedelta(days=5))


def _named(now: datetime) -> Iterator[Partner]:
    for partner_id, name, category, rate, days, network, aliases, goods, promoted in NAMED:
        yield Partner(
            partner_id=partner_id,
            name=name,
            category=category,
            rate_percent=Decimal(rate),
            tracking_url=_tracking_url(partner_id, network),
            accrual_days=days,
            conditions=_conditions(category, days),
            network=network,
            aliases=aliases,
            goods_rates=tuple(GoodsRate(goods_name, Decimal(rate), tariff) for goods_name, rate, tariff in goods),
            promotions=(_black_friday(partner_id, promoted, now),) if promoted else (),
            network_campaign_id=_campaign_id(partner_id, network),
        )


def _generated(now: datetime) -> Iterator[Partner]:
    rng = random.Random(2026)  # the same catalog on every run
    for category, (firsts, seconds) in GENERATED_NAMES.items():
        low, high = RATE_RANGES[category]
        for first in firsts:
            for second in seconds:
                name = f"{first} {second}"
                partner_id = name.lower().replace(" ", "-")
                rate = Decimal(rng.randrange(low * 2, high * 2 + 1)) / 2
                days = rng.choice((30, 30, 35, 40, 45, 45, 14, 60))
                network = Network.ADMITAD if rng.random() < 0.7 else Network.DIRECT
                roll = rng.random()
                promotions: tuple[Promotion, ...] = ()
                if roll < 0.12:
                    promotions = (_black_friday(partner_id, str(min(rate * 2, Decimal(100))), now),)
                elif roll < 0.16:  # Cyber Monday, announced but not started yet
                    starts = now + timedelta(days=6)
                    promotions = (
                        Promotion(f"{partner_id}-cyber-monday", rate + 3, starts, starts + timedelta(days=1)),
                    )
                yield Partner(
                    partner_id=partner_id,
                    name=name,
                    category=category,
                    rate_percent=rate,
                    tracking_url=_tracking_url(partner_id, network),
                    accrual_days=days,
                    conditions=_conditions(category, days),
                    network=network,
                    active=rng.random() >= 0.02,  # a few partners paused: hidden from members
                    promotions=promotions,
                    network_campaign_id=_campaign_id(partner_id, network),
                )


def partners(now: datetime) -> list[Partner]:
    return [*_named(now), *_generated(now)]


def seed_catalog(container: Container, now: datetime) -> int:
    """Writes the local catalog; returns how many partners it wrote."""
    return container.catalog_repository.write_all(partners(now), actor=SEEDED_BY, at=now)
