"""What a lost order tells the network: the reward it should expect, and which partners can have one."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.catalog.rules import Network
from cashback.networks.actions import LostOrderAnswer
from cashback.networks.lost_order_rules import check_filable, estimated_reward, rejection_reason
from cashback.platform.errors import InvalidInput
from tests.builders import a_click
from tests.unit.catalog.support import partner


@pytest.mark.parametrize(
    ("rate", "share", "expected"),
    [("5", "100", "200.00"), ("5", "50", "400.00"), ("7", "100", "349.30"), ("3.33", "70", "190.28")],
)
def test_the_expected_reward_is_the_commission_the_member_s_rate_is_a_share_of(
    rate: str, share: str, expected: str
) -> None:
    click = replace(a_click(rate_percent=rate), commission_share_percent=Decimal(share))
    amount = Decimal("4000.00") if rate != "7" else Decimal("4990.00")

    assert estimated_reward(amount, click) == Decimal(expected)


@given(
    amount=st.decimals(min_value=1, max_value=10_000_000, places=2),
    rate=st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
    share=st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
)
def test_the_member_s_cashback_never_exceeds_their_share_of_the_expected_reward_by_a_kopeck(
    amount: Decimal, rate: Decimal, share: Decimal
) -> None:
    click = replace(a_click(rate_percent=str(rate)), commission_share_percent=share)

    reward = estimated_reward(amount, click)

    assert reward == reward.quantize(Decimal("0.01"))
    assert amount * rate / 100 - reward * share / 100 < Decimal("0.01")
    assert reward * share / 100 <= amount * rate / 100


def test_only_a_network_partner_with_a_campaign_id_can_have_a_lost_order() -> None:
    assert check_filable(partner(network_campaign_id="16421")) == "16421"
    with pytest.raises(InvalidInput) as direct:
        check_filable(
            partner(network=Network.DIRECT, tracking_url="https://shop.example/t?c={click_id}", network_campaign_id="1")
        )
    with pytest.raises(InvalidInput) as unknown:
        check_filable(partner())
    assert (direct.value.code, unknown.value.code) == ("lost_orders_not_supported", "partner_without_campaign")


@pytest.mark.parametrize("campaign_id", ["", "abc", "1" * 21, "12 3"])
def test_a_campaign_id_is_digits(campaign_id: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        partner(network_campaign_id=campaign_id)

    assert refused.value.code == "invalid_network_campaign_id"


def test_a_rejection_says_the_network_s_words_or_that_it_gave_none() -> None:
    assert (
        rejection_reason(LostOrderAnswer("1", "rejected", " Duplicate ")) == "The network rejected the order: Duplicate"
    )
    assert rejection_reason(LostOrderAnswer("1", "rejected")) == "The network rejected the order: it gave no reason"
