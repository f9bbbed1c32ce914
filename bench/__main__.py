"""`make bench`: every figure is a ratio against a baseline measured in the same run on this machine."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping

from bench import cold_imports, cold_start, ledger_ops, postbacks, redirect
from bench import settlement as settlement_bench


def _with_dynamodb_local(
    repeats: int, settlement_members: int, cold_repeats: int, *, settlement_only: bool = False, cold_only: bool = False
) -> None:
    from local.dynamodb import DynamoDBLocal, ensure_installed
    from local.template import create_tables, function_environment, functions, load_template, table_names

    ensure_installed()
    template = load_template()
    names = table_names(template, "cashback-bench")
    with DynamoDBLocal() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(variable, "bench")
        os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
        for function_id in functions(template):  # every table variable the template gives any function
            environment = function_environment(template, function_id, names)
            os.environ.update({k: v for k, v in environment.items() if v in names.values()})
        # The secrets local.wiring's stand-in reads from the environment: the key the redirect's links are
        # signed with, and the token the benchmark's Admitad postbacks carry.
        os.environ.setdefault("LINK_SIGNING_SECRET", redirect.BENCH_LINK_KEY)
        os.environ["POSTBACK_SECRETS"] = json.dumps({"admitad": [postbacks.SECRET]})
        create_tables(template, names, db.endpoint)

        # First: it reads its functions' environments from this process's, before the benchmarks below add
        # to it. Its tables are its own.
        cold_figures = [] if settlement_only else cold_start.measure(cold_repeats)
        if cold_only:
            cold_start.print_figures(cold_figures, cold_repeats)
            return

        from local.wiring import local_container  # the environment is set: its settings are read now

        # One container for every benchmark, as one warm function would have; its settlement queue handles
        # the messages in this process as they are sent.
        container = local_container()
        # First: the other benchmarks leave accounts without member records, which settlement would count.
        settlement_figure = settlement_bench.measure(container, settlement_members)
        if settlement_only:
            settlement_bench.print_figure(settlement_figure)
            return
        baseline, figures = ledger_ops.measure(container, repeats)
        redirect_figures = redirect.measure(container, repeats)
        postback_figures = postbacks.measure(container, repeats)
    print(
        f"\nLedger operations on DynamoDB Local ({repeats} each; "
        f"baseline: bare boto3 TransactWriteItems of 3 puts = {baseline * 1000:.2f} ms)"
    )
    print(f"{'operation':<24}{'DynamoDB calls':<44}{'ms':>8}{'x baseline':>12}")
    for f in figures:
        calls = ", ".join(f"{n} {k}" for k, n in f.calls.items())
        print(f"{f.name:<24}{calls:<44}{f.seconds * 1000:>8.2f}{f.ratio:>12.2f}")
    print(
        f"\nRedirect GET /go/<partner> through the clicks handler ({repeats} each; "
        "baseline: a bare boto3 PutItem of a click, timed alongside)"
    )
    print(f"{'case':<24}{'DynamoDB calls':<28}{'ms':>8}{'baseline ms':>13}{'x baseline':>12}")
    for r in redirect_figures:
        calls = ", ".join(f"{n} {k}" for k, n in r.calls.items())
        print(f"{r.name:<24}{calls:<28}{r.seconds * 1000:>8.2f}{r.baseline_seconds * 1000:>13.2f}{r.ratio:>12.2f}")

    print(
        f"\nAdmitad postbacks through the service ({repeats} each, every order its member's first, so the "
        "first-purchase bonus moves with it; baseline: a bare TransactWriteItems of as many puts as it writes)"
    )
    print(f"{'kind':<26}{'DynamoDB calls':<44}{'puts':>6}{'ms':>8}{'per s':>8}{'x baseline':>12}")
    for p in postback_figures:
        calls = ", ".join(f"{n} {k}" for k, n in p.calls.items())
        timing = f"{p.seconds * 1000:>8.2f}{p.per_second:>8.0f}{p.ratio:>12.2f}"
        print(f"{p.kind:<26}{calls:<44}{p.items_written:>6}{timing}")

    settlement_bench.print_figure(settlement_figure)
    cold_start.print_figures(cold_figures, cold_repeats)


def _cold_imports(repeats: int, environ: Mapping[str, str]) -> None:
    baseline, figures = cold_imports.measure(repeats, environ)
    print(
        f"\nCold import of each handler module (median of {repeats} fresh interpreters; "
        f"baseline: import botocore + create a DynamoDB client = {baseline * 1000:.0f} ms)"
    )
    print(f"{'function':<12}{'ms':>8}{'x baseline':>12}")
    for name, seconds in figures.items():
        print(f"{name:<12}{seconds * 1000:>8.0f}{seconds / baseline:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200, help="operations per ledger figure")
    parser.add_argument("--import-repeats", type=int, default=7)
    parser.add_argument("--cold-repeats", type=int, default=5, help="fresh interpreters per cold-start figure")
    parser.add_argument("--settlement-members", type=int, default=2000, help="100000 for the issue's full figure")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--settlement-only", action="store_true", help="only the settlement figure")
    only.add_argument(
        "--imports-only", action="store_true", help="only the cold-import figure (no DynamoDB Local is started)"
    )
    only.add_argument(
        "--cold-start-only", action="store_true", help="only the cold start to the first response, per function"
    )
    args = parser.parse_args()
    # The fresh interpreters of the cold imports start from the environment the bench was given, not the one
    # DynamoDB Local's run leaves behind, so that a full run's figure compares with an --imports-only one.
    environ = dict(os.environ)
    if not args.imports_only:
        _with_dynamodb_local(
            args.repeats,
            args.settlement_members,
            args.cold_repeats,
            settlement_only=args.settlement_only,
            cold_only=args.cold_start_only,
        )
    if not (args.settlement_only or args.cold_start_only):
        _cold_imports(args.import_repeats, environ)


if __name__ == "__main__":
    main()
