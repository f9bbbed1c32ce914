"""Members: enrolment and the member's own record."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cashback.bootstrap import Container
from cashback.members.rules import language_from
from cashback.members.schemas import (
    ConfirmRequest,
    EmailConfirmed,
    EmailRequest,
    EmailSent,
    EnrolRequest,
    MemberOut,
    PromoCodeApplied,
    PromoCodeRequest,
    UpdateMeRequest,
)
from cashback.members.service import ProfileInput
from cashback.platform.observability import logger, metrics
from cashback.platform.web.identity import member_identity
from cashback.platform.web.resolver import make_resolver

app = make_resolver()
# Built once per container; its settings are checked here, at cold start.
container = Container.from_environment()


@app.post("/members", summary="Enrol the caller", tags=["members"])
def enrol(
    request: Annotated[EnrolRequest | None, Body()] = None,
    accept_language: Annotated[str | None, Header(alias="accept-language")] = None,
) -> tuple[MemberOut, int]:
    request = request or EnrolRequest()
    identity = member_identity(app.current_event)
    member, created = container.members.enrol(
        identity.sub, identity.phone, request.email, request.promo_code, language=language_from(accept_language)
    )
    if created:
        metrics.add_metric(name="MembersEnrolled", unit=MetricUnit.Count, value=1)
    return MemberOut.of(member), HTTPStatus.CREATED if created else HTTPStatus.OK


@app.get("/members/me", summary="The caller's member record", tags=["members"])
def me() -> MemberOut:
    return MemberOut.of(container.members.me(member_identity(app.current_event).sub))


@app.patch("/members/me", summary="Change goal, monthly write-off limit, profile or language", tags=["members"])
def update_me(request: Annotated[UpdateMeRequest, Body()]) -> MemberOut:
    profile = ProfileInput(**request.profile.model_dump()) if request.profile else None
    member = container.members.update_me(
        member_identity(app.current_event).sub,
        goal=request.goal,
        limit=request.monthly_writeoff_limit,
        limit_given="monthly_writeoff_limit" in request.model_fields_set,
        profile=profile,
        language=request.language,
    )
    return MemberOut.of(member)


@app.post("/members/me/email", summary="Send a confirmation code to an email address", tags=["members"])
def request_email_confirmation(request: Annotated[EmailRequest, Body()]) -> tuple[EmailSent, int]:
    address = container.members.request_email_confirmation(member_identity(app.current_event).sub, request.email)
    return EmailSent(email=address), HTTPStatus.ACCEPTED


@app.post("/members/me/email/confirm", summary="Confirm the email address with its code", tags=["members"])
def confirm_email(request: Annotated[ConfirmRequest, Body()]) -> EmailConfirmed:
    member, bonus = container.members.confirm_email(member_identity(app.current_event).sub, request.code)
    return EmailConfirmed(email=member.email, email_confirmed=member.email_confirmed, bonus=bonus)


@app.post("/members/me/promo-codes", summary="Apply a promo code", tags=["members"])
def apply_promo_code(request: Annotated[PromoCodeRequest, Body()]) -> PromoCodeApplied:
    bonus = container.members.apply_promo_code(member_identity(app.current_event).sub, request.code)
    metrics.add_metric(name="PromoCodesApplied", unit=MetricUnit.Count, value=1)
    return PromoCodeApplied(code=request.code.strip().upper(), bonus=bonus)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
