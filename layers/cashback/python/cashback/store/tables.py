"""Binds pynamodb models to their table names lazily, so that imports stay cheap and tests choose tables."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.models import Model


def bind(models: Iterable[type[Model]], table_name: str) -> None:
    for model in models:
        if model.Meta.table_name != table_name:
            model.Meta.table_name = table_name
            model._connection = None  # the cached TableConnection still names the old table


@lru_cache(maxsize=1)
def connection() -> Connection:
    """One botocore-backed connection for transactions across tables; region and endpoint from the env."""
    return Connection()
