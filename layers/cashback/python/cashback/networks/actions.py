"""What a partner network reports about an action (a conversion), and how its statistics are read.

Pure: the reconciliation codes against `ActionStatistics`; `admitad_api.AdmitadApi` is one over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

STATUSES = ("pending", "approved", "approved_but_stalled", "declined")


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
    def actions_updated(self, since: datetime, until: datetime, *, offset: int = 0, limit: int = 500) -> ActionsPage:
        """One page, from `offset`, of the actions whose status was updated in [since, until): a window
        closed at `until` in the past pages stably, since a later change moves an action out of it."""
        ...


# --- lost orders: an order the network never tracked, filed with it by support --------------------------

LOST_ORDER_STATUSES = ("processing", "accepted", "rejected")


@dataclass(frozen=True)
class LostOrder:
    """What the network needs to look for an order it did not track (Admitad's `lost_orders/create/`)."""

    campaign_id: str  # the network's id of the partner's programme
    order_id: str
    order_date: date
    order_price: Decimal  # roubles
    estimated_reward: Decimal  # the commission the programme expects, roubles
    subid: str  # our click id, so that an accepted order arrives as the member's conversion
    comment: str
    receipt: bytes  # the member's receipt, image or PDF
    receipt_type: str  # its media type


@dataclass(frozen=True)
class LostOrderAnswer:
    ticket_id: str
    status: str  # "processing" | "accepted" | "rejected"
    reason: str = ""  # the network's words on a rejection


class LostOrders(Protocol):
    def file_lost_order(self, order: LostOrder) -> str:
        """Files the order with the network and answers the network's id of the filing (its ticket)."""

    def lost_order(self, ticket_id: str) -> LostOrderAnswer:
        """Where the network is with a filed order."""

    def find_lost_order(self, campaign_id: str, order_id: str, order_date: date) -> str | None:
        """The ticket of the order if it was filed before (its answer lost), else None."""
