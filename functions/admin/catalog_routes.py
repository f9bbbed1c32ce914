"""Administration of the catalog: partners and their promotions. Included in the admin resolver."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from cashback.catalog.rules import check_partner_id
from cashback.catalog.schemas import AdminPartnerOut, PartnerRequest, PromotionCreated, PromotionRequest
from cashback.catalog.service import CatalogService
from cashback.platform.web.identity import admin_identity

router = Router()


def _event() -> APIGatewayProxyEventV2:
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEventV2)  # the admin routes are on the HTTP API (payload v2)
    return event


def _actor() -> str:
    return admin_identity(_event(), router.context["container"].settings.admin_caller_role)


def _catalog() -> CatalogService:
    catalog: CatalogService = router.context["container"].catalog
    return catalog


@router.put("/admin/partners/<partner_id>", summary="Create or replace a partner", tags=["admin"])
def put_partner(partner_id: str, request: Annotated[PartnerRequest, Body()]) -> tuple[AdminPartnerOut, int]:
    actor = _actor()
    partner, created = _catalog().put_partner(request.to_domain(check_partner_id(partner_id)), actor=actor)
    return AdminPartnerOut.of(partner), HTTPStatus.CREATED if created else HTTPStatus.OK


@router.post(
    "/admin/partners/<partner_id>/promotions", summary="Raise a partner's rate for a time window", tags=["admin"]
)
def add_promotion(partner_id: str, request: Annotated[PromotionRequest, Body()]) -> tuple[PromotionCreated, int]:
    actor = _actor()
    promotion = _catalog().add_promotion(partner_id, request.rate, request.starts_at, request.ends_at, actor=actor)
    return PromotionCreated.of(partner_id, promotion), HTTPStatus.CREATED
