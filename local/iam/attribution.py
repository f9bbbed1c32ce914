"""Which function's code is running, in a process that hosts them all.

Set where a function is invoked in-process (the local gateway's function host, the in-process settlement
queue, the tests' handler fixtures) and read by whoever attributes AWS calls to functions. A context
variable, so that each gateway thread and each nested delivery sees its own function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType
from typing import Any, TypeVar

current_function: ContextVar[str | None] = ContextVar("current_function", default=None)

Handler = TypeVar("Handler", bound=Callable[..., Any])


@contextmanager
def running_as(function_id: str) -> Iterator[None]:
    """Code run inside is `function_id`'s (a template logical id, e.g. "SettlementWorkerFunction")."""
    token = current_function.set(function_id)
    try:
        yield
    finally:
        current_function.reset(token)


def attributed(handler: Handler, function_id: str) -> Handler:
    """`handler`, running as `function_id` whoever calls it; wrapping twice for one function is a no-op."""
    if getattr(handler, "__function_id__", None) == function_id:
        return handler

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        with running_as(function_id):
            return handler(*args, **kwargs)

    run.__function_id__ = function_id  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


@functools.cache
def _functions_by_code_uri() -> dict[str, tuple[str, str]]:
    from local.template import functions, load_template

    return {spec.code_uri: (spec.logical_id, spec.handler) for spec in functions(load_template()).values()}


def attributed_module(module: ModuleType, code_uri: str) -> ModuleType:
    """`module` (loaded from `code_uri`, e.g. "functions/settlement_worker") with its handler running as the
    function the template builds from that directory ("SettlementWorkerFunction"), whoever calls it."""
    function_id, handler = _functions_by_code_uri()[code_uri]
    attribute = handler.rsplit(".", 1)[-1]
    setattr(module, attribute, attributed(getattr(module, attribute), function_id))
    return module
