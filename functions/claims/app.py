"""Claims: members ask for cashback that did not come; support works the queue (claims and kept
postbacks) and resolves each with a reason. Member routes use the JWT authorizer, admin routes IAM."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.claims.receipts import read_receipt
from cashback.claims.rules import ClaimState, Resolution
from cashback.claims.schemas import ClaimOut, ClaimPage, NewClaim, QueuePage, ResolveRequest, queue_item
from cashback.platform.observability import logger, metrics
from cashback.platform.web.identity import admin_identity, member_identity
from cashback.platform.web.resolver import make_resolver

# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()
app = make_resolver(operators=container.settings)


def _actor() -> str:
    """The admin caller, kept with what they do (anyone else was refused before the route ran)."""
    return admin_identity(app.current_event, container.settings.admin_caller_role)


@app.post("/members/me/claims", summary="Claim cashback that did not come", tags=["claims"])
def file_claim(request: Annotated[NewClaim, Body()]) -> tuple[ClaimOut, int]:
    receipt = read_receipt(request.receipt) if request.receipt is not None else None
    claim = container.claims.file_claim(
        member_identity(app.current_event).sub,
        request.partner_id,
        request.order_id,
        request.order_date,
        request.order_amount,
        receipt=receipt,
    )
    return ClaimOut.of(claim), HTTPStatus.CREATED


@app.get("/members/me/claims", summary="The caller's claims and their state", tags=["claims"])
def my_claims(
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> ClaimPage:
    page = container.claims.member_claims(member_identity(app.current_event).sub, limit, cursor)
    return ClaimPage(items=[ClaimOut.of(c) for c in page.items], next_cursor=page.next_cursor)


@app.get("/admin/claims", summary="Support's queue: claims and kept postbacks", tags=["admin"])
def queue(
    status: Annotated[ClaimState, Query()] = ClaimState.OPEN,
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> QueuePage:
    page = container.claims.queue(status, limit, cursor)
    return QueuePage(items=[queue_item(m) for m in page.items], next_cursor=page.next_cursor)


@app.post("/admin/claims/<claim_id>/resolve", summary="Resolve a claim, with a reason", tags=["admin"])
def resolve(claim_id: Annotated[str, Path(max_length=64)], request: Annotated[ResolveRequest, Body()]) -> ClaimOut:
    if request.action is Resolution.FILE_LOST_ORDER:
        # Filed with the partner's network, whose answer (followed by a schedule) then resolves the claim.
        return ClaimOut.of(container.lost_orders.file(claim_id, request.reason, actor=_actor()))
    claim = container.claims.resolve(
        claim_id,
        request.action,
        request.reason,
        actor=_actor(),
        orphan_id=request.orphan_id,
        amount=request.amount,
    )
    return ClaimOut.of(claim)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
