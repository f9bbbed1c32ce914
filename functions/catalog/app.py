"""Catalog: categories and partners, public; a member's token adds their signed links to the stores."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.catalog.rules import Category, Offer
from cashback.catalog.schemas import CategoryList, PartnerOut, PartnerPage
from cashback.platform.observability import logger, metrics
from cashback.platform.web.optional_member import optional_member_id
from cashback.platform.web.resolver import make_resolver

app = make_resolver()
# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


def _with_links(offers: list[Offer]) -> list[PartnerOut]:
    member_id = optional_member_id(app.current_event, container.member_tokens)
    if member_id is None:
        return [PartnerOut.of(offer) for offer in offers]
    event = app.current_event
    origin = f"{event.headers.get('x-forwarded-proto', 'https')}://{event.request_context.domain_name}"
    links = container.catalog.go_urls(member_id, [o.partner.partner_id for o in offers], origin)
    return [PartnerOut.of(offer, links[offer.partner.partner_id]) for offer in offers]


@app.get("/categories", summary="The catalog's categories", tags=["catalog"])
def categories() -> CategoryList:
    return CategoryList.of(container.catalog.categories())


@app.get("/partners", summary="Active partners by name; filter by category, search by name", tags=["catalog"])
def partners(
    category: Annotated[Category | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> PartnerPage:
    page = container.catalog.listing(category, q, limit, cursor)
    return PartnerPage(items=_with_links(page.items), next_cursor=page.next_cursor)


@app.get("/partners/<partner_id>", summary="One partner, with its full conditions", tags=["catalog"])
def partner(partner_id: str) -> PartnerOut:
    [out] = _with_links([container.catalog.offer(partner_id)])
    return out


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
