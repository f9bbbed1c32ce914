"""A network's statistics of actions in memory, with the real API's paging by offset: what tests set as the
network's word, and a crash they can plant on a page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cashback.networks.actions import ActionsPage, NetworkAction


class StatisticsDown(Exception):
    """The network's API failed mid-run (or the function died while reading it)."""


@dataclass
class MemoryStatistics:
    actions: dict[str, NetworkAction] = field(default_factory=dict)
    page_size: int | None = None  # the network's own page size, whatever the caller asks for
    fail_once_at_offset: int | None = None
    pages_read: list[int] = field(default_factory=list)  # the offsets asked for, in order

    def report(self, *actions: NetworkAction) -> None:
        """The network adds or replaces these actions in its statistics."""
        for action in actions:
            self.actions[action.action_id] = action

    def actions_updated(self, since: datetime, until: datetime, *, offset: int = 0, limit: int = 500) -> ActionsPage:
        if self.fail_once_at_offset == offset:
            self.fail_once_at_offset = None
            raise StatisticsDown(f"the statistics API failed at offset {offset}")
        self.pages_read.append(offset)
        limit = self.page_size or limit
        updated = sorted(
            (a for a in self.actions.values() if since <= a.status_updated < until),
            key=lambda a: (a.status_updated, a.action_id),
        )
        page = updated[offset : offset + limit]
        more = offset + limit < len(updated)
        return ActionsPage(actions=page, next_offset=offset + limit if more else None)
