"""Cold start to the first response, per function, on DynamoDB Local: a fresh interpreter imports the
function's `app` and answers one representative request (events/*.json), as a ratio against a bare botocore
handler making the same DynamoDB calls in a fresh interpreter of its own. An import made cheaper by moving
its cost to the first request does not improve this figure.

Each repeat runs bench/cold_probe.py twice: `handler` records the calls its request makes, then `baseline`
sends exactly those calls. The baseline sends them to a copy of the tables (the same state: copied after
seeding, then kept in step by the replays), so that its writes succeed or fail as the handler's did; the
outcomes are compared. The first repeat of each function is not counted (it compiles bytecode and warms
DynamoDB Local).

Not covered: the docs function (no AWS calls, no wiring) and the outbox relay (its request is an
EventBridge PutEvents, not DynamoDB); their imports are in the cold-import figure. Secrets come from the
environment (local/secrets.py), so the Secrets Manager read of a first request in AWS is not counted.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import boto3

from bench import redirect
from bench import settlement as settlement_bench
from bench.cold_probe import RESULT
from cashback.bootstrap import Container
from local.gateway.function_host import FunctionHost
from local.secrets import DEVELOPMENT_POSTBACK_SECRETS
from local.template import REPO, create_tables, functions, load_template, table_names

PREFIX, REPLAY_PREFIX = "cashback-cold", "cashback-cold-replay"
MEMBER_ID, PHONE = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10", "+79161234567"  # the events' member
MONTH = "2026-10"  # settlement-report's and settlement-worker's
# The local stand-ins' secrets (local.wiring reads them from the environment); postbacks-admitad.json
# carries the local Admitad token.
SECRETS = {
    "LINK_SIGNING_SECRET": redirect.BENCH_LINK_KEY,
    "POSTBACK_SECRETS": json.dumps(DEVELOPMENT_POSTBACK_SECRETS),
}

Event = dict[str, Any]


@dataclass(frozen=True)
class ColdStartFigure:
    function: str
    event: str
    import_seconds: float  # not money: medians
    request_seconds: float  # not money
    total_seconds: float  # not money: the median of import + request
    baseline_seconds: float  # not money
    calls: dict[str, int]  # the request's DynamoDB calls by operation (in the first counted repeat)
    calls_vary: bool  # whether other repeats made other calls
    swap_imported: tuple[str, ...]  # modules the untimed swap imported beyond local.*: in neither figure

    @property
    def ratio(self) -> float:  # not money
        return self.total_seconds / self.baseline_seconds


# --- what the requests find, and the requests ------------------------------------------------------------


def _event(name: str) -> Event:
    event: Event = json.loads((REPO / "events" / f"{name}.json").read_text())
    return event


def _with_query(event: Event, query: dict[str, str]) -> Event:
    event = copy.deepcopy(event)
    event["queryStringParameters"] = query
    event["rawQueryString"] = urlencode(query)
    return event


@dataclass(frozen=True)
class Case:
    event_name: str
    events: list[Event]  # one per run
    expect: str = ""  # what the response, as JSON, must contain besides a status below 400


def _seed(container: Container, runs: int, now: datetime) -> dict[str, Case]:
    """Seeds what the requests read through `container`, and returns each function's case: the same event
    for each run of a read, an event with its own click, payment or batch for each run of a write."""
    from cashback.clicks.rules import sign_link
    from cashback.members.rules import Goal
    from cashback.settlement.repository import SettlementRepository
    from cashback.settlement.rules import MEMBERS_PER_BATCH
    from local.seed_catalog import seed_catalog
    from tests.builders import a_member_with, a_recorded_click

    seed_catalog(container, now)
    a_member_with(container, 5_000, goal=Goal.SMARTPHONE, member_id=MEMBER_ID, phone=PHONE)
    container.certificates.issue_certificate(MEMBER_ID, 500, "cold-start-seed", now=now)
    container.claims.file_claim(MEMBER_ID, "lamoda", "LM-100233", now.date() - timedelta(days=90), "4990.00", now=now)
    SettlementRepository(container.settings.table("LEDGER_TABLE"), container.dynamodb).create_run(MONTH, now)
    # A full batch each: a new batch of members with bonuses per run, as the worker gets them from SQS.
    settled = settlement_bench.seed(container, runs * MEMBERS_PER_BATCH, listed=False)
    clicks = [
        a_recorded_click(container, member_id=MEMBER_ID, clicked_at=now - timedelta(hours=1)) for _ in range(runs)
    ]

    def same(name: str, expect: str = "") -> Case:
        return Case(name, [_event(name)] * runs, expect)

    go = _event("clicks-go")
    link = sign_link(MEMBER_ID, go["pathParameters"]["partner_id"], now, redirect.BENCH_LINK_KEY.encode())
    postback = _event("postbacks-admitad")
    payment = _event("payments-completed")
    worker = _event("settlement-worker")
    [settle_record] = [r for r in worker["Records"] if '"settle"' in r["body"]]

    def postback_for(i: int) -> Event:
        query = {**postback["queryStringParameters"], "subid": clicks[i].click_id, "action_id": f"cold-{i}"}
        return _with_query(postback, {**query, "time": str(int(now.timestamp()))})

    def payment_of(i: int) -> Event:
        return {**payment, "detail": {**payment["detail"], "payment_id": f"cold-{uuid.uuid4()}"}}

    def batch_of(i: int) -> Event:
        members = settled[i * MEMBERS_PER_BATCH : (i + 1) * MEMBERS_PER_BATCH]
        body = {"type": "settle", "month": MONTH, "attempt": 1, "batch": f"cold-{i}", "member_ids": members}
        return {"Records": [{**settle_record, "body": json.dumps(body)}]}

    return {
        "members": same("members-me"),
        "ledger": same("ledger-balance"),
        "catalog": same("catalog-partners"),
        # To the partner's tracking link: a refused link would redirect to sign-in.
        "clicks": Case("clicks-go", [_with_query(go, {"t": link})] * runs, "https://ad.admitad.com/"),
        "admin": same("admin-partner-put"),
        "postbacks": Case("postbacks-admitad", [postback_for(i) for i in range(runs)], "applied"),
        "claims": same("claims-mine"),
        "certificates": same("certificates-list"),
        "payments": Case("payments-completed", [payment_of(i) for i in range(runs)], '"outcome": "credited"'),
        "settlement_start": same("settlement-report"),
        "settlement_worker": Case("settlement-worker (a batch)", [batch_of(i) for i in range(runs)], "[]"),
    }


def _answered(response: Any, expect: str) -> bool:
    status = response.get("statusCode", 200) if isinstance(response, dict) else 200
    return int(status) < 400 and expect in json.dumps(response)


def _copy_tables(source: Mapping[str, str], target: Mapping[str, str]) -> None:
    client = boto3.client("dynamodb")
    for logical_id, name in source.items():
        for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items = page.get("Items", [])
            for start in range(0, len(items), 25):
                batch = {target[logical_id]: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
                while batch:
                    batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    """`value` with every table name (a string or a key, as in BatchGetItem's RequestItems) renamed."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    if isinstance(value, dict):
        return {names.get(k, k): _renamed(v, names) for k, v in value.items()}
    return value


# --- the fresh interpreters ------------------------------------------------------------------------------


def _probe(mode: str, payload: Any, function: str, env: Mapping[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.cold_probe", mode],
        cwd=REPO / "functions" / function,
        env=dict(env),
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith(RESULT)]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"cold_probe {mode} failed for {function} ({out.returncode}):\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT))
    return result


def _figure(function: str, case: Case, env: Mapping[str, str], replay_tables: Mapping[str, str]) -> ColdStartFigure:
    imports, requests, totals, baselines = [], [], [], []
    operations: list[dict[str, int]] = []
    swapped: set[str] = set()
    for run, event in enumerate(case.events):
        handled = _probe("handler", event, function, env)
        if not _answered(handled["response"], case.expect):
            raise RuntimeError(f"{function} did not answer {case.event_name}: {json.dumps(handled['response'])[:2000]}")
        calls = handled["calls"]
        others = sorted({f"{c['service']} {c['operation']}" for c in calls if c["service"] != "dynamodb"})
        if others:
            raise RuntimeError(f"{function}: calls other than DynamoDB, which the baseline cannot make: {others}")
        replayed = _probe("baseline", _renamed(calls, replay_tables), function, env)  # to the copy of the tables
        if replayed["outcomes"] != [c["outcome"] for c in calls]:
            raise RuntimeError(f"{function}: the replay's outcomes {replayed['outcomes']} differ from the handler's")
        if run == 0:
            continue  # compiles bytecode, warms DynamoDB Local: not counted
        imports.append(handled["import"])
        requests.append(handled["request"])
        totals.append(handled["import"] + handled["request"])
        baselines.append(replayed["total"])
        operations.append(dict(sorted(Counter(c["operation"] for c in calls).items())))
        swapped.update(handled["swap_imported"])
    return ColdStartFigure(
        function=function,
        event=case.event_name,
        import_seconds=statistics.median(imports),
        request_seconds=statistics.median(requests),
        total_seconds=statistics.median(totals),
        baseline_seconds=statistics.median(baselines),
        calls=operations[0],
        calls_vary=any(o != operations[0] for o in operations),
        swap_imported=tuple(sorted(swapped)),
    )


def measure(repeats: int = 5) -> list[ColdStartFigure]:
    """Needs DynamoDB Local's endpoint, credentials and region in this process's environment (bench/__main__.py
    sets them); creates tables of its own. Reads the functions' environments from this process's, so it runs
    before anything adds variables to it."""
    from local.wiring import local_container

    template = load_template()
    names, replay_names = table_names(template, PREFIX), table_names(template, REPLAY_PREFIX)
    endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    create_tables(template, names, endpoint)
    create_tables(template, replay_names, endpoint)
    host = FunctionHost(template, names, REPO)
    region = os.environ.get("AWS_DEFAULT_REGION", "eu-central-1")
    probe_environment = {
        **SECRETS,
        "PYTHONPATH": f"{REPO / 'layers' / 'cashback' / 'python'}:{REPO}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    seeding = local_container({**os.environ, **host.environment, **probe_environment})
    cases = _seed(seeding, repeats + 1, datetime.now(UTC))
    _copy_tables(names, replay_names)
    by_directory = {s.code_uri.rstrip("/").rpartition("/")[2]: s.logical_id for s in functions(template).values()}
    replay_tables = {names[t]: replay_names[t] for t in names}
    figures = []
    for function, case in cases.items():
        env = {**host.function_environment(by_directory[function]), **probe_environment}
        figures.append(_figure(function, case, env, replay_tables))
    return figures


def print_figures(figures: list[ColdStartFigure], repeats: int) -> None:
    print(
        f"\nCold start to the first response on DynamoDB Local (median of {repeats} fresh interpreters each: "
        "import app + one request; baseline: a fresh interpreter importing botocore, creating a DynamoDB client "
        "and sending the same DynamoDB calls)"
    )
    header = f"{'function':<19}{'request':<36}{'import ms':>10}{'request ms':>11}{'total ms':>9}"
    print(f"{header}{'baseline ms':>12}{'x baseline':>11}  DynamoDB calls")
    for f in figures:
        calls = ", ".join(f"{n} {name}" for name, n in f.calls.items()) or "none"
        calls += " (varies between repeats)" if f.calls_vary else ""
        print(
            f"{f.function:<19}{f.event:<36}{f.import_seconds * 1000:>10.0f}{f.request_seconds * 1000:>11.0f}"
            f"{f.total_seconds * 1000:>9.0f}{f.baseline_seconds * 1000:>12.0f}{f.ratio:>11.2f}  {calls}"
        )
    for f in figures:
        if f.swap_imported:
            print(f"  note: {f.function}'s untimed wiring swap imported {', '.join(f.swap_imported)}")
