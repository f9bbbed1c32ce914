"""The rates table: `RATE#<currency>` / `<yyyy-mm-dd>`, one item per currency and day the CBR set a rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from cashback.platform import dynamodb as tables
from cashback.rates.rules import Rate, earliest_day


class RateModel(Model):
    class Meta:
        table_name = "unbound-rates"

    pk = UnicodeAttribute(hash_key=True)  # RATE#<currency>
    sk = UnicodeAttribute(range_key=True)  # the day, ISO: sorts as the calendar does
    roubles_per_unit = UnicodeAttribute()  # a decimal string: never a float on its way through DynamoDB


def _pk(currency: str) -> str:
    return f"RATE#{currency}"


class RatesRepository:
    def __init__(self, table_name: str) -> None:
        tables.bind((RateModel,), table_name)

    def save(self, rate: Rate) -> None:
        # An unconditional put: storing a day again writes the same item (a corrected rate replaces it).
        RateModel(_pk(rate.currency), rate.day.isoformat(), roubles_per_unit=str(rate.roubles_per_unit)).save()

    def latest_on(self, currency: str, day: date) -> Rate | None:
        """The rate of `day`, or the latest set in the look-back before it: one Query, newest first."""
        found = RateModel.query(
            _pk(currency),
            RateModel.sk.between(earliest_day(day).isoformat(), day.isoformat()),
            scan_index_forward=False,
            limit=1,
        )
        for item in found:
            return Rate(currency, date.fromisoformat(item.sk), Decimal(item.roubles_per_unit))
        return None
