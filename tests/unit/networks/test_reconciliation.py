"""The daily reconciliation with Admitad (PRODUCT.md "When cashback does not come"): the network's statistics
are its latest word, and each action goes through the postbacks' convergence path, on moto."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.ledger.rules import Balances, Status
from cashback.networks.actions import NetworkAction
from cashback.networks.repository import ReconciliationRepository
from cashback.networks.rules import Difference, Run, RunState
from cashback.networks.service import ReconciliationService
from cashback.platform.errors import NotFound
from cashback.postbacks.rules import PostbackStatus
from cashback.rates.repository import RatesRepository
from cashback.rates.rules import Rate
from local.fake_admitad import FakeAdmitad
from tests.builders import a_postback, a_recorded_click
from tests.fakes.statistics import MemoryStatistics, StatisticsDown

ORDERED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 03:00 in Moscow


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str]) -> None:
    pass


@pytest.fixture
def admitad(container: Container) -> MemoryStatistics:
    """Admitad's statistics, as the container's reconciliation reads them."""
    statistics = MemoryStatistics()
    container.action_statistics = lambda network: statistics
    return statistics


def click_of(container: Container, member: str = "anna") -> Click:
    """The member's click to AliExpress at 7 %, through Admitad."""
    return a_recorded_click(container, member_id=member, partner_id="aliexpress", network="admitad", rate_percent="7")


def action(
    click_id: str,
    action_id: str = "1048576001",
    status: str = "pending",
    order_sum: str = "10000.00",
    *,
    hours_later: int = 1,
    comment: str = "",
) -> NetworkAction:
    """Admitad's action for the order placed through `click_id`, in the state it had `hours_later` after it."""
    return NetworkAction(
        action_id=action_id,
        subid=click_id,
        status=status,
        order_id=f"order-{action_id}",
        order_sum=Decimal(order_sum),
        payment_sum=None,
        currency="RUB",
        action_date=ORDERED,
        status_updated=ORDERED + timedelta(hours=hours_later),
        comment=comment,
    )


def purchase(container: Container, member: str = "anna", action_id: str = "1048576001") -> tuple[Status, int]:
    txn = container.ledger.transaction(member, f"conversion:admitad:{action_id}")
    assert txn is not None
    return txn.status, txn.amount


def test_an_action_whose_postback_never_came_appears_as_pending_cashback(
    container: Container, admitad: MemoryStatistics
) -> None:
    # Given Anna's order of 10,000 through her click, which Admitad reports but never called back about
    click = click_of(container)
    admitad.report(action(click.click_id, status="pending"))

    # When the nightly reconciliation runs
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then her purchase is there, pending with its cashback of 700, and the run counts it as applied
    assert purchase(container) == (Status.PENDING, 700)
    assert (run.state, run.actions_seen, run.applied, run.unchanged, run.differences) == (
        RunState.COMPLETED,
        1,
        1,
        0,
        (),
    )


def test_a_declined_action_the_programme_held_as_pending_is_rejected(
    container: Container, admitad: MemoryStatistics
) -> None:
    # Given Anna's purchase pending after the store's postback
    click = click_of(container)
    container.postbacks.apply(a_postback(click, conversion_id="1048576001", amount="10000.00", occurred_at=ORDERED))
    assert purchase(container) == (Status.PENDING, 700)
    # and Admitad's statistics saying, later, that the store declined it (its decline postback was lost)
    admitad.report(action(click.click_id, status="declined", hours_later=72, comment="order cancelled"))

    # When the reconciliation runs
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then her purchase is rejected
    assert purchase(container)[0] is Status.REJECTED
    assert run.applied == 1


def test_an_action_the_programme_already_knows_changes_nothing(container: Container, admitad: MemoryStatistics) -> None:
    # Given Anna's purchase approved by the store's postback, as Admitad's statistics also say
    click = click_of(container)
    approved_at = ORDERED + timedelta(hours=5)
    postback = a_postback(click, PostbackStatus.APPROVED, conversion_id="1048576001", amount="10000.00")
    container.postbacks.apply(postback.__class__(**{**postback.__dict__, "occurred_at": approved_at}))
    admitad.report(action(click.click_id, status="approved", hours_later=5))

    # When the reconciliation runs
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then nothing moves: the run counts it as unchanged
    assert purchase(container) == (Status.ACCRUED, 700)
    assert (run.applied, run.unchanged) == (0, 1)


