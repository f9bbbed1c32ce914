"""The local gateway hosts every function in one process, but each function's wiring sees only what the
template gives that function: a handler that reached for another function's table would fail locally,
as it would in AWS, instead of quietly borrowing the variable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cashback.platform.config import MissingSetting
from local.gateway.function_host import FunctionHost
from local.template import REPO, load_template, table_names
from local.wiring import local_container


@pytest.fixture
def host() -> Iterator[FunctionHost]:
    template = load_template()
    host = FunctionHost(template, table_names(template, "cashback-test"), REPO)
    host.apply_environment()  # every function's variables in the process, as the gateway sets them
    yield host
    host.restore_environment()


def test_a_function_sees_its_own_tables(host: FunctionHost) -> None:
    # Given the clicks function, which the template gives the clicks and catalog tables
    environment = host.function_environment("ClicksFunction")
    # Then its wiring names them
    assert local_container(environment).settings.table("CLICKS_TABLE") == "cashback-test-clicks"


def test_a_function_does_not_see_another_functions_table(host: FunctionHost) -> None:
    # Given the payments function, which the template does not give the clicks table
    container = local_container(host.function_environment("PaymentsFunction"))
    # When its wiring asks for it, then it is refused by name, as in AWS
    with pytest.raises(MissingSetting, match="CLICKS_TABLE"):
        container.settings.table("CLICKS_TABLE")


def test_the_process_settings_a_test_makes_reach_every_function(
    host: FunctionHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a setting the test process makes after the gateway applied the template's variables
    monkeypatch.setenv("CATALOG_CACHE_SECONDS", "7")
    # Then the function's wiring reads it
    assert local_container(host.function_environment("CatalogFunction")).settings.catalog_cache_seconds == 7
