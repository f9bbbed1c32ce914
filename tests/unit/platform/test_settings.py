"""A function's settings are read and checked once, when its container is built at cold start."""

from __future__ import annotations

import pytest

from cashback.platform.config import InvalidSetting, MissingSetting, Settings


def test_the_environment_gives_each_setting_by_its_variable() -> None:
    settings = Settings.from_environment({"LEDGER_TABLE": "cashback-prod-ledger", "CATALOG_CACHE_SECONDS": "30"})
    assert settings.table("LEDGER_TABLE") == "cashback-prod-ledger"
    assert settings.catalog_cache_seconds == 30
    assert settings.event_bus_name == "default"  # what the template leaves out keeps its default


@pytest.mark.parametrize("value", ["-1", "3601", "ten", "1.5", ""])
def test_a_cache_time_that_is_not_whole_seconds_up_to_an_hour_fails_the_cold_start(value: str) -> None:
    with pytest.raises(InvalidSetting, match="CATALOG_CACHE_SECONDS"):
        Settings.from_environment({"CATALOG_CACHE_SECONDS": value})


def test_a_table_the_function_was_not_given_is_named_when_asked_for() -> None:
    with pytest.raises(MissingSetting, match="CLICKS_TABLE"):
        Settings.from_environment({}).table("CLICKS_TABLE")


def test_subscriber_ranges_are_a_comma_separated_list_of_prefixes() -> None:
    settings = Settings.from_environment({"SUBSCRIBER_RANGES": "+7916, +7985,,"})
    assert settings.subscriber_prefixes == ("+7916", "+7985")