def test_an_action_for_an_unknown_click_is_listed_as_a_difference(
    container: Container, admitad: MemoryStatistics
) -> None:
    # Given Admitad reports an action whose subid is no click of ours
    admitad.report(action("no-such-click", action_id="1048576999"))

    # When the reconciliation runs
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then the report lists it for support, and nothing was credited
    assert [(d.action_id, d.subid, d.reason) for d in run.differences] == [
        ("1048576999", "no-such-click", "unknown click id")
    ]
    assert (run.actions_seen, run.applied, run.differences_total) == (1, 0, 1)


def test_a_run_pages_through_the_statistics(container: Container, admitad: MemoryStatistics) -> None:
    # Given five of Anna's orders in Admitad's statistics, which it gives two to a page
    click = click_of(container)
    admitad.page_size = 2
    admitad.report(*(action(click.click_id, action_id=f"a{i}", hours_later=i) for i in range(5)))

    # When the reconciliation runs
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then it read three pages, and every order is there
    assert admitad.pages_read == [0, 2, 4]
    assert (run.actions_seen, run.applied) == (5, 5)
    assert all(purchase(container, action_id=f"a{i}") == (Status.PENDING, 700) for i in range(5))


def test_a_run_that_crashed_on_a_page_resumes_there(container: Container, admitad: MemoryStatistics) -> None:
    # Given six of Anna's orders, two to a page, and Admitad's API failing once on the second page
    click = click_of(container)
    admitad.page_size = 2
    admitad.report(*(action(click.click_id, action_id=f"a{i}", hours_later=i) for i in range(6)))
    admitad.fail_once_at_offset = 2

    # When the nightly run fails there
    with pytest.raises(StatisticsDown):
        container.reconciliation.reconcile("admitad", now=NIGHT)
    failed = container.reconciliation.report("admitad-20261126T000000Z")
    assert (failed.state, failed.offset, failed.applied) == (RunState.FAILED, 2, 2)

    # and the scheduler's retry of the same invocation runs again
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then it resumed at the second page, and the ledger is what the statistics say, each order once
    assert admitad.pages_read == [0, 2, 4]
    assert (run.run_id, run.state, run.actions_seen, run.applied) == (failed.run_id, RunState.COMPLETED, 6, 6)
    assert all(purchase(container, action_id=f"a{i}") == (Status.PENDING, 700) for i in range(6))
    assert container.ledger.balances("anna").pending == 6 * 700 + 200  # and the first-purchase bonus, once


class _DiesAfterApplying:
    """The runs' store, in a process that dies once after applying a page and before saving its progress."""

    def __init__(self, runs: ReconciliationRepository, at_offset: int) -> None:
        self._runs = runs
        self._at_offset: int | None = at_offset

    def __getattr__(self, name: str) -> Callable[..., object]:
        return getattr(self._runs, name)

    def save_progress(self, before: Run, after: Run) -> None:
        if before.offset == self._at_offset:
            self._at_offset = None
            raise StatisticsDown("the function died before saving the page")
        self._runs.save_progress(before, after)


def test_a_page_applied_again_after_a_crash_pays_nothing_twice(container: Container, admitad: MemoryStatistics) -> None:
    # Given four orders, two to a page: two pending, one approved, one declined by Admitad
    click = click_of(container)
    admitad.page_size = 2
    admitad.report(
        action(click.click_id, action_id="a0", status="pending", hours_later=1),
        action(click.click_id, action_id="a1", status="approved", hours_later=2),
        action(click.click_id, action_id="a2", status="approved_but_stalled", order_sum="2000.00", hours_later=3),
        action(click.click_id, action_id="a3", status="declined", hours_later=4),
    )
    runs = _DiesAfterApplying(ReconciliationRepository(container.settings.table("RECONCILIATIONS_TABLE")), 2)
    service = ReconciliationService(
        runs,  # type: ignore[arg-type]
        statistics=lambda network: admitad,
        conversions=container.postbacks,
    )

    # When the run dies after applying the second page, and runs again
    with pytest.raises(StatisticsDown):
        service.reconcile("admitad", now=NIGHT)
    run = service.reconcile("admitad", now=NIGHT)

    # Then the second page was applied again without effect, and the ledger equals the statistics
    assert (run.state, run.actions_seen, run.applied, run.unchanged) == (RunState.COMPLETED, 4, 2, 2)
    assert purchase(container, action_id="a0") == (Status.PENDING, 700)
    assert purchase(container, action_id="a1") == (Status.ACCRUED, 700)
    assert purchase(container, action_id="a2") == (Status.ACCRUED, 140)
    assert purchase(container, action_id="a3")[0] is Status.REJECTED
    # the first-purchase bonus (200) once, pending with the first order
    assert container.ledger.balances("anna") == Balances(available=700 + 140, pending=700 + 200)


