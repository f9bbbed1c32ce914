"""Postbacks in another currency, through the handlers on moto: the daily rates function stores the official
rates (the local fixed ones), and a postback in tenge is priced in roubles at the rate of the order's day,
never read as roubles; without a rate it is kept for support."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.ledger.calendar import MOSCOW
from tests.builders import a_click
from tests.fixtures.handlers import REPO, LambdaContext, handler_module, invoke, sample_event

ORDERED_AT = datetime.now(UTC) - timedelta(minutes=5)


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": ["local-admitad-secret"]}))
    monkeypatch.setenv("LINK_SIGNING_SECRET", "unit-tests-link-signing-key-0123456789abcdef")


def run_the_rates_job() -> dict[str, Any]:
    event = json.loads((REPO / "events" / "rates-schedule.json").read_text())
    result: dict[str, Any] = handler_module("rates").lambda_handler(event, LambdaContext())
    return result


def rates_items(moto_tables: dict[str, str]) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(moto_tables["RatesTable"])
    return sorted(table.scan()["Items"], key=lambda item: (item["pk"], item["sk"]))


def clicked(container: Container) -> Click:
    click = a_click(member_id="anna", partner_id="lamoda-kz", rate_percent="7")
    container.clicks.record(click)
    return click


def admitad(click: Click, order_sum: str, currency: str, **query: str) -> dict[str, Any]:
    sample = {k: v for k, v in sample_event("postbacks-admitad")["queryStringParameters"].items() if k != "payment_sum"}
    params = {
        **sample,
        "subid": click.click_id,
        "status": "approved",
        "order_sum": order_sum,
        "currency": currency,
        "time": str(int(ORDERED_AT.timestamp())),
        **query,
    }
    status, receipt = invoke("postbacks", sample_event("postbacks-admitad", query=params))
    assert status == 200, receipt
    return dict(receipt)


def test_the_daily_job_stores_the_days_rates_once(moto_tables: dict[str, str]) -> None:
    first = run_the_rates_job()
    stored = rates_items(moto_tables)
    again = run_the_rates_job()  # the scheduler's retry, or a second run the same day

    assert first == again
    assert first["stored"] == 3
    assert rates_items(moto_tables) == stored
    assert {item["pk"]: item["roubles_per_unit"] for item in stored} == {
        "RATE#EUR": "100.0000",
        "RATE#KZT": "0.1800",  # 18,0000 for 100 tenge
        "RATE#USD": "90.0000",
    }


def test_100000_tenge_at_7_percent_earn_1260_bonuses(container: Container, moto_tables: dict[str, str]) -> None:
    # Given the official rates of the order's day (18 roubles per 100 tenge) and Anna's 7 % click
    container.rates.refresh(ORDERED_AT.astimezone(MOSCOW).date())
    click = clicked(container)

    # When Admitad approves an order of 100,000 tenge, commission 14,000 tenge
    receipt = admitad(click, "100000.00", "KZT", payment_sum="14000.00")

    # Then it is priced as 18,000 roubles: 1,260 bonuses, not 7,000
    assert receipt["outcome"] == "applied"
    txn = container.ledger.transaction("anna", f"conversion:{receipt['conversion']}")
    assert txn is not None
    assert txn.amount == 1260
    assert (txn.details["order_amount"], txn.details["commission"]) == ("18000.00", "2520.00")
    # and the delivery keeps what the network sent, with the rate that priced it
    ledger = boto3.resource("dynamodb").Table(moto_tables["LedgerTable"]).scan()["Items"]
    (raw,) = [item["raw"] for item in ledger if "raw" in item]
    assert {k: raw[k] for k in ("original_amount", "original_currency", "original_commission", "rate")} == {
        "original_amount": "100000.00",
        "original_currency": "KZT",
        "original_commission": "14000.00",
        "rate": "0.1800",
    }


def test_a_currency_without_a_rate_is_kept_for_support(container: Container) -> None:
    container.rates.refresh(ORDERED_AT.astimezone(MOSCOW).date())
    click = clicked(container)

    receipt = admitad(click, "100.00", "GBP")

    assert receipt["outcome"] == "kept_for_support"
    assert container.ledger.transaction("anna", f"conversion:{receipt['conversion']}") is None


def test_before_any_rate_is_stored_tenge_are_kept_for_support_not_read_as_roubles(container: Container) -> None:
    click = clicked(container)

    receipt = admitad(click, "100000.00", "KZT")

    assert receipt["outcome"] == "kept_for_support"
    assert container.ledger.transaction("anna", f"conversion:{receipt['conversion']}") is None
