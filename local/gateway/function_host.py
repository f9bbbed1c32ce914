"""The functions run in-process, as Lambda would run them: each handler imported from its CodeUri with the
layer on the path and the function's environment set, and called with a stand-in for Lambda's context.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.gateway.account import ACCOUNT_ID, region
from local.handlers import load_function_module
from local.iam.attribution import running_as
from local.secrets import local_secrets
from local.template import FunctionSpec, function_environment, functions

LambdaHandler = Callable[[dict[str, Any], Any], Any]

LAYER_PATH = Path("layers") / "cashback" / "python"
SERVICE_NAME = "cashback-local"


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = f"arn:aws:lambda:{region()}:{ACCOUNT_ID}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionHost:
    """Loads each function's handler once, on first use, and runs one invocation per function at a time.

    One at a time, as in one Lambda execution environment: handlers keep per-invocation state in module
    globals (powertools resolvers do), which concurrent threads would mix up.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        table_names: Mapping[str, str],
        repo_root: Path,
        overrides: Mapping[str, LambdaHandler] | None = None,
    ) -> None:
        self._specs = functions(template)
        self._repo_root = repo_root
        self._overrides: dict[str, LambdaHandler] = dict(overrides or {})
        self._handlers: dict[str, LambdaHandler] = dict(self._overrides)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.environment, self._table_variables = self._environment(template, table_names)
        self._own_environments = {
            logical_id: function_environment(template, logical_id, table_names) for logical_id in self._specs
        }
        self._saved_environment: dict[str, str | None] | None = None

    def _environment(self, template: Mapping[str, Any], names: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
        merged: dict[str, str] = {}
        for logical_id in self._specs:
            for variable, value in function_environment(template, logical_id, names).items():
                if merged.get(variable, value) != value and variable != "POWERTOOLS_SERVICE_NAME":
                    print(f"local gateway: {variable} differs between functions; using {value!r}", file=sys.stderr)
                merged[variable] = value
        merged["POWERTOOLS_SERVICE_NAME"] = SERVICE_NAME  # one process hosts every function
        merged.setdefault("AWS_LAMBDA_FUNCTION_NAME", SERVICE_NAME)
        table_variables = {variable for variable, value in merged.items() if value in set(names.values())}
        return merged, table_variables

    def apply_environment(self) -> None:
        """Set the functions' variables and the layer's path before any handler is imported.

        Table names always win: they must match the tables this gateway serves. Other variables that the
        process already has (a test's log level, say) are kept.
        """
        if self._saved_environment is not None:
            return
        layer = str(self._repo_root / LAYER_PATH)  # what Lambda mounts under /opt/python
        if layer not in sys.path:
            sys.path.insert(0, layer)
        saved: dict[str, str | None] = {}
        for variable, value in self.environment.items():
            if variable in self._table_variables or variable not in os.environ:
                saved[variable] = os.environ.get(variable)
                os.environ[variable] = value
        for variable, value in local_secrets().items():
            if variable not in os.environ:
                saved[variable] = None
                os.environ[variable] = value
        self._saved_environment = saved

    def restore_environment(self) -> None:
        saved, self._saved_environment = self._saved_environment, None
        for variable, value in (saved or {}).items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value

    def _lock(self, function_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(function_id, threading.Lock())

    def _handler(self, function_id: str) -> LambdaHandler:
        handler = self._handlers.get(function_id)
        if handler is None:
            handler = self._import(self._specs[function_id])
            self._handlers[function_id] = handler
        return handler

    def cold_start(self) -> None:
        """Every function's next invocation starts in a new execution environment: its wiring, and whatever
        its container keeps warm (a cached catalog, partners, keys), are built again."""
        with self._guard:
            self._handlers = dict(self._overrides)

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """What one function sees, as in its own Lambda: the process's variables (credentials, endpoint, a
        test's settings) without the ones the template gives only to other functions, and its own, where
        its table names always win."""
        own = self._own_environments[logical_id]
        visible = {k: v for k, v in os.environ.items() if k in own or k not in self.environment}
        return {**visible, **{k: v for k, v in own.items() if k in self._table_variables or k not in visible}}

    def _import(self, spec: FunctionSpec) -> LambdaHandler:
        module_path, _, attribute = spec.handler.rpartition(".")
        module = load_function_module(self._repo_root / spec.code_uri, module_path)
        if hasattr(module, "container"):  # the handler's own wiring, rebuilt from its own environment
            from local.wiring import local_container

            module.container = local_container(self.function_environment(spec.logical_id))  # type: ignore[attr-defined]
        handler: LambdaHandler = getattr(module, attribute)
        return handler

    def _context(self, function_id: str) -> LambdaContext:
        spec = self._specs.get(function_id)
        # A test's handler for a function the template lacks gets Lambda's defaults.
        return LambdaContext(function_id, spec.memory_size if spec else 128, spec.timeout if spec else 3)

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        with self._lock(function_id), running_as(function_id):  # its AWS calls are this function's
            handler = self._handler(function_id)
            return handler(event, self._context(function_id))
