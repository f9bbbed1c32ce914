"""JSON from outside, read without trusting it: every failure is a `MalformedInput` with its own code.

The standard library alone would let a caller raise RecursionError (nesting ~1,000 deep), ValueError
(an integer over 4,300 digits) or hand back NaN and Infinity, which are not JSON. Bodies of this API
are a few levels deep, so anything deeper than MAX_DEPTH is refused before any model sees it.
"""

from __future__ import annotations

import json
from typing import Any

from cashback.platform.errors import MalformedInput

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 4300  # Python's own default limit (sys.int_info.default_max_str_digits), fixed here


class _NumberTooLong(Exception):
    pass


class _NotJson(Exception):
    pass


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _NumberTooLong
    return int(text)


def _constant(name: str) -> Any:
    raise _NotJson(name)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit`, walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(text: str | bytes) -> Any:
    """The JSON document in `text`, or MalformedInput: `malformed_json`, `json_too_deep` or `number_too_long`."""
    try:
        value = json.loads(text, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise MalformedInput(f"JSON nested more than {MAX_DEPTH} levels deep", code="json_too_deep") from None
    except _NumberTooLong:
        raise MalformedInput(f"a number has more than {MAX_INTEGER_DIGITS} digits", code="number_too_long") from None
    except (ValueError, UnicodeDecodeError, _NotJson):
        raise MalformedInput("the body is not valid JSON", code="malformed_json") from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise MalformedInput(f"JSON nested more than {MAX_DEPTH} levels deep", code="json_too_deep")
    return value
