"""The 06:00 check on the 1st: whether the month that has just ended was settled, for the alarm to watch."""

from __future__ import annotations

import json

from tests.fixtures.handlers import REPO, LambdaContext, handler_module


def scheduled(name: str) -> dict[str, object]:
    return json.loads((REPO / "events" / f"{name}.json").read_text())


def test_a_month_not_settled_by_the_check_is_reported_as_not_completed(moto_tables: dict[str, str]) -> None:
    # Given no settlement has run for the month that has just ended
    # When the 06:00 check fires
    answer = handler_module("settlement_start").lambda_handler(scheduled("settlement-check"), LambdaContext())
    # Then it says the month is not completed (and the SettlementNotCompleted metric is 1)
    assert answer["completed"] is False


def test_a_month_settled_before_the_check_is_reported_as_completed(moto_tables: dict[str, str]) -> None:
    # Given the monthly schedule settled the month that has just ended
    start = handler_module("settlement_start")
    started = start.lambda_handler(scheduled("settlement-schedule"), LambdaContext())
    # When the 06:00 check fires
    answer = start.lambda_handler(scheduled("settlement-check"), LambdaContext())
    # Then it names the same month, completed
    assert answer == {"month": started["month"], "completed": True}
