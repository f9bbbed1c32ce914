"""The support queue's aggregate: members' claims and kept orphan postbacks, in the claims table.

Two sparse indexes serve the two readers: `by_owner` (a member's own claims, newest first) and
`by_state` (support's queue by state, newest first), so neither ever scans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.claims.rules import RESOLVABLE, Claim, ClaimState, Orphan
from cashback.platform import dynamodb as tables
from cashback.platform.errors import Conflict
from cashback.platform.pagination import Page, check_limit, decode_cursor, encode_cursor


class ByOwner(GlobalSecondaryIndex["ClaimModel"]):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    listed = UnicodeAttribute(range_key=True)


class ByState(GlobalSecondaryIndex["ClaimModel"]):
    class Meta:
        index_name = "by_state"
        projection = AllProjection()

    state = UnicodeAttribute(hash_key=True)
    listed = UnicodeAttribute(range_key=True)


class ClaimModel(Model):
    """One item type for both: `kind` says whether it is a member's claim or a kept postback."""

    class Meta:
        table_name = "unbound-claims"

    pk = UnicodeAttribute(hash_key=True)  # "CLAIM#<id>" | "ORPHAN#<network>:<conversion>"
    sk = UnicodeAttribute(range_key=True)  # "ITEM"
    kind = UnicodeAttribute()
    state = UnicodeAttribute()
    listed = UnicodeAttribute()  # "<created iso>#<id>"
    owner = UnicodeAttribute(null=True)  # "MEMBER#<id>" for claims
    member_id = UnicodeAttribute(null=True)
    partner_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    order_date = UnicodeAttribute(null=True)
    order_amount = UnicodeAttribute(null=True)
    network = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    raw = MapAttribute[str, Any](null=True)
    details = MapAttribute[str, Any](null=True)
    deliveries = NumberAttribute(default=1)
    resolution_reason = UnicodeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    matched_claim_id = UnicodeAttribute(null=True)
    bonus = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    resolved_at = UTCDateTimeAttribute(null=True)
    receipt_key = UnicodeAttribute(null=True)
    click_id = UnicodeAttribute(null=True)
    lost_order_id = UnicodeAttribute(null=True)  # the network's ticket of the claim filed as a lost order
    filing_since = UTCDateTimeAttribute(null=True)  # a filing with the network under way (a lease)
    filed_by = UnicodeAttribute(null=True)
    filed_at = UTCDateTimeAttribute(null=True)

    by_owner = ByOwner()
    by_state = ByState()

    def to_claim(self) -> Claim:
        return Claim(
            claim_id=self.pk.removeprefix("CLAIM#"),
            member_id=self.member_id or "",
            partner_id=self.partner_id or "",
            order_id=self.order_id or "",
            order_date=date.fromisoformat(self.order_date or "1970-01-01"),
            order_amount=Decimal(self.order_amount or "0"),
            created_at=self.created_at,
            state=ClaimState(self.state),
            resolution_reason=self.resolution_reason,
            resolved_at=self.resolved_at,
            bonus=None if self.bonus is None else int(self.bonus),
            receipt_key=self.receipt_key,
            click_id=self.click_id,
            lost_order_id=self.lost_order_id,
        )

    def to_orphan(self) -> Orphan:
        return Orphan(
            orphan_id=self.pk.removeprefix("ORPHAN#"),
            network=self.network or "",
            reason=self.reason or "",
            raw=_plain(self.raw),
            received_at=self.created_at,
            state=ClaimState(self.state),
            matched_claim_id=self.matched_claim_id,
            details=_plain(self.details),
        )


class ClaimedOrderModel(Model):
    """`CLAIMORDER#<member>#<partner>#<order id>` / `ITEM`: one claim per member and order. Not in either
    index (it has no owner or state)."""

    class Meta:
        table_name = "unbound-claims"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    claim_id = UnicodeAttribute()


