"""EventBridge as the functions' rules meet it: which rules an event matches, what each rule's target
receives, and the events that PutEvents and schedules deliver.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from local.gateway.account import ACCOUNT_ID, region
from local.template import EventRule


def _same(expected: Any, actual: Any) -> bool:
    # JSON values: "1" is not 1, and true is not 1.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, str) != isinstance(actual, str):
        return False
    return bool(expected == actual)


def _filter_matches(rule: Mapping[str, Any], value: Any) -> bool:
    # Only the content filter that template.yaml's rules and the tests use; any other is refused, not misread.
    ((operator, argument),) = rule.items()
    if operator == "prefix" and isinstance(argument, str):
        return isinstance(value, str) and value.startswith(argument)
    raise ValueError(f"unsupported event pattern filter {dict(rule)!r}")


def _leaf_matches(rules: Sequence[Any], present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            if bool(rule["exists"]) == (present and value is not None):
                return True
        elif not present:
            continue
        elif isinstance(rule, dict):
            if any(_filter_matches(rule, v) for v in values):
                return True
        elif any(_same(rule, v) for v in values):
            return True
    return False


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge pattern matching: value lists, nested objects, and the `exists` and `prefix` filters."""
    for key, expected in pattern.items():
        if key == "$or":  # refused rather than taken for a field that no event has
            raise ValueError("unsupported event pattern operator '$or'")
        present, value = key in event, event.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not pattern_matches(expected, value):
                return False
        elif not isinstance(expected, list) or not _leaf_matches(expected, present, value):
            return False
    return True


def target_input(rule: EventRule, event: dict[str, Any]) -> Any:
    """What the rule's target receives: the event, its fixed Input, or the part InputPath selects."""
    if rule.input is not None:
        return json.loads(rule.input)
    if rule.input_path:
        selected: Any = event
        for part in rule.input_path.removeprefix("$").strip(".").split("."):
            if part:
                selected = selected.get(part) if isinstance(selected, dict) else None
        return selected
    return event


def _bus_time() -> str:
    return f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"


def custom_event(source: str, detail_type: str, detail: dict[str, Any], resources: list[Any]) -> dict[str, Any]:
    """The event EventBridge delivers for one PutEvents entry."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT_ID,
        "time": _bus_time(),
        "region": region(),
        "resources": resources,
        "detail": detail,
    }


def scheduled_event(rule: EventRule) -> dict[str, Any]:
    """The event a Schedule or ScheduleV2 delivers when the rule has no fixed Input."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events" if rule.event_type == "Schedule" else "aws.scheduler",
        "account": ACCOUNT_ID,
        "time": _bus_time(),
        "region": region(),
        "resources": [f"arn:aws:events:{region()}:{ACCOUNT_ID}:rule/{rule.function_logical_id}{rule.event_id}"],
        "detail": {},
    }
