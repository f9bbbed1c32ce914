"""Going to a store: the redirect that records a click and sends the member on to the partner.

The hot path. The link token is checked without a read (it is signed), the partner comes from a
warm-container cache that forgets it after `CATALOG_CACHE_SECONDS` (one GetItem on a miss), and the
click is one PutItem: a warm redirect makes exactly one DynamoDB call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from ulid import ULID

from cashback.catalog.rules import Partner, PartnerNotFound, is_partner_id
from cashback.clicks.repository import ClickRepository, click_from_item
from cashback.clicks.rules import MAX_USER_AGENT, Click, ClickSeen, LinkRefused, new_click_id, verify_link
from cashback.ledger.plans import ItemKey, RawItem

# Partners looked up by this container, found or not; cleared whole when it grows past this.
MAX_CACHED_PARTNERS = 4096


@dataclass(frozen=True)
class _Cached:
    partner: Partner | None
    loaded_at: float  # not money: time.monotonic()


class ClickService:
    def __init__(
        self,
        clicks: ClickRepository,
        read_partner: Callable[[str], Partner | None],
        *,
        link_signing_key: Callable[[], bytes],
        cache_seconds: int = 60,
        sign_in_url: str,
    ) -> None:
        self._clicks = clicks
        self._read_partner = read_partner
        self._link_signing_key = link_signing_key
        self._cache_seconds = cache_seconds
        self._sign_in_url = sign_in_url
        # Partners looked up by this container, found or not.
        self._partners: dict[str, _Cached] = {}

    def forget_cached_partners(self) -> None:
        self._partners.clear()

    def _active_partner(self, partner_id: str) -> Partner:
        if not is_partner_id(partner_id):
            raise PartnerNotFound(partner_id)
        now = time.monotonic()
        cached = self._partners.get(partner_id)
        if cached is None or now - cached.loaded_at >= self._cache_seconds:
            if len(self._partners) >= MAX_CACHED_PARTNERS:
                self._partners.clear()
            cached = self._partners[partner_id] = _Cached(self._read_partner(partner_id), now)
        if cached.partner is None or not cached.partner.active:
            raise PartnerNotFound(partner_id)
        return cached.partner

    def record_click(
        self, member_id: str, partner_id: str, *, user_agent: str = "", now: datetime | None = None
    ) -> Redirect:
        """Records a click at the terms in force now, and gives the partner's tracking link that carries it."""
        partner = self._active_partner(partner_id)
        now = now or datetime.now(UTC)
        click = Click(
            click_id=new_click_id(str(ULID()), member_id),
            member_id=member_id,
            partner_id=partner_id,
            rate_percent=partner.rate_in_force(now),
            network=partner.network.value,
            accrual_days=partner.accrual_days,
            clicked_at=now,
            user_agent=user_agent[:MAX_USER_AGENT],
            goods_rates=partner.tariff_rates(),
            commission_share_percent=partner.commission_share_percent,
        )
        self._clicks.record(click)
        return Redirect(partner.tracking_url_for(click.click_id), click)

    def follow_link(
        self, partner_id: str, token: str | None, *, user_agent: str = "", now: datetime | None = None
    ) -> Redirect:
        """`GET /go/<partner>?t=<token>`: a click for the token's member, or sign-in if the token is refused."""
        self._active_partner(partner_id)  # an unknown partner is a 404 whoever asks: signing in would not help
        now = now or datetime.now(UTC)
        try:
            member_id = verify_link(token, partner_id, now, self._link_signing_key())
        except LinkRefused as refused:
            return Redirect(self.sign_in_location(partner_id), refused=refused.reason)
        return self.record_click(member_id, partner_id, user_agent=user_agent, now=now)

    def sign_in_location(self, partner_id: str) -> str:
        """The sign-in page, told to come back to the store's link once the member has signed in."""
        sign_in = self._sign_in_url
        separator = "&" if "?" in sign_in else "?"
        return f"{sign_in}{separator}{urlencode({'return_to': f'/go/{partner_id}'})}"

    def record(self, click: Click) -> None:
        """Keeps a click made elsewhere: support giving a lost order's click to the member who claimed it."""
        self._clicks.record(click)

    def find_click(self, click_id: str) -> Click | None:
        """The click a postback names, with the rate frozen when the member clicked; None if it is unknown."""
        return self._clicks.find(click_id)

    def member_clicks(self, member_id: str, since: datetime, until: datetime) -> list[ClickSeen]:
        return self._clicks.member_clicks(member_id, since, until)

    def click_key(self, click_id: str) -> ItemKey:
        """Where the click is, for a postback that reads it together with the member's account."""
        return self._clicks.key(click_id)

    @staticmethod
    def click_of(item: RawItem | None) -> Click | None:
        return click_from_item(item) if item else None


@dataclass(frozen=True)
class Redirect:
    """Where the browser goes: the partner's tracking link with the click, or sign-in when the link was refused."""

    location: str
    click: Click | None = None
    refused: str | None = None  # why the link was refused: missing, malformed, forged, other_partner, expired
