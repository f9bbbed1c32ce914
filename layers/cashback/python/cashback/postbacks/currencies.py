"""A postback in another currency, priced in roubles at the official rate of the order's (Moscow) day.

PRODUCT.md: never read as roubles. The converted postback carries the original amount, currency and rate
in its raw fields, which are kept with the delivery (and with the orphan if support must match it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cashback.ledger.calendar import MOSCOW
from cashback.postbacks.rules import Postback
from cashback.rates.rules import ROUBLE, Rate, to_roubles


def order_day(postback: Postback) -> date:
    return postback.occurred_at.astimezone(MOSCOW).date()


def in_roubles(postback: Postback, rate: Rate) -> Postback:
    kept = {
        "original_amount": str(postback.amount),
        "original_currency": postback.currency,
        "rate": str(rate.roubles_per_unit),
        "rate_day": rate.day.isoformat(),
        **({"original_commission": str(postback.commission)} if postback.commission is not None else {}),
    }
    return replace(
        postback,
        amount=to_roubles(postback.amount, rate),
        commission=to_roubles(postback.commission, rate) if postback.commission is not None else None,
        currency=ROUBLE,
        raw={**postback.raw, **kept},
    )
