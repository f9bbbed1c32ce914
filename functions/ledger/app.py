"""Ledger: the member's balances and transactions."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.ledger.rules import Status
from cashback.ledger.schemas import BalanceOut, TransactionOut, TransactionPage
from cashback.platform.observability import logger, metrics
from cashback.platform.web.identity import member_identity
from cashback.platform.web.resolver import make_resolver

app = make_resolver()
# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


@app.get("/members/me/balance", summary="Available, pending and written-off bonuses", tags=["ledger"])
def balance() -> BalanceOut:
    return BalanceOut.of(container.ledger_service.balance(member_identity(app.current_event).sub))


@app.get("/members/me/transactions", summary="The caller's transactions, newest first", tags=["ledger"])
def transactions(
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> TransactionPage:
    page = container.ledger_service.history(member_identity(app.current_event).sub, status, limit, cursor)
    return TransactionPage(items=[TransactionOut.of(t) for t in page.items], next_cursor=page.next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
