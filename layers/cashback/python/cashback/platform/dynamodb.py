"""Binds pynamodb models to their table names lazily, so that imports stay cheap and tests choose tables."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

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


BATCH_GET_LIMIT = 100  # keys per BatchGetItem call


def batch_get(table_name: str, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The items (raw, for `Model.from_raw_data`) of `(pk, sk)` keys, read strongly consistent with as few
    BatchGetItem calls as DynamoDB allows; keys it leaves unprocessed are asked for again, with back-off.
    Items that do not exist are simply absent."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        chunk = keys[start : start + BATCH_GET_LIMIT]
        wanted: list[dict[str, Any]] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in chunk]
        for attempt in range(10):
            response = connection().dispatch(
                "BatchGetItem", {"RequestItems": {table_name: {"Keys": wanted, "ConsistentRead": True}}}
            )
            found += response.get("Responses", {}).get(table_name, [])
            wanted = response.get("UnprocessedKeys", {}).get(table_name, {}).get("Keys", [])
            if not wanted:
                break
            time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))  # not money
        else:
            raise RuntimeError(f"DynamoDB left {len(wanted)} keys of {table_name} unprocessed ten times")
    return found
