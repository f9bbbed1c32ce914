"""Times in request bodies: ISO 8601 with an offset (API.md), and one that names an instant.

`9999-12-31T23:00:00-05:00` parses, but has no UTC equivalent inside datetime's range: converting or
comparing it would raise OverflowError deep in a rule. Such a time is refused with the body's other
invalid fields (422) instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def _has_an_instant(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the range of times once in UTC") from None
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_has_an_instant)]
