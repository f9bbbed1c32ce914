"""One fresh interpreter of the cold-start figure (bench/cold_start.py starts it with its input as JSON on
stdin, read before any clock starts; its figures are the stdout line that starts with RESULT):

- `python -m bench.cold_probe handler`, run in a function's directory with that function's environment:
  times `import app`, then swaps in the local wiring (untimed: production does not pay for it), then times
  one `app.lambda_handler(event, context)`, and records every AWS call the request made (operation,
  parameters, outcome).
- `python -m bench.cold_probe baseline`: the bare botocore handler. Times importing botocore, creating a
  DynamoDB client and sending the given calls with it.

Nothing here imports what a handler could need before its clock starts (typing included), and botocore is
never imported here either: the calls are recorded by a wrapper installed when botocore.client is first
imported, wherever that happens, so that its import is charged to whichever step pays for it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time

TYPE_CHECKING = False  # not typing's: importing typing here would take its import off the handler's figure
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

RESULT = "cold-probe: "


class Context:
    """The attributes of Lambda's context that powertools reads."""

    function_name = os.environ.get("POWERTOOLS_SERVICE_NAME", "cold-start")
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:eu-central-1:000000000000:function:{function_name}"
    aws_request_id = "cold-start"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


class RecordCalls:
    """A meta path finder that wraps `BaseClient._make_api_call` once botocore.client is imported."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name != "botocore.client":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        assert spec is not None
        assert spec.loader is not None
        load = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            self._wrap(module.BaseClient)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec

    def _wrap(self, client_class: Any) -> None:
        original = client_class._make_api_call
        calls = self.calls

        def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
            # Serialised now, in case the caller changes the dict afterwards: a few microseconds a call.
            call = {"service": client.meta.service_model.service_name, "operation": operation}
            call["params"] = json.dumps(params)
            calls.append(call)
            try:
                response = original(client, operation, params)
            except Exception as error:
                call["outcome"] = _outcome(error)
                raise
            call["outcome"] = "ok"
            return response

        client_class._make_api_call = recorded


def _outcome(error: Exception) -> str:
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code or type(error).__name__)


def handler(event: dict[str, Any]) -> dict[str, Any]:
    recorder = RecordCalls()
    sys.meta_path.insert(0, recorder)
    started = time.perf_counter()
    app = importlib.import_module("app")
    imported = time.perf_counter()
    before = set(sys.modules)
    from local.wiring import local_container

    app.container = local_container(os.environ)  # type: ignore[attr-defined]
    # What the swap imported that the request might have needed: its cost is in neither figure.
    swap_imported = sorted(m for m in set(sys.modules) - before if m.split(".")[0] != "local")
    context = Context()
    requested = time.perf_counter()
    response = app.lambda_handler(event, context)
    answered = time.perf_counter()
    for call in recorder.calls:
        call["params"] = json.loads(call["params"])
    return {
        "import": imported - started,
        "request": answered - requested,
        "calls": recorder.calls,
        "response": response,
        "swap_imported": swap_imported,
    }


def baseline(calls: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = []
    started = time.perf_counter()
    import botocore.session
    from botocore import xform_name
    from botocore.exceptions import ClientError

    client = botocore.session.get_session().create_client("dynamodb")
    for call in calls:
        try:
            getattr(client, xform_name(call["operation"]))(**call["params"])
        except ClientError as error:
            outcomes.append(_outcome(error))
            continue
        outcomes.append("ok")
    finished = time.perf_counter()
    return {"total": finished - started, "outcomes": outcomes}


if __name__ == "__main__":
    given = json.load(sys.stdin)
    result = handler(given) if sys.argv[1] == "handler" else baseline(given)
    print(RESULT + json.dumps(result, default=str), flush=True)
