"""Claims: a member asks for cashback that did not come; support resolves it by matching a kept
postback, crediting by hand, or declining, always with a reason the member sees."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ulid import ULID

from cashback.catalog.service import CatalogService
from cashback.claims.receipt_store import ReceiptStore
from cashback.claims.receipts import Receipt
from cashback.claims.repository import ClaimRepository
from cashback.claims.rules import (
    RESOLVABLE,
    Claim,
    ClaimState,
    Orphan,
    Resolution,
    check_claimable,
    check_order_id,
    click_before,
    order_transaction_id,
    order_window,
)
from cashback.clicks.rules import Click, ClickSeen
from cashback.clicks.service import ClickService
from cashback.ledger.calendar import MOSCOW
from cashback.ledger.money import parse_amount
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Credit, Kind, Source
from cashback.members.service import MemberService
from cashback.platform.errors import Conflict, InvalidInput, NotFound
from cashback.platform.pagination import Page
from cashback.postbacks.pricing import over_ceiling
from cashback.postbacks.rules import NOT_MATCHABLE, Postback, PostbackStatus, transaction_id
from cashback.postbacks.service import PostbackService

# How long one filing with the network holds a claim: a crash mid-call frees it for support after this.
FILING_LEASE = timedelta(minutes=2)


class ClaimService:
    def __init__(
        self,
        claims: ClaimRepository,
        ledger: Ledger,
        *,
        members: MemberService,
        catalog: CatalogService,
        clicks: ClickService,
        postbacks: PostbackService,
        receipts: ReceiptStore,
    ) -> None:
        self._claims = claims
        self._ledger = ledger
        self._members = members
        self._catalog = catalog
        self._clicks = clicks
        self._postbacks = postbacks
        self._receipts = receipts

    def file_claim(
        self,
        member_id: str,
        partner_id: str,
        order_id: str,
        order_date: date,
        order_amount: str,
        *,
        receipt: Receipt | None = None,
        now: datetime | None = None,
    ) -> Claim:
        now = now or datetime.now(UTC)
        order_id = check_order_id(order_id)
        amount = parse_amount(order_amount)
        self._members.me(member_id)
        partner = self._catalog.partner(partner_id)
        if partner is None:
            raise NotFound(f"there is no partner {partner_id}", code="partner_not_found")
        # The member's calendar is Moscow's: a claim is due on its day there, not three hours later.
        today = now.astimezone(MOSCOW).date()
        if order_date > today:
            raise InvalidInput("the order date is in the future", code="invalid_order_date")
        click = self._click_before(member_id, partner_id, order_date)
        # Due after the accrual period frozen on the member's click, not the partner's current one.
        check_claimable(order_date, click.accrual_days, today)
        claim_id = str(ULID())
        # Stored before the claim that names it: a claim never points at a receipt that is not there.
        receipt_key = self._receipts.put(claim_id, receipt) if receipt is not None else None
        claim = Claim(
            claim_id=claim_id,
            member_id=member_id,
            partner_id=partner_id,
            order_id=order_id,
            order_date=order_date,
            order_amount=amount,
            created_at=now,
            receipt_key=receipt_key,
            click_id=click.click_id,
        )
        try:
            self._claims.file(claim)
        except Exception:
            if receipt_key is not None:
                # Best effort: the claim's own error is the one the member must see, and the bucket's
                # expiry removes a receipt left behind anyway.
                with suppress(Exception):
                    self._receipts.delete(receipt_key)
            raise
        return claim

    def member_claims(self, member_id: str, limit: int | None, cursor: str | None) -> Page[Claim]:
        return self._claims.of_member(member_id, limit, cursor)

    def queue(self, state: ClaimState, limit: int | None, cursor: str | None) -> Page[Claim | Orphan]:
        """Support's queue: claims and kept postbacks in one state, oldest first."""
        return self._claims.queue(state, limit, cursor)

    def _require_claim(self, claim_id: str) -> Claim:
        claim = self._claims.claim(claim_id)
        if claim is None:
            raise NotFound(f"there is no claim {claim_id}", code="claim_not_found")
        return claim

    def resolve(
        self,
        claim_id: str,
        resolution: Resolution,
        reason: str,
        *,
        actor: str,
        orphan_id: str | None = None,
        amount: int | None = None,
        now: datetime | None = None,
    ) -> Claim:
        now = now or datetime.now(UTC)
        if not reason.strip():
            raise InvalidInput("a resolution needs a reason", code="reason_required")
        claim = self._require_claim(claim_id)
        if claim.state not in RESOLVABLE:
            raise Conflict(f"claim {claim_id} is already {claim.state.value}", code="claim_already_resolved")
        if resolution is Resolution.DECLINE:
            self._claims.resolve(claim_id, ClaimState.DECLINED, reason, by=actor, at=now)
        elif resolution is Resolution.CREDIT:
            if amount is None or amount <= 0:
                raise InvalidInput("a credit by hand needs a positive amount", code="invalid_amount")
            self._credit(claim, amount, reason, actor, now)
        elif resolution is Resolution.MATCH:
            bonus = self._match(claim, orphan_id, now)
            self._claims.resolve(
                claim_id, ClaimState.MATCHED, reason, by=actor, at=now, bonus=bonus, matched_orphan=orphan_id
            )
        else:  # filing with the network is the lost-order service's (networks), not a resolution here
            raise InvalidInput(f"{resolution.value} does not resolve a claim by hand", code="invalid_action")
        return self._require_claim(claim_id)

    # --- lost orders: support files a claim with the network, which answers later ------------------------

    def take_for_filing(self, claim_id: str, now: datetime) -> Claim:
        """The open claim, held for one filing with the network (until `filed` or `release_filing`)."""
        claim = self._require_claim(claim_id)
        if claim.state is not ClaimState.OPEN:
            raise Conflict(f"claim {claim_id} is already {claim.state.value}", code="claim_already_resolved")
        if not self._claims.start_filing(claim_id, now, FILING_LEASE):
            if self._require_claim(claim_id).state is not ClaimState.OPEN:
                raise Conflict(f"claim {claim_id} was resolved a moment ago", code="claim_already_resolved")
            raise Conflict(f"claim {claim_id} is being filed with the network", code="filing_in_progress")
        return claim

    def release_filing(self, claim_id: str) -> None:
        self._claims.release_filing(claim_id)

    def filed(self, claim_id: str, ticket_id: str, *, actor: str, now: datetime) -> Claim:
        if not self._claims.filed(claim_id, ticket_id, by=actor, at=now):
            raise Conflict(
                f"claim {claim_id} was resolved while the network filed it (lost order {ticket_id})",
                code="claim_already_resolved",
            )
        return self._require_claim(claim_id)

    def claim_click(self, claim: Claim) -> Click:
        """The member's click the claim names (claims filed before clicks were kept with them: found again)."""
        click_id = claim.click_id or self._click_before(claim.member_id, claim.partner_id, claim.order_date).click_id
        click = self._clicks.find_click(click_id)
        if click is None:
            raise NotFound(f"the click {click_id} of claim {claim.claim_id} is gone", code="click_not_found")
        return click

    def _click_before(self, member_id: str, partner_id: str, order_date: date) -> ClickSeen:
        since, until = order_window(order_date, MOSCOW)
        return click_before(order_date, partner_id, self._clicks.member_clicks(member_id, since, until), MOSCOW)

    def reopen(self, claim: Claim) -> bool:
        """A filed claim the network has no record of goes back to support's open queue."""
        return self._claims.reopen(claim.claim_id)

    def receipt_of(self, claim: Claim) -> Receipt | None:
        """The member's receipt of the claimed order, which the network sees with a lost order."""
        return self._receipts.get(claim.receipt_key) if claim.receipt_key else None

    def filed_claims(self) -> Iterator[Claim]:
        return self._claims.filed_claims()

    def network_answered(self, claim: Claim, accepted: bool, reason: str, now: datetime) -> bool:
        """The network's answer closes a filed claim: accepted, its cashback arrives as the order's
        conversion (postback or reconciliation); rejected, it is declined with the network's reason. False
        when support resolved it in the meantime."""
        state = ClaimState.ACCEPTED if accepted else ClaimState.DECLINED
        return self._claims.network_answered(claim.claim_id, state, reason, at=now)

    def _credit(self, claim: Claim, amount: int, reason: str, actor: str, now: datetime) -> None:
        """Support's credit, linked to the order (a later postback or reconciliation of it pays only the
        difference) and written with the claim's resolution: two agents resolving one claim credit once."""
        partner = self._catalog.partner(claim.partner_id)
        network = partner.network.value if partner else "unknown"
        credit = Credit(
            operation_id=f"claim:{claim.claim_id}",
            transaction_id=order_transaction_id(network, claim.order_id),
            reason=reason,
            at=now,
            actor=actor,
            kind=Kind.ADJUSTMENT,
            amount=amount,
            source=Source("claim", claim.claim_id),
            details={
                "partner_id": claim.partner_id,
                "order_id": claim.order_id,
                "order_amount": str(claim.order_amount),
            },
        )
        resolution = self._claims.resolution(
            claim.claim_id, ClaimState.CREDITED, reason, by=actor, at=now, bonus=amount
        )
        already_resolved = Conflict(f"claim {claim.claim_id} is already resolved", code="claim_already_resolved")
        try:
            outcome = self._ledger.execute(claim.member_id, credit, [resolution])
        except Conflict as error:
            raise already_resolved from error
        if not outcome.applied:
            if self._require_claim(claim.claim_id).state not in RESOLVABLE:
                raise already_resolved  # another agent credited it a moment ago
            # The member's order was credited before, through another of their claims of it.
            raise Conflict("this order has already been credited", code="order_already_credited")

    def _match(self, claim: Claim, orphan_id: str | None, now: datetime) -> int:
        """Gives the orphan's click to the claiming member at the partner's rate in force when the order was
        placed, then delivers the kept postback again: later postbacks of the same order now find it too."""
        if not orphan_id:
            raise InvalidInput("matching needs the orphan's id", code="orphan_required")
        orphan = self._claims.orphan(orphan_id)
        if orphan is None:
            raise NotFound(f"there is no kept postback {orphan_id}", code="orphan_not_found")
        if orphan.state is not ClaimState.OPEN:
            raise Conflict(f"postback {orphan_id} is already matched", code="orphan_already_matched")
        if orphan.reason in NOT_MATCHABLE:
            # It named a click its sender may not speak for: its data are not the network's word on an order.
            raise Conflict(
                f"postback {orphan_id} was {orphan.reason}: it cannot be matched", code="orphan_not_matchable"
            )
        if orphan.details.get("currency", "RUB") != "RUB":
            # Its amount is not roubles; read as roubles it would pay many times what was earned.
            raise InvalidInput(
                f"postback {orphan_id} is in {orphan.details['currency']}: it cannot be matched as roubles",
                code="foreign_currency",
            )
        partner = self._catalog.partner(claim.partner_id)
        if partner is None:
            raise NotFound(f"there is no partner {claim.partner_id}", code="partner_not_found")
        details = orphan.details
        occurred_at = datetime.fromisoformat(details["occurred_at"])
        click = self._clicks.find_click(details["click_id"])
        if click is None:
            click = Click(
                click_id=details["click_id"],
                member_id=claim.member_id,
                partner_id=partner.partner_id,
                rate_percent=partner.rate_in_force(occurred_at),
                network=orphan.network,
                accrual_days=partner.accrual_days,
                clicked_at=occurred_at,
                user_agent="matched by support",
                goods_rates=partner.tariff_rates(),
                commission_share_percent=partner.commission_share_percent,
            )
            self._clicks.record(click)
        elif click.member_id != claim.member_id:
            raise Conflict("that postback belongs to another member's click", code="orphan_of_another_member")
        postback = Postback(
            network=orphan.network,
            conversion_id=orphan.orphan_id.split(":", 1)[1],
            click_id=click.click_id,
            order_id=details["order_id"],
            amount=Decimal(details["order_amount"]),
            currency="RUB",
            status=PostbackStatus(details["status"]),
            occurred_at=occurred_at,
            raw=orphan.raw,
            commission=Decimal(details["commission"]) if "commission" in details else None,
            tariff=details.get("tariff"),
        )
        if over_ceiling(postback):  # invariant 10: support cannot credit it either
            raise InvalidInput("the order's amount is past the sanity ceiling", code="over_ceiling")
        self._postbacks.apply(postback, click)
        txn = self._ledger.transaction(claim.member_id, transaction_id(postback))
        return txn.amount if txn else 0
