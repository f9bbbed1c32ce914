"""Pricing from the offer, through the postbacks handler on moto: the goods rate the network's tariff
selects, at most the partner's share of the commission the network reports, and nothing past the sanity
ceiling (kept for support)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.ledger.rules import Balances
from tests.builders import a_click
from tests.fixtures.handlers import invoke, sample_event


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": ["local-admitad-secret"]}))
    monkeypatch.setenv("LINK_SIGNING_SECRET", "unit-tests-link-signing-key-0123456789abcdef")


def clicked(
    container: Container, partner_id: str, rate: str, goods: dict[str, str] | None = None, **more: Any
) -> Click:
    """Anna's click on `partner_id`, with the terms the redirect froze on it."""
    click = a_click(member_id="anna", partner_id=partner_id, rate_percent=rate)
    click = replace(click, goods_rates={t: Decimal(r) for t, r in (goods or {}).items()}, **more)
    container.clicks.record(click)
    return click


def admitad(click: Click, order_sum: str, **query: str) -> dict[str, Any]:
    """Admitad approves an order on `click`; `query` adds `payment_sum`, `tariff_id` (the sample's commission is
    left out unless given)."""
    sample = {k: v for k, v in sample_event("postbacks-admitad")["queryStringParameters"].items() if k != "payment_sum"}
    params = {**sample, "subid": click.click_id, "status": "approved", "order_sum": order_sum, **query}
    status, receipt = invoke("postbacks", sample_event("postbacks-admitad", query=params))
    assert status == 200, receipt
    return dict(receipt)


def purchase(container: Container, receipt: dict[str, Any]) -> tuple[int, dict[str, str]]:
    txn = container.ledger.transaction("anna", f"conversion:{receipt['conversion']}")
    assert txn is not None
    return txn.amount, dict(txn.details)


PEREKRESTOK = {"31015": "15", "31016": "5"}  # first order, later orders


def test_a_later_perekrestok_order_pays_5_not_15_percent(container: Container) -> None:
    # Given Anna's click on Perekrestok: 15 % for a first order, 5 % for later ones
    click = clicked(container, "perekrestok", "15", PEREKRESTOK)

    # When Admitad approves an order of 4,000 under the later-orders tariff
    receipt = admitad(click, "4000.00", tariff_id="31016")

    # Then Anna earns 5 %: 200, not 600, and her history says which rate applied
    amount, details = purchase(container, receipt)
    assert amount == 200
    assert (details["rate"], details["tariff"]) == ("5", "31016")


def test_an_mvideo_smartphone_pays_1_percent(container: Container) -> None:
    # Given Anna's click on M.Video: 2 %, smartphones 1 %
    click = clicked(container, "m-video", "2", {"28402": "1", "28403": "3"})

    # When Admitad approves a smartphone of 79,990
    receipt = admitad(click, "79990.00", tariff_id="28402")

    # Then Anna earns 799, not 1,599
    assert purchase(container, receipt)[0] == 799


def test_a_tariff_the_click_has_no_rate_for_pays_the_clicks_rate(container: Container) -> None:
    click = clicked(container, "perekrestok", "15", PEREKRESTOK)

    receipt = admitad(click, "4000.00", tariff_id="77777")

    amount, details = purchase(container, receipt)
    assert (amount, details["rate"]) == (600, "15")
    assert "tariff" not in details


@pytest.mark.parametrize(("share", "earned"), [("100", 1000), ("50", 500)])
def test_cashback_is_at_most_the_partners_share_of_the_reported_commission(
    container: Container, share: str, earned: int
) -> None:
    # Given Anna's click on AliExpress at 7 %, its members getting `share` % of the commission
    click = clicked(container, "aliexpress", "7", commission_share_percent=Decimal(share))

    # When Admitad approves an order of 100,000 on which it earns 1,000
    receipt = admitad(click, "100000.00", payment_sum="1000.00")

    # Then Anna earns the share of the commission, not 7,000
    amount, details = purchase(container, receipt)
    assert amount == earned
    assert details["commission"] == "1000.00"
    assert container.ledger.balances("anna").available >= earned


def test_an_amount_past_the_sanity_ceiling_is_kept_for_support_and_credits_nothing(container: Container) -> None:
    # Given Anna's click on AliExpress
    click = clicked(container, "aliexpress", "7")

    # When Admitad approves an order of 7 x 10^18 roubles
    receipt = admitad(click, "7" + "0" * 18)

    # Then it is kept for support, and Anna's balances do not move
    assert receipt["outcome"] == "kept_for_support"
    orphan = container.claim_repository.orphan(receipt["conversion"])
    assert orphan is not None
    assert (orphan.reason, orphan.details["order_amount"]) == ("over_ceiling", "7" + "0" * 18 + ".00")
    assert container.ledger.balances("anna") == Balances()


def test_a_full_return_reported_as_zero_is_answered_200(container: Container) -> None:
    # Given Anna's click on AliExpress
    click = clicked(container, "aliexpress", "7")

    # When Admitad reports an order of 0 (fully returned)
    receipt = admitad(click, "0", payment_sum="0")

    # Then it is no error, and earns nothing
    assert purchase(container, receipt)[0] == 0
