"""DynamoDB plumbing: pynamodb models bound to their tables when a repository is built (imports stay
cheap and each composition root chooses its tables), and strongly consistent batch reads."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from typing import Any

from pynamodb.connection import Connection
from pynamodb.models import Model


def bind(models: Iterable[type[Model]], table_name: str) -> None:
    """Points `models` at `table_name`. A model's cached TableConnection is dropped too: it names the table
    and the endpoint of the last repository built, and a new composition root may point elsewhere."""
    for model in models:
        model.Meta.table_name = table_name
        model._connection = None


BATCH_GET_LIMIT = 100  # keys per BatchGetItem call


def batch_get(connection: Connection, table_name: str, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The items (raw, for `Model.from_raw_data`) of `(pk, sk)` keys, read strongly consistent with as few
    BatchGetItem calls as DynamoDB allows; keys it leaves unprocessed are asked for again, with back-off.
    Items that do not exist are simply absent."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        chunk = keys[start : start + BATCH_GET_LIMIT]
        wanted: list[dict[str, Any]] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in chunk]
        for attempt in range(10):
            response = connection.dispatch(
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
