"""Clicks on DynamoDB Local: the rate frozen on the click, and one write per warm redirect."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bench.calls import counting_calls
from cashback.bootstrap import Container
from cashback.clicks.rules import sign_link
from tests.fixtures.handlers import LambdaContext, handler_module, sample_event
from tests.unit.catalog.support import LINK_KEY, MEMBER, for_partner, forget_warm_state, partner

TRACKING_PREFIX = "https://partner.example/track?click="


@pytest.fixture
def clicks_db(db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LINK_SIGNING_SECRET", LINK_KEY)
    forget_warm_state()
    yield
    forget_warm_state()


@pytest.fixture
def new_partner_id() -> str:
    return f"it-{uuid.uuid4().hex[:12]}"


def given_partner(
    container: Container, partner_id: str, rate: str, promotion: tuple[str, timedelta, timedelta] | None = None
) -> None:
    catalog = container.catalog
    catalog.put_partner(
        partner(partner_id, name=partner_id, rate_percent=Decimal(rate), tracking_url=TRACKING_PREFIX + "{click_id}"),
        actor="it",
    )
    if promotion:
        promoted, starts, ends = promotion
        now = datetime.now(UTC)
        catalog.add_promotion(partner_id, Decimal(promoted), now + starts, now + ends, actor="it")


def follow_link(partner_id: str) -> str:
    """Follows a fresh link of MEMBER to the partner; returns the click id the store receives."""
    token = sign_link(MEMBER, partner_id, datetime.now(UTC), LINK_KEY.encode())
    event = for_partner(sample_event("clicks-go", query={"t": token}), partner_id)
    response = handler_module("clicks").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 302, response
    location: str = response["headers"]["Location"]
    assert location.startswith(TRACKING_PREFIX)
    return location.removeprefix(TRACKING_PREFIX)


pytestmark = pytest.mark.usefixtures("clicks_db")


def test_a_click_is_stored_with_the_rate_in_force_including_a_promotion(
    container: Container, new_partner_id: str
) -> None:
    given_partner(container, new_partner_id, "7", promotion=("11", -timedelta(hours=1), timedelta(days=2)))
    announced = f"{new_partner_id}-next"
    given_partner(container, announced, "7", promotion=("11", timedelta(days=6), timedelta(days=7)))

    during = container.clicks.find_click(follow_link(new_partner_id))
    before = container.clicks.find_click(follow_link(announced))

    assert during is not None
    assert before is not None
    assert (during.member_id, during.partner_id, during.rate_percent) == (MEMBER, new_partner_id, Decimal("11"))
    assert before.rate_percent == Decimal("7")


def test_the_rate_stays_as_it_was_at_the_click_when_the_partner_changes(
    container: Container, new_partner_id: str
) -> None:
    given_partner(container, new_partner_id, "7", promotion=("11", -timedelta(hours=1), timedelta(days=2)))
    click_id = follow_link(new_partner_id)

    given_partner(container, new_partner_id, "3")  # the back office lowers the rate afterwards

    click = container.clicks.find_click(click_id)
    assert click is not None
    assert click.rate_percent == Decimal("11")


def test_a_warm_redirect_makes_exactly_one_write_and_no_read(container: Container, new_partner_id: str) -> None:
    given_partner(container, new_partner_id, "5")
    follow_link(new_partner_id)  # the container's first redirect reads the partner once

    with counting_calls() as calls:
        click_ids = [follow_link(new_partner_id) for _ in range(20)]

    assert calls == {"PutItem": 20}
    assert len(set(click_ids)) == 20
    assert all(container.clicks.find_click(click_id) is not None for click_id in click_ids)
