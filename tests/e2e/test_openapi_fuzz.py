"""No operation of the published API answers 5xx, whatever a client sends: schemathesis generates requests
from the gateway's own `/openapi.json` (valid and invalid ones) and sends each as a member and as an admin.

Only the "not a server error" check is made: a 4xx for a generated request is fine, a 5xx is a bug at the
edge (a handler that lets an input reach an unexpected exception). The suite runs a few cases per
operation, deterministically; `make fuzz` runs the same with many (FUZZ_EXAMPLES per operation, role and
mode).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation

from local.gateway.server import LocalGateway
from tests.fixtures.dynamodb_local import ApiClient, random_phone

# Cases per operation, role and generation mode; kept small in the suite (`make fuzz` raises it).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
ROLES = ("member", "admin")


def _token(api: ApiClient, request: dict[str, str]) -> str:
    response = api.post("/_local/token", json=request)
    assert response.status == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture(scope="module")
def operations(local_gateway: LocalGateway) -> list[APIOperation]:
    url: str = local_gateway.url
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # a document schemathesis cannot read is a failure, not a skip
            raise result.err()
        operations.append(result.ok())
    return operations


@pytest.fixture(scope="module")
def tokens(local_gateway: LocalGateway) -> dict[str, str]:
    """A token per role; the member is enrolled first, so that their own routes reach their data."""
    api = ApiClient(local_gateway.url)
    member = _token(api, {"phone": random_phone()})
    enrolled = api.post("/members", json={}, token=member)
    assert enrolled.status in (200, 201), enrolled.text
    return {"member": member, "admin": _token(api, {"role": "admin"})}


def _fuzz(operation: APIOperation, mode: GenerationMode, base_url: str, token: str) -> tuple[Counter[str], list[str]]:
    """Sends EXAMPLES generated cases; returns their status classes ("2xx": 12, ...) and what failed (a 5xx,
    with its request)."""
    statuses: Counter[str] = Counter()
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every failing request is reported as sent
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        try:
            response = case.call_and_validate(
                base_url=base_url, headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
            )
        except AssertionError as error:  # schemathesis' failures are AssertionErrors; keep going
            statuses["5xx"] += 1
            failures.append(f"{operation.label} ({mode.value}): {error}")
        else:
            statuses[f"{response.status_code // 100}xx"] += 1

    try:
        run()
    except Unsatisfiable:  # nothing invalid to send: an operation with no parameters has no negative cases
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid case could be generated"
    return statuses, failures


@pytest.mark.parametrize("role", ROLES)
def test_no_operation_answers_a_server_error(
    role: str,
    operations: list[APIOperation],
    tokens: dict[str, str],
    local_gateway: LocalGateway,
    record_property: Callable[[str, object], None],
) -> None:
    base_url: str = local_gateway.url
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    for operation in operations:
        for mode in MODES:
            answered, failed = _fuzz(operation, mode, base_url, tokens[role])
            statuses += answered
            failures += failed
    # Said in the run's summary (tests/e2e/conftest.py), under xdist too.
    answers = ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    summary = f"as {role}: {statuses.total()} cases over {len(operations)} operations ({answers}), {len(failures)} 5xx"
    record_property("fuzz", summary)
    assert not failures, "\n\n".join(failures)
