"""The reconciliation against the fake Admitad API over real HTTP, on DynamoDB Local: pages, a 429, a token
the network expires mid-run, and a crash mid-run; afterwards the ledger equals the network's statistics."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cashback.bootstrap import Container
from cashback.ledger.rules import Status
from cashback.networks.actions import ActionsPage
from cashback.networks.admitad_api import AdmitadApi
from cashback.networks.repository import ReconciliationRepository
from cashback.networks.rules import RunState
from cashback.networks.service import ReconciliationService
from local.fake_admitad import FakeAdmitad
from local.secrets import DEVELOPMENT_ADMITAD_API_CLIENT
from tests.builders import a_recorded_click

ORDERED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Crash(Exception):
    pass


class Network:
    """Admitad's API as the run reads it, with the network's and the process's misfortunes on cue."""

    def __init__(self, fake: FakeAdmitad, api: AdmitadApi) -> None:
        self.fake, self.api = fake, api
        self.pages: list[int] = []
        self.crash_at: int | None = 6

    def actions_updated(self, since: datetime, until: datetime, *, offset: int = 0, limit: int = 500) -> ActionsPage:
        if offset == 3:
            self.fake.expire_tokens()  # the network expires the run's token between two pages
        if offset == self.crash_at:
            self.crash_at = None
            raise Crash("the function died on the third page")
        self.pages.append(offset)
        return self.api.actions_updated(since, until, offset=offset, limit=limit)


def test_a_run_over_http_with_a_429_an_expired_token_and_a_crash_matches_the_statistics(
    container: Container, fake_admitad: FakeAdmitad, new_member_id: Callable[[], str]
) -> None:
    # Given eight orders of two members in Admitad's statistics, and the API answering 429 once first
    members = [new_member_id(), new_member_id()]
    statuses = ["pending", "approved", "declined", "approved_but_stalled"]
    expected = {}
    for member in members:
        click = a_recorded_click(container, member_id=member, partner_id="aliexpress", rate_percent="7")
        for i, status in enumerate(statuses):
            action_id = f"{member}-{i}"
            fake_admitad.add_action(
                {
                    "action_id": action_id,
                    "subid": click.click_id,
                    "status": status,
                    "order_sum": "2000.00",
                    "payment_sum": "300.00",
                    "currency": "RUB",
                    "action_date": ORDERED.isoformat(),
                    "status_updated": (ORDERED + timedelta(minutes=i)).isoformat(),
                }
            )
            expected[(member, action_id)] = {
                "pending": Status.PENDING,
                "approved": Status.ACCRUED,
                "approved_but_stalled": Status.ACCRUED,
                "declined": Status.REJECTED,
            }[status]
    fake_admitad.rate_limit(next_requests=1)
    waits: list[float] = []
    client = DEVELOPMENT_ADMITAD_API_CLIENT
    api = AdmitadApi(fake_admitad.url, lambda: (client["client_id"], client["client_secret"]), sleep=waits.append)
    network = Network(fake_admitad, api)
    reconciliation = ReconciliationService(
        ReconciliationRepository(container.settings.table("RECONCILIATIONS_TABLE")),
        statistics=lambda name: network,
        conversions=container.postbacks,
        page_size=3,
    )
    now = ORDERED + timedelta(days=1, seconds=random.randrange(10**7))  # runs outlive the test

    # When the run crashes on its third page and is started again for the same time
    with pytest.raises(Crash):
        reconciliation.reconcile("admitad", ORDERED - timedelta(hours=1), now=now)
    run = reconciliation.reconcile("admitad", ORDERED - timedelta(hours=1), now=now)

    # Then it waited out the 429, got a new token, resumed at the third page, and applied every action once
    assert waits == [1.0]
    assert network.pages == [0, 3, 6]
    assert (run.state, run.actions_seen, run.applied, run.differences) == (RunState.COMPLETED, 8, 8, ())
    for (member, action_id), status in expected.items():
        txn = container.ledger.transaction(member, f"conversion:admitad:{action_id}")
        assert txn is not None
        assert (txn.status, txn.amount) == (status, 140)
