"""The Admitad API client against the fake Admitad API, over real HTTP: paging, the window of status
updates, tokens, rate limits, failures and lost orders. No test really sleeps: waits are recorded."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cashback.networks.actions import ActionStatistics, LostOrder, LostOrderAnswer, NetworkAction
from cashback.networks.admitad_api import (
    RATE_LIMITED_ATTEMPTS,
    AdmitadApi,
    AdmitadApiError,
    MalformedResponse,
    credentials_from_json,
)
from local.fake_admitad import FakeAdmitad

DAY = datetime(2026, 11, 20, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Client:
    """The client under test, with the waits it asked for and a clock the test moves."""

    def __init__(self, fake: FakeAdmitad, credentials: tuple[str, str] | None = None) -> None:
        self.waits: list[float] = []
        self.clock = Clock()
        self.credential_reads = 0
        given_credentials = credentials or (fake.client_id, fake.client_secret)

        def read() -> tuple[str, str]:
            self.credential_reads += 1
            return given_credentials

        self.api = AdmitadApi(fake.url, read, sleep=self.waits.append, clock=self.clock, website_id=fake.website_id)


def action(action_id: str, updated: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "subid": f"click-{action_id}",
        "status": "pending",
        "order_sum": "1999.90",
        "payment_sum": "140.00",
        "currency": "RUB",
        "action_date": (updated - timedelta(days=1)).isoformat(),
        "status_updated": updated.isoformat(),
        **fields,
    }


def test_the_client_is_the_reconciliation_s_action_statistics(fake_admitad: FakeAdmitad) -> None:
    statistics: ActionStatistics = Client(fake_admitad).api  # mypy checks the protocol

    assert statistics.actions_updated(DAY, DAY + timedelta(days=1)).actions == []


def test_three_pages_list_every_action_once_with_decimal_amounts(fake_admitad: FakeAdmitad) -> None:
    # Given five actions updated on one day, the amounts written as JSON numbers and strings
    for number in range(5):
        fake_admitad.add_action(
            action(f"{7000 + number}", DAY + timedelta(hours=number), order_sum=Decimal("1999.90"), payment_sum="0.1")
        )
    client = Client(fake_admitad)

    # When the client pages through the day two at a time
    pages = []
    offset: int | None = 0
    while offset is not None:
        page = client.api.actions_updated(DAY, DAY + timedelta(days=1), offset=offset, limit=2)
        pages.append(page)
        offset = page.next_offset

    # Then three pages hold the five actions, in the network's order, amounts exact
    assert [len(page.actions) for page in pages] == [2, 2, 1]
    assert [page.next_offset for page in pages] == [2, 4, None]
    actions = [a for page in pages for a in page.actions]
    assert [a.action_id for a in actions] == ["7000", "7001", "7002", "7003", "7004"]
    assert {(a.order_sum, a.payment_sum) for a in actions} == {(Decimal("1999.90"), Decimal("0.1"))}
    assert all(isinstance(a.order_sum, Decimal) and isinstance(a.payment_sum, Decimal) for a in actions)
    # And one token served every page
    assert fake_admitad.tokens_issued == 1


def test_an_action_reads_as_the_network_reported_it(fake_admitad: FakeAdmitad) -> None:
    fake_admitad.add_action(
        action(
            "8002",
            DAY,
            status="declined",
            order_id="A-3",
            payment_sum=None,
            currency="KZT",
            tariff_id="31",
            comment="Order cancelled",
            action_date="2026-11-19T15:30:00+03:00",
        )
    )

    [reported] = Client(fake_admitad).api.actions_updated(DAY, DAY + timedelta(seconds=1)).actions

    assert reported == NetworkAction(
        action_id="8002",
        subid="click-8002",
        status="declined",
        order_id="A-3",
        order_sum=Decimal("1999.90"),
        payment_sum=None,
        currency="KZT",
        action_date=datetime(2026, 11, 19, 12, 30, tzinfo=UTC),
        status_updated=DAY,
        tariff_id="31",
        comment="Order cancelled",
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    updated=st.integers(min_value=0, max_value=20),
    since=st.integers(min_value=0, max_value=20_000),
    length=st.integers(min_value=1, max_value=20_000),
)
def test_a_window_lists_exactly_the_actions_updated_from_since_until_before_until(
    fake_admitad: FakeAdmitad, updated: int, since: int, length: int
) -> None:
    # Given an action updated at a whole second, and a window [since, until) in milliseconds around it
    fake_admitad.reset()
    moment = DAY + timedelta(seconds=updated)
    fake_admitad.add_action(action("9001", moment))
    start = DAY + timedelta(milliseconds=since)
    end = start + timedelta(milliseconds=length)

    # When the client asks for the window
    found = Client(fake_admitad).api.actions_updated(start, end).actions

    # Then the action is listed exactly when it lies in the window: consecutive windows never overlap
    assert bool(found) == (start <= moment < end)


def test_a_rate_limit_is_waited_out_as_retry_after_says(fake_admitad: FakeAdmitad) -> None:
    fake_admitad.add_action(action("7001", DAY))
    client = Client(fake_admitad)
    fake_admitad.rate_limit(next_requests=2)  # the token request and the first statistics request

    page = client.api.actions_updated(DAY, DAY + timedelta(days=1))

    assert [a.action_id for a in page.actions] == ["7001"]
    assert client.waits == [1.0, 1.0]


def test_a_rate_limit_that_does_not_end_is_a_clear_error(fake_admitad: FakeAdmitad) -> None:
    client = Client(fake_admitad)
    fake_admitad.rate_limit(next_requests=100)

    with pytest.raises(AdmitadApiError, match="429") as raised:
        client.api.actions_updated(DAY, DAY + timedelta(days=1))

    assert raised.value.status == 429
    assert len(client.waits) == RATE_LIMITED_ATTEMPTS - 1  # bounded: it gave up


def test_an_expired_token_is_fetched_again_once(fake_admitad: FakeAdmitad) -> None:
    # Given a client that already holds a token
    fake_admitad.add_action(action("7001", DAY))
    client = Client(fake_admitad)
    client.api.actions_updated(DAY, DAY + timedelta(days=1))

    # When the network expires it before its time, and the client asks again
    fake_admitad.expire_tokens()
    page = client.api.actions_updated(DAY, DAY + timedelta(days=1))

    # Then it got one new token and its answer
    assert [a.action_id for a in page.actions] == ["7001"]
    assert fake_admitad.tokens_issued == 2


def test_a_token_is_renewed_before_it_expires(fake_admitad: FakeAdmitad) -> None:
    fake_admitad.token_seconds = 600
    client = Client(fake_admitad)
    client.api.actions_updated(DAY, DAY + timedelta(days=1))

    client.clock.now += 599  # inside the token's life, but past the client's early renewal
    client.api.actions_updated(DAY, DAY + timedelta(days=1))

    assert fake_admitad.tokens_issued == 2
    assert client.credential_reads == 2


def test_the_credentials_are_read_only_when_a_token_is_needed(fake_admitad: FakeAdmitad) -> None:
    client = Client(fake_admitad)
    assert client.credential_reads == 0

    client.api.actions_updated(DAY, DAY + timedelta(days=1))
    client.api.actions_updated(DAY, DAY + timedelta(days=1))

    assert client.credential_reads == 1


def test_wrong_credentials_are_a_clear_error(fake_admitad: FakeAdmitad) -> None:
    client = Client(fake_admitad, credentials=("local-admitad-client", "not-the-secret"))

    with pytest.raises(AdmitadApiError, match="refused the client credentials") as raised:
        client.api.actions_updated(DAY, DAY + timedelta(days=1))

    assert raised.value.status == 401


def test_a_server_error_is_retried(fake_admitad: FakeAdmitad) -> None:
    fake_admitad.add_action(action("7001", DAY))
    client = Client(fake_admitad)
    fake_admitad.answer_next(503, b'{"error": "Service unavailable"}')

    page = client.api.actions_updated(DAY, DAY + timedelta(days=1))

    assert [a.action_id for a in page.actions] == ["7001"]
    assert client.waits == [0.5]


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b'{"results": "none", "_meta": {"count": 1}}',
        b'{"results": []}',
        b'{"results": [{"action_id": 1, "status": "paid", "currency": "RUB"}], "_meta": {"count": 1}}',
        b'{"results": [{"action_id": 1, "status": "approved", "currency": "RUB", "cart": 1.5, "action_date":'
        b' "20.11.2026", "status_updated": "2026-11-20 10:00:00"}], "_meta": {"count": 1}}',
        b'{"results": [{"action_id": 1, "status": "approved", "currency": "RUB", "cart": "lots", "action_date":'
        b' "2026-11-20 10:00:00", "status_updated": "2026-11-20 10:00:00"}], "_meta": {"count": 1}}',
        b'{"results": [{"action_id": 1, "status": "approved", "cart": 1}], "_meta": {"count": 1}}',
    ],
    ids=["not-json", "results-not-a-list", "no-meta", "unknown-status", "bad-date", "bad-amount", "no-currency"],
)
def test_a_malformed_answer_is_a_clear_error(fake_admitad: FakeAdmitad, body: bytes) -> None:
    client = Client(fake_admitad)
    fake_admitad.answer_next(200, body)

    with pytest.raises(MalformedResponse):
        client.api.actions_updated(DAY, DAY + timedelta(days=1))


def test_a_refusal_is_a_clear_error_with_the_network_s_words(fake_admitad: FakeAdmitad) -> None:
    client = Client(fake_admitad)
    fake_admitad.answer_next(400, b'{"error": "invalid_request", "error_description": "bad date"}')

    with pytest.raises(AdmitadApiError, match="bad date") as raised:
        client.api.actions_updated(DAY, DAY + timedelta(days=1))

    assert raised.value.status == 400
    assert client.waits == []


def lost_order(order_id: str = "A-77", receipt: bytes = b"%PDF-1.7 the member's receipt", **fields: Any) -> LostOrder:
    values: dict[str, Any] = {
        "campaign_id": "16421",
        "order_id": order_id,
        "order_date": date(2026, 11, 19),
        "order_price": Decimal("12999.90"),
        "estimated_reward": Decimal("650.00"),
        "subid": "click-1",
        "comment": "not tracked",
        "receipt": receipt,
        "receipt_type": "application/pdf",
        **fields,
    }
    return LostOrder(**values)


def test_a_lost_order_is_filed_for_the_programme_s_site_with_its_receipt(fake_admitad: FakeAdmitad) -> None:
    client = Client(fake_admitad)
    order = lost_order()

    ticket = client.api.file_lost_order(order)

    [filed] = fake_admitad.lost_orders()
    assert ticket == str(filed["id"])
    assert (filed["advcampaign"], str(filed["website"])) == (16421, fake_admitad.website_id)
    assert (filed["order_id"], filed["order_date"], filed["comment"]) == ("A-77", "2026-11-19", "not tracked")
    assert (filed["order_price"], filed["estimated_reward"], filed["subid"]) == ("12999.90", "650.00", "click-1")
    assert filed["attachment"] == {
        "filename": "receipt.pdf",
        "content_type": "application/pdf",
        "size": len(order.receipt),
    }


def test_without_the_programme_s_site_no_lost_order_is_filed(fake_admitad: FakeAdmitad) -> None:
    api = AdmitadApi(fake_admitad.url, lambda: (fake_admitad.client_id, fake_admitad.client_secret))

    with pytest.raises(AdmitadApiError, match="website"):
        api.file_lost_order(lost_order())

    assert fake_admitad.lost_orders() == []


def test_a_lost_order_is_not_filed_twice_after_a_server_error(fake_admitad: FakeAdmitad) -> None:
    client = Client(fake_admitad)
    fake_admitad.answer_next(502, b"{}", path="/lost_orders/create/")

    with pytest.raises(AdmitadApiError, match="502"):
        client.api.file_lost_order(lost_order("A-79"))

    assert client.waits == []  # the network may have filed it: the caller decides whether to file again


def test_a_filed_order_is_processing_until_the_network_answers(fake_admitad: FakeAdmitad) -> None:
    client = Client(fake_admitad)
    ticket = client.api.file_lost_order(lost_order())

    assert client.api.lost_order(ticket) == LostOrderAnswer(ticket, "processing")

    fake_admitad.answer_lost_order(ticket, "rejected", "The store has no such order")

    assert client.api.lost_order(ticket) == LostOrderAnswer(ticket, "rejected", "The store has no such order")


def test_an_accepted_lost_order_appears_in_the_statistics_as_a_pending_action_of_its_click(
    fake_admitad: FakeAdmitad,
) -> None:
    client = Client(fake_admitad)
    ticket = client.api.file_lost_order(lost_order(subid="click-9"))

    fake_admitad.answer_lost_order(ticket, "accepted")

    assert client.api.lost_order(ticket).status == "accepted"
    now = datetime.now(UTC)
    [action] = client.api.actions_updated(now - timedelta(hours=1), now + timedelta(hours=1)).actions
    assert (action.subid, action.status, action.order_id) == ("click-9", "pending", "A-77")
    assert (action.order_sum, action.payment_sum) == (Decimal("12999.90"), Decimal("650.00"))


@pytest.mark.parametrize("answer", [b'{"id": 1, "status": "lost"}', b'{"id": 1}', b"[]"])
def test_an_answer_about_a_lost_order_that_cannot_be_read_is_an_error(fake_admitad: FakeAdmitad, answer: bytes) -> None:
    client = Client(fake_admitad)
    fake_admitad.answer_next(200, answer, path="/lost_orders/1/")

    with pytest.raises(MalformedResponse):
        client.api.lost_order("1")


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"client_id": "x"}', '{"client_id": "", "client_secret": "y"}', '{"client_id": 1, "client_secret": 2}'],
)
def test_a_malformed_secret_is_a_clear_error(text: str) -> None:
    with pytest.raises(AdmitadApiError, match="secret"):
        credentials_from_json(text)


def test_the_secret_gives_the_client_id_and_secret() -> None:
    text = json.dumps({"client_id": "id-1", "client_secret": "secret-1"})

    assert credentials_from_json(text) == ("id-1", "secret-1")


def test_the_deployed_wiring_reads_the_client_from_secrets_manager(fake_admitad: FakeAdmitad) -> None:
    import boto3
    from moto import mock_aws

    from cashback.bootstrap import Container
    from cashback.platform.config import Settings

    fake_admitad.add_action(action("7001", DAY))
    with mock_aws():
        credentials = json.dumps({"client_id": fake_admitad.client_id, "client_secret": fake_admitad.client_secret})
        arn = boto3.client("secretsmanager").create_secret(Name="cashback/admitad-api", SecretString=credentials)["ARN"]
        settings = Settings.from_environment({"ADMITAD_API_URL": fake_admitad.url, "ADMITAD_API_SECRET_ARN": arn})

        page = Container(settings).admitad_api.actions_updated(DAY, DAY + timedelta(days=1))

    assert [a.action_id for a in page.actions] == ["7001"]


def test_the_real_admitad_api_is_the_default() -> None:
    from cashback.platform.config import Settings

    assert Settings.from_environment({}).admitad_api_url == "https://api.admitad.com/"


def test_a_filed_order_is_found_by_its_id_among_the_campaign_s_lost_orders(
    fake_admitad: FakeAdmitad,
) -> None:
    client = Client(fake_admitad)
    tickets = {
        order_id: client.api.file_lost_order(lost_order(order_id, campaign_id=campaign))
        for order_id, campaign in [("A-1", "16421"), ("A-2", "16421"), ("A-3", "777"), ("A-4", "16421")]
    }

    found = client.api.find_lost_order("16421", "A-4", date(2026, 11, 19))

    assert found == tickets["A-4"]
    assert client.api.find_lost_order("16421", "A-3", date(2026, 11, 19)) is None  # another programme's
    assert client.api.find_lost_order("16421", "A-4", date(2026, 11, 20)) is None  # ordered before that day
