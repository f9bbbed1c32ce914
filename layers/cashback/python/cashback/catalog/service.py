"""The catalog as members browse it and as the back office keeps it.

Members read a snapshot of the active catalog that a warm container keeps for `CATALOG_CACHE_SECONDS`
(60 s): filtering by category, searching names and paging happen in memory, so a listing costs no
database call at all most of the time, and a few Queries (one per category) once a minute otherwise.
A change by the back office therefore shows within that time. Rates in force are worked out at the
moment of each request, so a promotion starts and ends on time even inside a cached snapshot.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

from ulid import ULID

from cashback.catalog.repository import CatalogRepository
from cashback.catalog.rules import (
    Category,
    Offer,
    Partner,
    PartnerNotFound,
    Promotion,
    is_partner_id,
    search_key,
    sort_key,
)
from cashback.clicks.rules import sign_link
from cashback.platform.pagination import Page, check_limit, decode_cursor, encode_cursor

_CURSOR_FIELDS = ("name", "id")


@dataclass(frozen=True)
class _Snapshot:
    partners: tuple[Partner, ...]  # in listing order
    keys: tuple[tuple[str, str], ...]  # their sort keys, for bisecting to a cursor
    by_id: dict[str, Partner]
    loaded_at: float  # not money: time.monotonic()


class CatalogService:
    """Members' reads come from a snapshot this container keeps for `cache_seconds`; see the module's doc."""

    def __init__(
        self,
        catalog: CatalogRepository,
        *,
        link_signing_key: Callable[[], bytes],
        cache_seconds: int = 60,
        public_base_url: str = "",
    ) -> None:
        self._catalog = catalog
        self._link_signing_key = link_signing_key
        self._cache_seconds = cache_seconds
        self._public_base_url = public_base_url
        self._snapshot: _Snapshot | None = None

    def forget_cached_catalog(self) -> None:
        """Drops the warm container's snapshot: the next request reads the catalog again."""
        self._snapshot = None

    def _active_catalog(self) -> _Snapshot:
        now = time.monotonic()
        if self._snapshot is None or now - self._snapshot.loaded_at >= self._cache_seconds:
            partners = tuple(sorted(self._catalog.active(), key=sort_key))
            self._snapshot = _Snapshot(
                partners, tuple(sort_key(p) for p in partners), {p.partner_id: p for p in partners}, now
            )
        return self._snapshot

    @staticmethod
    def categories() -> list[Category]:
        return list(Category)

    def listing(
        self,
        category: Category | None,
        q: str | None,
        limit: int | None,
        cursor: str | None,
        *,
        now: datetime | None = None,
    ) -> Page[Offer]:
        """Active partners in name order, optionally of one category and matching a search, one page at a time."""
        limit = check_limit(limit)
        position = decode_cursor(cursor, _CURSOR_FIELDS)
        snapshot = self._active_catalog()
        start = bisect.bisect_right(snapshot.keys, (position["name"], position["id"])) if position else 0
        query = search_key(q) if q else ""
        now = now or datetime.now(UTC)

        found: list[Partner] = []
        more = False
        for partner in snapshot.partners[start:]:
            if category is not None and partner.category != category:
                continue
            if query and not partner.matches(query):
                continue
            if len(found) == limit:
                more = True
                break
            found.append(partner)
        next_cursor = None
        if more:
            name, partner_id = sort_key(found[-1])
            next_cursor = encode_cursor({"name": name, "id": partner_id})
        return Page([Offer.at(p, now) for p in found], next_cursor)

    def offer(self, partner_id: str, *, now: datetime | None = None) -> Offer:
        """One active partner, with its full conditions."""
        partner = self._active_catalog().by_id.get(partner_id)
        if partner is None:
            raise PartnerNotFound(partner_id)
        return Offer.at(partner, now or datetime.now(UTC))

    def partner(self, partner_id: str) -> Partner | None:
        """Any partner, active or not, read now (support's claims refer to partners that may have left)."""
        return self._catalog.get(partner_id) if is_partner_id(partner_id) else None

    def go_urls(
        self, member_id: str, partner_ids: Sequence[str], origin: str, *, now: datetime | None = None
    ) -> dict[str, str]:
        """The member's signed "Go to store" links: `<base>/go/<partner>?t=<link token>`.

        The base is the configured public address, else `origin`: where the member reached the API.
        """
        key = self._link_signing_key()
        now = now or datetime.now(UTC)
        base = (self._public_base_url or origin).rstrip("/")
        return {
            partner_id: f"{base}/go/{partner_id}?t={quote(sign_link(member_id, partner_id, now, key), safe='')}"
            for partner_id in partner_ids
        }

    def put_partner(self, partner: Partner, *, actor: str, now: datetime | None = None) -> tuple[Partner, bool]:
        """Creates or replaces a partner; its promotions are kept. Returns the partner and whether it is new."""
        return self._catalog.change(
            partner.partner_id,
            lambda current: current.replaced_by(partner) if current else partner,
            actor=actor,
            at=now or datetime.now(UTC),
        )

    def add_promotion(
        self,
        partner_id: str,
        rate_percent: Decimal,
        starts_at: datetime,
        ends_at: datetime,
        *,
        actor: str,
        now: datetime | None = None,
    ) -> Promotion:
        now = now or datetime.now(UTC)
        promotion = Promotion(str(ULID()), rate_percent, starts_at, ends_at)

        if not is_partner_id(partner_id):
            raise PartnerNotFound(partner_id)

        def add(current: Partner | None) -> Partner:
            if current is None:
                raise PartnerNotFound(partner_id)
            return current.with_promotion(promotion, now)

        self._catalog.change(partner_id, add, actor=actor, at=now)
        return promotion


# --- members ----------------------------------------------------------------------------------------------


# --- the back office --------------------------------------------------------------------------------------
