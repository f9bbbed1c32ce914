"""The Central Bank of Russia's daily rates over HTTP, with the standard library."""

from __future__ import annotations

import urllib.request
from datetime import date

from cashback.rates.rules import Rate, parse_cbr_daily

CBR_DAILY_URL = "https://www.cbr.ru/scripts/XML_daily.asp?date_req={day}"
TIMEOUT_SECONDS = 15.0


class CbrDailyRates:
    def __init__(self, url: str = CBR_DAILY_URL) -> None:
        self._url = url

    def daily_rates(self, day: date) -> list[Rate]:
        url = self._url.format(day=day.strftime("%d/%m/%Y"))
        # A failure raises: the invocation fails and the scheduler's or Lambda's retry fetches again.
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (a fixed https URL)
            return parse_cbr_daily(answer.read())
