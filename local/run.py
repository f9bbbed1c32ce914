"""`python -m local.run`: the whole platform on this machine, DynamoDB Local, moto, a fake of Admitad's API
(local/fake_admitad.py, on a free port) and the local gateway.

Data is kept under `.data/dynamodb` so that a restart keeps it (`--in-memory` for a throwaway run); what
moto was sent (SMS, email, events) lives only as long as the run. The tables' streams are delivered to
their functions every STREAM_POLL_SECONDS, as Lambda's event source mappings poll them.
Ctrl-C or SIGTERM stops everything and exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType

from local import stack_state, tokens
from local.dynamodb import DynamoDBLocal, DynamoDBLocalError, ensure_installed
from local.fake_admitad import FakeAdmitad
from local.gateway.server import LocalGateway
from local.moto_server import MotoServer
from local.template import (
    REPO,
    bucket_names,
    create_tables,
    email_addresses,
    load_template,
    table_names,
    table_variables,
)

TABLE_PREFIX = "cashback-local"
HOST = "127.0.0.1"
STREAM_POLL_SECONDS = 0.5
# Credentials and region for DynamoDB Local, which accepts any: set only where the shell has none, so
# that nothing here ever reaches a real account by accident (the endpoint is always the local one).
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "eu-central-1",
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="the gateway's port (default 3000)")
    parser.add_argument("--data-dir", type=Path, default=REPO / ".data" / "dynamodb", help="DynamoDB Local's data")
    parser.add_argument("--in-memory", action="store_true", help="keep no data between runs")
    return parser.parse_args(argv)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _keep_token_key(data_dir: Path) -> None:
    """Tokens minted before a restart stay valid: the signing key is kept next to the data."""
    path = data_dir / "token-key.pem"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(tokens.SigningKey.generate().pem())
    tokens.use_key(tokens.SigningKey.from_pem(path.read_bytes()))


def _seed() -> None:
    """A catalog and the welcome promo code for a new user to look at, written through the same wiring as
    the handlers'."""
    from local.seed import seed
    from local.wiring import local_container

    seed(local_container())


def _where_to_go_next(url: str) -> str:
    return f"""
Cashback platform running on {url}
  Swagger UI     {url}/_local/swagger
  OpenAPI        {url}/openapi.json
  Outbox         {url}/_local/outbox
  Token keys     {url}/_local/jwks.json
  Admitad (fake) {url}/_local/admitad/actions (POST an action), {url}/_local/admitad/lost-orders

Try it:
  TOKEN=$(curl -s {url}/_local/token --json '{{"phone": "+79161234567"}}' | jq -r .token)
  MEMBER=$(curl -s {url}/members -H "Authorization: Bearer $TOKEN" --json '{{}}' | jq -r .member_id)
  curl -s {url}/members/me/balance -H "Authorization: Bearer $TOKEN"
  ADMIN=$(curl -s {url}/_local/token --json '{{"role": "admin"}}' | jq -r .token)
  curl -s {url}/admin/adjustments -H "Authorization: Bearer $ADMIN" \\
       --json '{{"member_id": "'$MEMBER'", "amount": 100, "reason": "Welcome gift"}}'
  curl -s {url}/members/me/transactions -H "Authorization: Bearer $TOKEN"

Ctrl-C stops the gateway, moto, the fake Admitad API and DynamoDB Local.
"""


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not _port_is_free(args.port):
        print(f"port {args.port} is busy: stop what uses it, or run on another port: make run PORT=8080")
        return 1

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    if not args.in_memory:
        _keep_token_key(args.data_dir)
    for variable, value in FAKE_AWS_ENVIRONMENT.items():
        os.environ.setdefault(variable, value)
    try:
        home = ensure_installed()
        database = DynamoDBLocal(data_dir=None if args.in_memory else args.data_dir, install_dir=home).start()
    except DynamoDBLocalError as error:
        print(f"DynamoDB Local could not start: {error}", file=sys.stderr)
        return 1
    gateway: LocalGateway | None = None
    aws: MotoServer | None = None
    admitad: FakeAdmitad | None = None
    try:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = database.endpoint
        template = load_template()
        names = table_names(template, TABLE_PREFIX)
        create_tables(template, names, database.endpoint)
        aws = MotoServer(
            host=HOST, senders=email_addresses(template, names), buckets=bucket_names(template).values()
        ).start()
        os.environ.update(aws.environment)  # SNS, SES, EventBridge: moto's, never a real account's
        admitad = FakeAdmitad(host=HOST).start()
        os.environ.update(admitad.environment)  # Admitad's API: the fake's, with its development client
        positions = None if args.in_memory else args.data_dir / "stream-positions.json"
        gateway = LocalGateway(
            template, names, port=args.port, host=HOST, aws=aws, stream_positions=positions, admitad=admitad
        )
        gateway.functions.apply_environment()  # the seed writes through the same stores as the handlers
        _seed()
        try:
            gateway.start()
        except OSError as error:
            print(f"port {args.port} is busy ({error.strerror}): run on another port: make run PORT=8080")
            return 1
        # Found by `make reconcile` and other tools while it runs (local/stack_state.py).
        stack_state.write(stack_state.LocalStack(database.endpoint, table_variables(template, names), os.getpid()))
        gateway.streams.start(STREAM_POLL_SECONDS)
        print(_where_to_go_next(gateway.url), flush=True)
        stop.wait()
        print("stopping", flush=True)
        return 0
    finally:
        stack_state.remove(os.getpid())
        if gateway is not None:
            gateway.stop()
        if admitad is not None:
            admitad.stop()
        if aws is not None:
            aws.stop()
        database.stop()


if __name__ == "__main__":
    raise SystemExit(main())
