"""What a network reports about its actions (conversions), as its statistics API gives them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class NetworkAction:
    action_id: str
    subid: str  # our click id
    status: str  # "pending" | "approved" | "approved_but_stalled" | "declined"
    order_id: str
    order_sum: Decimal
    payment_sum: Decimal | None  # the network's commission
    currency: str
    action_date: datetime  # when the order was placed (aware, UTC)
    status_updated: datetime  # the network's time of this state (aware, UTC)
    tariff_id: str | None = None
    comment: str = ""  # the network's decline comment


@dataclass(frozen=True)
class ActionsPage:
    actions: list[NetworkAction]
    next_offset: int | None  # None: the last page


class ActionStatistics(Protocol):
    def actions_updated(
        self, since: datetime, until: datetime, *, offset: int = 0, limit: int = 500
    ) -> ActionsPage: ...
