"""Records the AWS calls each function makes, by wrapping botocore's one door to AWS
(`BaseClient._make_api_call`: boto3 clients, pynamodb and powertools all go through it).

A call counts for the function that `attribution.current_function` names at the time; calls made outside
any function (a test seeding or checking its tables) are not recorded. A call is recorded before it is
made: in AWS a call the policy does not allow fails whatever it would have answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.iam.attribution import current_function
from local.iam.calls import Need, needs
from local.iam.stack import Stack


@dataclass(frozen=True, order=True)
class Use:
    """`function` needed `need`; `seen_in` says where first (a test id), to find the call again."""

    function: str
    need: Need
    seen_in: str = field(default="", compare=False)


class CallRecorder:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._lock = threading.Lock()
        self._uses: dict[tuple[str, Need], Use] = {}
        self.problems: list[str] = []  # calls that could not be translated: the proof cannot vouch for them
        self.calls = 0
        self.where = ""  # what is running now, e.g. the test's node id; kept with each first use
        self._original: Callable[..., Any] | None = None

    # ------------------------------------------------------------------------------------ botocore

    def install(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            return
        original = BaseClient._make_api_call
        recorder = self

        def _make_api_call(client: Any, operation_name: str, api_params: Mapping[str, Any]) -> Any:
            function = current_function.get()
            if function is not None:
                recorder.record(function, client.meta.service_model.signing_name, operation_name, api_params)
            return original(client, operation_name, api_params)

        _make_api_call.__wrapped__ = original  # type: ignore[attr-defined]
        BaseClient._make_api_call = _make_api_call
        self._original = original

    def uninstall(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            BaseClient._make_api_call = self._original
            self._original = None

    # ------------------------------------------------------------------------------------- records

    def record(self, function: str, iam_prefix: str, operation: str, params: Mapping[str, Any]) -> None:
        try:
            found = needs(self.stack, iam_prefix, operation, params)
        except Exception as error:  # the test goes on; the proof reports it at the end
            with self._lock:
                self.problems.append(f"{function} {iam_prefix}:{operation} in {self.where}: {error!r}")
            return
        with self._lock:
            self.calls += 1
            for need in found:
                self._uses.setdefault((function, need), Use(function, need, self.where))

    def add(self, uses: Iterable[Use]) -> None:
        """Uses recorded elsewhere (another pytest-xdist worker)."""
        with self._lock:
            for use in uses:
                self._uses.setdefault((use.function, use.need), use)

    @property
    def uses(self) -> list[Use]:
        with self._lock:
            return sorted(self._uses.values())