def _plain(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    data = value.as_dict() if isinstance(value, MapAttribute) else dict(value)
    return {str(k): str(v) for k, v in data.items()}


def _resolved(state: ClaimState, reason: str, by: str, at: datetime, bonus: int | None) -> list[Any]:
    return [
        ClaimModel.state.set(state.value),
        ClaimModel.resolution_reason.set(reason),
        ClaimModel.resolved_by.set(by),
        ClaimModel.resolved_at.set(at),
        *([ClaimModel.bonus.set(bonus)] if bonus is not None else []),
    ]


def _is(state: ClaimState) -> Any:
    return ClaimModel.state == state.value


def _update_if(claim_id: str, actions: list[Any], condition: Any) -> bool:
    """Updates the claim if `condition` holds; False (nothing written) if it does not."""
    try:
        ClaimModel(f"CLAIM#{claim_id}", "ITEM").update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _resolvable() -> Any:
    return ClaimModel.state.is_in(*(state.value for state in RESOLVABLE))


def _listed(at: datetime, item_id: str) -> str:
    return f"{at.isoformat()}#{item_id}"


class ClaimRepository:
    def __init__(self, table_name: str, connection: Connection) -> None:
        self._table_name = table_name
        self._connection = connection
        tables.bind((ClaimModel, ClaimedOrderModel), table_name)

    # --- orphans ----------------------------------------------------------------------------------

    def keep(self, orphan: Orphan) -> None:
        """Keeps a postback nobody could match; a repeat updates the kept data and counts deliveries."""
        model = ClaimModel(f"ORPHAN#{orphan.orphan_id}", "ITEM")
        model.update(
            actions=[
                ClaimModel.kind.set("orphan"),
                ClaimModel.state.set(ClaimModel.state | ClaimState.OPEN.value),
                ClaimModel.listed.set(ClaimModel.listed | _listed(orphan.received_at, orphan.orphan_id)),
                ClaimModel.created_at.set(ClaimModel.created_at | orphan.received_at),
                ClaimModel.network.set(orphan.network),
                ClaimModel.reason.set(orphan.reason),
                ClaimModel.raw.set(orphan.raw),
                ClaimModel.details.set(orphan.details),
                ClaimModel.deliveries.add(1),
            ]
        )

    def orphan(self, orphan_id: str) -> Orphan | None:
        try:
            return ClaimModel.get(f"ORPHAN#{orphan_id}", "ITEM", consistent_read=True).to_orphan()
        except DoesNotExist:
            return None

    # --- claims -----------------------------------------------------------------------------------

    def file(self, claim: Claim) -> None:
        """Files the claim with its order's marker, both new or neither: a second claim of the member's
        order is refused (409 `claim_exists`)."""
        marker = ClaimedOrderModel(
            f"CLAIMORDER#{claim.member_id}#{claim.partner_id}#{claim.order_id}", "ITEM", claim_id=claim.claim_id
        )
        model = ClaimModel(
            f"CLAIM#{claim.claim_id}",
            "ITEM",
            kind="claim",
            state=claim.state.value,
            listed=_listed(claim.created_at, claim.claim_id),
            owner=f"MEMBER#{claim.member_id}",
            member_id=claim.member_id,
            partner_id=claim.partner_id,
            order_id=claim.order_id,
            order_date=claim.order_date.isoformat(),
            order_amount=str(claim.order_amount),
            created_at=claim.created_at,
            receipt_key=claim.receipt_key,
            click_id=claim.click_id,
        )
        try:
            with TransactWrite(connection=self._connection) as write:
                write.save(marker, condition=ClaimedOrderModel.pk.does_not_exist())
                write.save(model, condition=ClaimModel.pk.does_not_exist())
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                raise Conflict("this order has already been claimed", code="claim_exists") from error
            raise

    def claim(self, claim_id: str) -> Claim | None:
        try:
            return ClaimModel.get(f"CLAIM#{claim_id}", "ITEM", consistent_read=True).to_claim()
        except DoesNotExist:
            return None

    def resolution(
        self, claim_id: str, state: ClaimState, reason: str, *, by: str, at: datetime, bonus: int | None = None
    ) -> Callable[[TransactWrite], None]:
        """Closing the open claim as a ledger attachment: written with its credit, or neither (two agents
        resolving one claim: the second's credit is refused with it)."""

        def attach(write: TransactWrite) -> None:
            write.update(
                ClaimModel(f"CLAIM#{claim_id}", "ITEM"),
                actions=_resolved(state, reason, by, at, bonus),
                condition=_resolvable(),
            )

        return attach

    def resolve(
        self,
        claim_id: str,
        state: ClaimState,
        reason: str,
        *,
        by: str,
        at: datetime,
        bonus: int | None = None,
        matched_orphan: str | None = None,
    ) -> None:
        """Closes an open claim (and the orphan it was matched with); refused when already resolved."""
        try:
            ClaimModel(f"CLAIM#{claim_id}", "ITEM").update(
                actions=_resolved(state, reason, by, at, bonus),
                condition=_resolvable(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"claim {claim_id} is already resolved", code="claim_already_resolved") from error
            raise
        if matched_orphan:
            ClaimModel(f"ORPHAN#{matched_orphan}", "ITEM").update(
                actions=[
                    ClaimModel.state.set(ClaimState.MATCHED.value),
                    ClaimModel.matched_claim_id.set(claim_id),
                    ClaimModel.resolved_by.set(by),
                    ClaimModel.resolved_at.set(at),
                ]
            )

    # --- lost orders: filed with the network, then its answer ------------------------------------------

    def start_filing(self, claim_id: str, at: datetime, lease: timedelta) -> bool:
        """Takes the open claim for filing with the network: False while another filing holds it (a crash
        leaves the lease to expire, so that the claim can be filed again). One filing at a time, since a
        network files a lost order twice if asked twice."""
        return _update_if(
            claim_id,
            [ClaimModel.filing_since.set(at)],
            (ClaimModel.state == ClaimState.OPEN.value)
            & (ClaimModel.filing_since.does_not_exist() | (ClaimModel.filing_since < at - lease)),
        )

    def release_filing(self, claim_id: str) -> None:
        ClaimModel(f"CLAIM#{claim_id}", "ITEM").update(actions=[ClaimModel.filing_since.remove()])

    def filed(self, claim_id: str, ticket_id: str, *, by: str, at: datetime) -> bool:
        """The claim filed under the network's ticket. False when support resolved it while the network was
        asked: its resolution stands, and the ticket is kept with it (the network has the order all the same)."""
        filing: list[Any] = [
            ClaimModel.lost_order_id.set(ticket_id),
            ClaimModel.filed_by.set(by),
            ClaimModel.filed_at.set(at),
            ClaimModel.filing_since.remove(),
        ]
        if _update_if(claim_id, [ClaimModel.state.set(ClaimState.FILED.value), *filing], _is(ClaimState.OPEN)):
            return True
        ClaimModel(f"CLAIM#{claim_id}", "ITEM").update(actions=filing)
        return False

    def network_answered(self, claim_id: str, state: ClaimState, reason: str, *, at: datetime) -> bool:
        """Closes a filed claim with the network's answer; False when support resolved it meanwhile."""
        return _update_if(claim_id, _resolved(state, reason, "network", at, None), _is(ClaimState.FILED))

    def reopen(self, claim_id: str) -> bool:
        """A filed claim back to open, without its ticket; False when it was resolved meanwhile."""
        actions = [ClaimModel.state.set(ClaimState.OPEN.value), ClaimModel.lost_order_id.remove()]
        return _update_if(claim_id, actions, _is(ClaimState.FILED))

    def filed_claims(self) -> Iterator[Claim]:
        """Every claim awaiting a network's answer, from the sparse state index (never a scan)."""
        for model in ClaimModel.by_state.query(ClaimState.FILED.value):
            if model.kind == "claim":
                yield model.to_claim()

    # --- listings ---------------------------------------------------------------------------------

    def of_member(self, member_id: str, limit: int | None, cursor: str | None) -> Page[Claim]:
        owner = f"MEMBER#{member_id}"
        page = self._page(ClaimModel.by_owner, owner, "owner", limit, cursor)
        return Page([m.to_claim() for m in page.items], page.next_cursor)

    def queue(self, state: ClaimState, limit: int | None, cursor: str | None) -> Page[Claim | Orphan]:
        page = self._page(ClaimModel.by_state, state.value, "state", limit, cursor)
        items: list[Claim | Orphan] = [m.to_orphan() if m.kind == "orphan" else m.to_claim() for m in page.items]
        return Page(items, page.next_cursor)

    def _page(self, index: Any, key: str, key_name: str, limit: int | None, cursor: str | None) -> Page[ClaimModel]:
        position = decode_cursor(cursor, ("pk", "sk", "listed"))
        start = None
        if position is not None:
            start = {key_name: {"S": key}, **{k: {"S": v} for k, v in position.items()}}
        query = index.query(key, scan_index_forward=False, limit=check_limit(limit), last_evaluated_key=start)
        items = list(query)
        last = query.last_evaluated_key
        next_cursor = encode_cursor({k: last[k]["S"] for k in ("pk", "sk", "listed")}) if last else None
        return Page(items, next_cursor)
