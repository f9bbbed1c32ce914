"""Members: enrolment, settings and profile, email confirmation, promo codes, and the welcome bonuses."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cashback.ledger.repository import Outcome, ledger
from cashback.members import bonuses
from cashback.members.email_codes import PendingConfirmation, new_code
from cashback.members.promo_code_repository import promo_codes
from cashback.members.promo_codes import PromoCode, PromoCodeAlreadyUsed, normalise_code
from cashback.members.repository import members
from cashback.members.rules import (
    Goal,
    Member,
    check_profile,
    check_writeoff_limit,
    is_subscriber,
    normalise_email,
    normalise_phone,
)
from cashback.outbox.repository import Message, MessageKind, enqueue
from cashback.platform.config import settings
from cashback.platform.errors import Conflict, InvalidInput, NotFound
from cashback.platform.web.identity import MemberIdentity


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# --- enrolment ----------------------------------------------------------------------------------------


def enrol(
    identity: MemberIdentity, email: str | None = None, promo_code: str | None = None, *, now: datetime | None = None
) -> tuple[Member, bool]:
    """Enrols the caller; a second enrolment returns the member as they are (`created` False).

    A promo code is checked before anything is written, so a mistyped code fails the whole request and
    the member can simply retry with the right one.
    """
    now = _now(now)
    code = normalise_code(promo_code) if promo_code else None
    if code:
        _usable_promo(code, now)
    member = members().get(identity.sub)
    created = member is None
    if member is None:
        phone = normalise_phone(identity.phone)
        subscriber = is_subscriber(phone, settings().subscriber_prefixes, members().directory_entry(phone))
        new = Member(member_id=identity.sub, phone=phone, subscriber=subscriber, created_at=now)
        member, created = members().enrol(new)
    if email and created:
        request_email_confirmation(identity, email, now=now)
    if code:
        with suppress(PromoCodeAlreadyUsed):  # a retried enrolment: the code was applied the first time
            apply_promo_code(identity, code, now=now)
    return members().require(identity.sub), created


def me(identity: MemberIdentity) -> Member:
    return members().require(identity.sub)


# --- settings and profile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileInput:
    first_name: str
    last_name: str
    birth_date: date
    city: str


def update_me(
    identity: MemberIdentity,
    *,
    goal: Goal | None = None,
    limit: int | None = None,
    limit_given: bool = False,
    profile: ProfileInput | None = None,
    now: datetime | None = None,
) -> Member:
    """Changes goal, monthly write-off limit (null removes it) and profile. The first complete profile of a
    non-subscriber earns its bonus, committed together with the profile."""
    now = _now(now)
    member = members().require(identity.sub)
    checked = None
    if profile is not None:
        checked = check_profile(profile.first_name, profile.last_name, profile.birth_date, profile.city, now.date())
    limit = check_writeoff_limit(limit) if limit_given else None
    change = members().update(
        member.member_id, goal=goal, limit=limit, clear_limit=limit_given and limit is None, profile=checked
    )
    if change is None:
        return member
    if checked is not None and not member.subscriber:
        outcome = ledger().execute(member.member_id, bonuses.PROFILE_COMPLETED.credit(now), attachments=[change])
        if not outcome.applied:  # the bonus was earned before: the change still has to be saved
            members().apply(change)
    else:
        members().apply(change)
    return members().require(member.member_id)


# --- email confirmation -------------------------------------------------------------------------------


def request_email_confirmation(identity: MemberIdentity, email: str, *, now: datetime | None = None) -> str:
    """Sends a confirmation code to `email` through the outbox. Returns the address it was sent to."""
    now = _now(now)
    member = members().require(identity.sub)
    address = normalise_email(email)
    if member.email_confirmed and member.email == address:
        raise Conflict("this address is already confirmed", code="email_already_confirmed")
    code = new_code()
    pending = PendingConfirmation.issue(address, code, now)
    message = Message(
        message_id=f"email-confirmation:{member.member_id}:{int(now.timestamp() * 1000)}",
        kind=MessageKind.EMAIL,
        to=address,
        body={"template": "email_confirmation", "code": code, "valid_minutes": 15},
        created_at=now,
    )
    members().start_confirmation(member.member_id, pending, enqueue(message))
    return address


def confirm_email(identity: MemberIdentity, code: str, *, now: datetime | None = None) -> tuple[Member, int]:
    """Confirms the pending address. Returns the member and the bonus this confirmation earned (0 after
    the first confirmed address)."""
    now = _now(now)
    member = members().require(identity.sub)
    pending = members().pending_confirmation(member.member_id)
    if pending is None:
        raise NotFound("no confirmation is pending; ask for a code first", code="no_pending_confirmation")
    if not pending.check(code.strip(), now):
        members().record_wrong_code(member.member_id, pending.attempts)
        raise InvalidInput("that code is not the one we sent", code="wrong_code")
    confirm = members().confirm_email(member.member_id, pending)
    outcome = ledger().execute(member.member_id, bonuses.EMAIL_CONFIRMED.credit(now), attachments=[confirm])
    if not outcome.applied:
        members().apply(confirm)
    return members().require(member.member_id), bonuses.EMAIL_CONFIRMED.amount if outcome.applied else 0


# --- promo codes --------------------------------------------------------------------------------------


def _usable_promo(code: str, now: datetime) -> PromoCode:
    promo = promo_codes().get(code)
    if promo is None:
        raise NotFound(f"there is no promo code {code}", code="promo_code_not_found")
    promo.check_usable(now)
    return promo


def apply_promo_code(identity: MemberIdentity, raw_code: str, *, now: datetime | None = None) -> int:
    """Credits the code's bonus once per member, within the code's window and usage limit."""
    now = _now(now)
    code = normalise_code(raw_code)
    member = members().require(identity.sub)
    promo = _usable_promo(code, now)
    credit = promo.credit(now)
    if ledger().transaction(member.member_id, credit.transaction_id) is not None:
        raise PromoCodeAlreadyUsed(f"you have already used promo code {code}")
    try:
        outcome = ledger().execute(member.member_id, credit, attachments=[promo_codes().count_use(code, now)])
    except Conflict:
        _usable_promo(code, now)  # raises the reason: used up, or expired meanwhile
        raise
    if not outcome.applied:
        raise PromoCodeAlreadyUsed(f"you have already used promo code {code}")
    return promo.bonus


def create_promo_code(promo: PromoCode, *, actor: str) -> PromoCode:
    promo_codes().create(promo, created_by=actor)
    return promo


# --- the first purchase -------------------------------------------------------------------------------


def credit_first_purchase(member_id: str, *, at: datetime | None = None) -> Outcome:
    """The 200-bonus rule the postbacks fire when a member's first conversion becomes Accrued; once."""
    return ledger().execute(member_id, bonuses.FIRST_PURCHASE.credit(_now(at)))
