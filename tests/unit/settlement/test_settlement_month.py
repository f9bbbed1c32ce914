"""Which month can be settled: only the one that has just ended in Moscow, at any instant, however asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cashback.platform.errors import InvalidInput
from cashback.settlement.rules import check_month

# Moscow has kept UTC+3 all year since 2014: the oracle below does not ask the rule's time zone database.
MOSCOW_OFFSET = timedelta(hours=3)


def month_of(year: int, month: int) -> str:
    year, month = divmod(year * 12 + month - 1, 12)
    return f"{year:04d}-{month + 1:02d}"


def moscow_midnight_on_the_first(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC) - MOSCOW_OFFSET


near_a_month_boundary = st.builds(
    lambda year, month, seconds: moscow_midnight_on_the_first(year, month) + timedelta(seconds=seconds),
    st.integers(2015, 2100),
    st.integers(1, 12),
    st.integers(-2 * 86_400, 2 * 86_400),
)


@given(now=near_a_month_boundary, asked=st.integers(-24, 24))
@example(now=moscow_midnight_on_the_first(2026, 11), asked=-1)  # 00:00 on the 1st: October has just ended
@example(now=moscow_midnight_on_the_first(2026, 11) - timedelta(microseconds=1), asked=-1)  # 23:59:59.999999
@example(now=moscow_midnight_on_the_first(2027, 1), asked=-1)  # across a year
def test_only_the_moscow_month_that_has_just_ended_is_accepted(now: datetime, asked: int) -> None:
    moscow = (now + MOSCOW_OFFSET).replace(tzinfo=None)
    just_ended = month_of(moscow.year, moscow.month - 1)
    month = month_of(moscow.year, moscow.month + asked)  # -1 is the month that has just ended

    assert check_month("auto", now) == just_ended
    if month == just_ended:
        assert check_month(month, now) == month
    else:
        with pytest.raises(InvalidInput) as refused:
            check_month(month, now)
        assert refused.value.code == "invalid_month"


@pytest.mark.parametrize("month", ["1999-01", "2026-09", "2026-11", "2026-12", "2025-10", "0000-10", "2026-1"])
def test_in_november_only_october_can_be_settled(month: str) -> None:
    now = datetime(2026, 11, 15, 12, tzinfo=UTC)
    assert check_month("2026-10", now) == "2026-10"
    with pytest.raises(InvalidInput):
        check_month(month, now)
