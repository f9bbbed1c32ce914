"""Official rates: the daily fetch from the Central Bank of Russia, and the rate that stands on a day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from cashback.rates.rules import Rate


class RateSource(Protocol):
    def daily_rates(self, day: date) -> Sequence[Rate]: ...


class RateStore(Protocol):
    def save(self, rate: Rate) -> None: ...

    def latest_on(self, currency: str, day: date) -> Rate | None: ...


@dataclass(frozen=True)
class Refreshed:
    day: str  # the day asked for
    stored: int  # rates stored (again, on a repeated run: the same items)


class RateService:
    def __init__(self, store: RateStore, *, source: RateSource | None = None) -> None:
        self._store = store
        self._source = source

    def rate_on(self, currency: str, day: date) -> Rate | None:
        """The official rate of `day`, or the latest before it within the look-back; None when there is none."""
        return self._store.latest_on(currency.upper(), day)

    def refresh(self, day: date) -> Refreshed:
        """Stores the rates the source publishes for `day`; idempotent, so a retried run changes nothing."""
        if self._source is None:
            raise RuntimeError("no rates source is configured")
        rates = self._source.daily_rates(day)
        for rate in rates:
            self._store.save(rate)
        return Refreshed(day.isoformat(), len(rates))