def test_each_nightly_run_starts_a_day_before_the_last_one_ended(
    container: Container, admitad: MemoryStatistics
) -> None:
    # Given last night's run completed
    first = container.reconciliation.reconcile("admitad", now=NIGHT)
    # When tonight's runs
    tonight = container.reconciliation.reconcile("admitad", now=NIGHT + timedelta(days=1))
    # Then it pulls from a day before last night's end (late updates), up to now
    assert (tonight.since, tonight.until) == (first.until - timedelta(days=1), NIGHT + timedelta(days=1))
    # and a run over an older window an operator asks for leaves the nightly start alone
    container.reconciliation.reconcile("admitad", NIGHT - timedelta(days=30), now=NIGHT + timedelta(hours=1))
    later = container.reconciliation.reconcile("admitad", now=NIGHT + timedelta(days=2))
    assert later.since == tonight.until - timedelta(days=1)


def test_a_retried_start_of_a_completed_run_changes_nothing(container: Container, admitad: MemoryStatistics) -> None:
    click = click_of(container)
    admitad.report(action(click.click_id))
    first = container.reconciliation.reconcile("admitad", now=NIGHT)
    again = container.reconciliation.reconcile("admitad", now=NIGHT)
    assert again == first
    assert admitad.pages_read == [0]


def test_only_known_networks_are_reconciled(container: Container) -> None:
    with pytest.raises(NotFound) as refused:
        container.reconciliation.start("awin", now=NIGHT)
    assert refused.value.code == "unknown_network"


def test_by_default_a_run_pulls_admitads_api_over_http(container: Container, fake_admitad: FakeAdmitad) -> None:
    # Given Admitad's API (the local fake, over real HTTP) reporting an approved order whose postback never came
    click = click_of(container)
    fake_admitad.add_action(
        {
            "action_id": "1048576777",
            "subid": click.click_id,
            "status": "approved",
            "order_sum": "2000.00",
            "payment_sum": "300.00",
            "currency": "RUB",
            "action_date": (ORDERED).isoformat(),
            "status_updated": (ORDERED + timedelta(hours=5)).isoformat(),
        }
    )

    # When the nightly run starts with no other source configured
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then it read the API and accrued the member's cashback
    assert (run.state.value, run.applied) == ("completed", 1)
    assert purchase(container, action_id="1048576777") == (Status.ACCRUED, 140)


def test_differences_past_the_report_limit_are_counted(container: Container, admitad: MemoryStatistics) -> None:
    from cashback.networks import rules

    admitad.report(*(action(f"nobody-{i}", action_id=f"x{i}") for i in range(4)))
    original = rules.MAX_DIFFERENCES
    rules.MAX_DIFFERENCES = 3
    try:
        run = container.reconciliation.reconcile("admitad", now=NIGHT)
    finally:
        rules.MAX_DIFFERENCES = original
    assert (len(run.differences), run.differences_total) == (3, 4)
    assert run.differences[0] == Difference("x0", "nobody-0", "unknown click id")


def test_an_action_in_another_currency_is_converted_at_the_days_rate(
    container: Container, admitad: MemoryStatistics
) -> None:
    # Given the official rate of tenge on the order's day (18 roubles for 100), and Admitad's approved action
    # of 100,000 tenge whose postback never came
    RatesRepository(container.settings.table("RATES_TABLE")).save(Rate("KZT", ORDERED.date(), Decimal("0.18")))
    kzt = replace(action(click_of(container).click_id, status="approved", order_sum="100000.00"), currency="KZT")
    admitad.report(kzt)

    # When the nightly run applies it
    run = container.reconciliation.reconcile("admitad", now=NIGHT)

    # Then it is priced in roubles (18,000.00 at 7 %), never read as roubles, the original kept
    assert (run.applied, run.differences) == (1, ())
    txn = container.ledger.transaction("anna", "conversion:admitad:1048576001")
    assert txn is not None
    assert (txn.status, txn.amount) == (Status.ACCRUED, 1260)
    assert (txn.details["order_original_amount"], txn.details["order_original_currency"]) == ("100000.00", "KZT")
