"""The reconciliation as an operator and the schedule reach it: through its function's handler, on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cashback.networks.actions import NetworkAction
from tests.builders import a_recorded_click
from tests.fakes.statistics import MemoryStatistics
from tests.fixtures.handlers import REPO, LambdaContext, handler_module, invoke, sample_event

ORDERED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str]) -> None:
    pass


@pytest.fixture
def admitad() -> MemoryStatistics:
    """Admitad's statistics, as the reconciliation function reads them."""
    statistics = MemoryStatistics()
    handler_module("reconciliation").container.action_statistics = lambda network: statistics
    return statistics


def an_action(click_id: str, action_id: str, status: str = "pending") -> NetworkAction:
    return NetworkAction(
        action_id=action_id,
        subid=click_id,
        status=status,
        order_id=f"order-{action_id}",
        order_sum=Decimal("10000.00"),
        payment_sum=Decimal("800.00"),
        currency="RUB",
        action_date=ORDERED,
        status_updated=ORDERED + timedelta(hours=1),
    )


def test_an_operator_starts_a_run_and_reads_its_report(admitad: MemoryStatistics) -> None:
    # Given Admitad reports Anna's order, whose postback never came, and one for a click that is not ours
    container = handler_module("reconciliation").container
    click = a_recorded_click(container, member_id="anna", partner_id="aliexpress", network="admitad", rate_percent="7")
    admitad.report(an_action(click.click_id, "1048576001"), an_action("not-ours", "1048576002"))

    # When an operator starts a reconciliation since the 20th
    status, started = invoke("reconciliation", sample_event("reconciliation-start"))

    # Then it is accepted with its run's id, and the run's report says what it did
    assert status == 202
    path = f"/admin/reconciliations/{started['run_id']}"
    event = sample_event("reconciliation-report")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"run_id": started["run_id"]}
    status, report = invoke("reconciliation", event)
    assert status == 200
    assert {k: report[k] for k in ("state", "actions_seen", "applied", "unchanged")} == {
        "state": "completed",
        "actions_seen": 2,
        "applied": 1,
        "unchanged": 0,
    }
    assert [(d["action_id"], d["subid"]) for d in report["differences"]] == [("1048576002", "not-ours")]
    # and Anna's purchase is pending with its cashback
    txn = container.ledger.transaction("anna", "conversion:admitad:1048576001")
    assert txn is not None
    assert (txn.status.value, txn.amount) == ("pending", 700)


def test_a_run_that_does_not_exist_is_404() -> None:
    status, answer = invoke("reconciliation", sample_event("reconciliation-report"))
    assert (status, answer["error"]["code"]) == (404, "run_not_found")


def test_an_unknown_network_is_404(admitad: MemoryStatistics) -> None:
    event = sample_event("reconciliation-start", body={"network": "awin"})
    status, answer = invoke("reconciliation", event)
    assert (status, answer["error"]["code"]) == (404, "unknown_network")


def test_a_since_without_an_offset_is_refused(admitad: MemoryStatistics) -> None:
    event = sample_event("reconciliation-start", body={"network": "admitad", "since": "2026-11-20T00:00:00"})
    status, _ = invoke("reconciliation", event)
    assert status == 422


def test_a_caller_who_is_not_an_admin_is_refused() -> None:
    event = sample_event("reconciliation-start", role="cashback-dev-some-other-role")
    status, answer = invoke("reconciliation", event)
    assert (status, answer["error"]["code"]) == (403, "forbidden")


def test_the_schedule_reconciles_and_its_retry_resumes_the_same_run(admitad: MemoryStatistics) -> None:
    # Given Admitad reports Anna's order
    module = handler_module("reconciliation")
    click = a_recorded_click(
        module.container, member_id="anna", partner_id="aliexpress", network="admitad", rate_percent="7"
    )
    admitad.report(an_action(click.click_id, "1048576001"))
    scheduled = json.loads((REPO / "events" / "reconciliation-schedule.json").read_text())

    # When the nightly schedule fires, and the scheduler delivers the same invocation again
    first = module.lambda_handler(scheduled, LambdaContext())
    again = module.lambda_handler(scheduled, LambdaContext())

    # Then both name one completed run, which applied the order once
    assert first["run_id"] == again["run_id"] == "admitad-20261126T000000Z"
    assert (again["state"], again["applied"]) == ("completed", 1)
    assert admitad.pages_read == [0]


def test_a_failed_scheduled_run_is_raised_for_lambda_to_retry(admitad: MemoryStatistics) -> None:
    admitad.fail_once_at_offset = 0
    scheduled = json.loads((REPO / "events" / "reconciliation-schedule.json").read_text())
    with pytest.raises(Exception, match="statistics API failed"):
        handler_module("reconciliation").lambda_handler(scheduled, LambdaContext())
