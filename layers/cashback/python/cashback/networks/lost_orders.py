"""Lost orders: support files a member's claim with the network (the order, its date and price, the
reward expected, the member's click and receipt), and the claim then follows the network's answer.

Filing is not idempotent at the network (asked twice, it files twice), so the claim is held by a lease
while the network is asked, and closed as `filed` with the network's ticket. Answers are polled by a
schedule: accepted, the order's conversion arrives through the normal path (postback or reconciliation)
and the claim is closed as accepted; rejected, the claim is declined with the network's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cashback.catalog.service import CatalogService
from cashback.claims.rules import Claim
from cashback.claims.service import ClaimService
from cashback.networks.actions import LostOrders
from cashback.networks.admitad_api import AdmitadApiError
from cashback.networks.lost_order_rules import ACCEPTED_REASON, check_filable, lost_order, rejection_reason
from cashback.platform.errors import InvalidInput, NotFound, UpstreamUnavailable


@dataclass(frozen=True)
class Followed:
    """One pass over the claims awaiting a network's answer."""

    accepted: int = 0
    rejected: int = 0
    waiting: int = 0  # the network is still looking
    reopened: int = 0  # the network has no such filing (any more): back in support's queue
    unanswered: int = 0  # the network could not be asked; asked again on the next pass


class LostOrderService:
    def __init__(self, claims: ClaimService, catalog: CatalogService, network: Callable[[str], LostOrders]) -> None:
        self._claims = claims
        self._catalog = catalog
        self._network = network

    def file(self, claim_id: str, reason: str, *, actor: str, now: datetime | None = None) -> Claim:
        """Files the claim with its partner's network; support's reason is the comment the network reads."""
        now = now or datetime.now(UTC)
        if not reason.strip():
            raise InvalidInput("a filing needs a reason", code="reason_required")
        claim = self._claims.take_for_filing(claim_id, now)
        try:
            ticket = self._file(claim, reason.strip())
        except BaseException:
            self._claims.release_filing(claim_id)  # nothing was filed: support may try again
            raise
        return self._claims.filed(claim_id, ticket, actor=actor, now=now)

    def _file(self, claim: Claim, comment: str) -> str:
        partner = self._catalog.partner(claim.partner_id)
        if partner is None:
            raise NotFound(f"there is no partner {claim.partner_id}", code="partner_not_found")
        campaign_id = check_filable(partner)
        receipt = self._claims.receipt_of(claim)
        if receipt is None:
            raise InvalidInput("the network needs the member's receipt to look for an order", code="receipt_required")
        click = self._claims.claim_click(claim)
        order = lost_order(claim, campaign_id, click, comment, receipt.content, receipt.media_type)
        network = self._network(partner.network.value)
        try:
            # A filing whose answer was lost (a timeout, a 5xx) may have been filed: it is not filed again.
            filed_before = network.find_lost_order(campaign_id, claim.order_id, claim.order_date)
            return filed_before or network.file_lost_order(order)
        except AdmitadApiError as error:
            if error.status in (400, 404, 409, 422):
                raise InvalidInput(f"the network refused the lost order: {error}", code="network_refused") from error
            raise UpstreamUnavailable(f"the network could not file the lost order: {error}") from error

    def follow(self, now: datetime | None = None) -> Followed:
        """Asks the network about every filed claim; a claim it could not be asked about waits for the next
        pass, and the pass then fails (retried, and alarmed past its retries)."""
        now = now or datetime.now(UTC)
        accepted = rejected = waiting = reopened = unanswered = 0
        for claim in self._claims.filed_claims():
            partner = self._catalog.partner(claim.partner_id)
            network = partner.network.value if partner else "admitad"
            try:
                answer = self._network(network).lost_order(claim.lost_order_id or "")
            except AdmitadApiError as error:
                if error.status == 404:
                    # Not an outage to retry forever: support sees the claim again and files it anew or
                    # resolves it by hand.
                    reopened += self._claims.reopen(claim)
                else:
                    unanswered += 1
                continue
            if answer.status == "accepted":
                accepted += self._claims.network_answered(claim, True, ACCEPTED_REASON, now)
            elif answer.status == "rejected":
                rejected += self._claims.network_answered(claim, False, rejection_reason(answer), now)
            else:
                waiting += 1
        followed = Followed(accepted, rejected, waiting, reopened, unanswered)
        if unanswered:
            raise UpstreamUnavailable(f"the network did not answer about {unanswered} lost orders: {followed}")
        return followed
