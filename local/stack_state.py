"""Where a running `make run` stack can be found: `local.run` writes `.data/local-stack.json` (DynamoDB
Local's endpoint, the table variables, its own pid) once it serves, and removes it on exit. Tools such as
`make reconcile` read it to work on the local stack without the user exporting anything.

A file left behind by a stack that was killed (its pid no longer runs) counts as no stack.
LOCAL_STACK_FILE names another file (the tests point it away from the developer's own stack).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from local.template import REPO

DEFAULT_FILE = REPO / ".data" / "local-stack.json"
# DynamoDB Local accepts any credentials; set only where the shell has none, like local.run does.
_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "eu-central-1"}


def state_file() -> Path:
    return Path(os.environ.get("LOCAL_STACK_FILE") or DEFAULT_FILE)


@dataclass(frozen=True)
class LocalStack:
    endpoint: str  # DynamoDB Local's
    tables: dict[str, str]  # variable ("LEDGER_TABLE") -> table name
    pid: int

    def environment(self) -> dict[str, str]:
        """The variables that point the composition root at this stack's tables."""
        return {**self.tables, "AWS_ENDPOINT_URL_DYNAMODB": self.endpoint}


def write(stack: LocalStack, path: Path | None = None) -> Path:
    path = path or state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"endpoint": stack.endpoint, "tables": stack.tables, "pid": stack.pid}))
    temporary.replace(path)  # readers see the whole file or none
    return path


def remove(pid: int, path: Path | None = None) -> None:
    """Removes the file if the stack of process `pid` wrote it (another stack's file stays)."""
    path = path or state_file()
    try:
        written_by = json.loads(path.read_text())["pid"]
    except FileNotFoundError:
        return
    if written_by == pid:
        path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True


def find(path: Path | None = None) -> LocalStack | None:
    """The running local stack, or None when there is none (no file, or its process is gone)."""
    try:
        data = json.loads((path or state_file()).read_text())
    except FileNotFoundError:
        return None
    stack = LocalStack(str(data["endpoint"]), {str(k): str(v) for k, v in data["tables"].items()}, int(data["pid"]))
    return stack if _running(stack.pid) else None


def use_running_stack() -> LocalStack | None:
    """Points this process's environment at the running local stack, if there is one, and returns it; with
    none, leaves the environment (i.e. AWS) alone."""
    stack = find()
    if stack is None:
        return None
    for variable, value in _FAKE_CREDENTIALS.items():
        os.environ.setdefault(variable, value)
    os.environ.update(stack.environment())
    return stack
