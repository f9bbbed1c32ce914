"""Members: enrolment, settings and profile, email confirmation, promo codes, and the welcome bonuses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cashback.ledger.repository import Ledger
from cashback.members import bonuses
from cashback.members.email_codes import LIFETIME, PendingConfirmation
from cashback.members.promo_code_repository import PromoCodeRepository
from cashback.members.promo_codes import PromoCode, PromoCodeAlreadyUsed, normalise_code
from cashback.members.repository import MemberRepository
from cashback.members.rules import (
    Goal,
    Language,
    Member,
    check_profile,
    check_writeoff_limit,
    is_subscriber,
    normalise_email,
    normalise_phone,
)
from cashback.outbox.repository import Message, MessageKind, OutboxRepository
from cashback.platform.errors import Conflict, InvalidInput, NotFound


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# --- enrolment ----------------------------------------------------------------------------------------


class MemberService:
    def __init__(
        self,
        members: MemberRepository,
        promo_codes: PromoCodeRepository,
        ledger: Ledger,
        outbox: OutboxRepository,
        *,
        email_code_key: Callable[[], bytes],
        subscriber_prefixes: tuple[str, ...] = (),
    ) -> None:
        self._members = members
        self._promo_codes = promo_codes
        self._ledger = ledger
        self._outbox = outbox
        self._subscriber_prefixes = subscriber_prefixes
        # The HMAC key email codes are derived with (email_codes.py); read on the first confirmation.
        self._email_code_key = email_code_key

    def enrol(
        self,
        member_id: str,
        phone: str,
        email: str | None = None,
        promo_code: str | None = None,
        *,
        language: Language = Language.RU,
        now: datetime | None = None,
    ) -> tuple[Member, bool]:
        """Enrols the caller; a second enrolment returns the member as they are (`created` False).

        A promo code is checked before anything is written, so a mistyped code fails the whole request and
        the member can simply retry with the right one.
        """
        now = _now(now)
        code = normalise_code(promo_code) if promo_code else None
        if code:
            self._usable_promo(code, now)
        member = self._members.get(member_id)
        created = member is None
        if member is None:
            phone = normalise_phone(phone)
            subscriber = is_subscriber(phone, self._subscriber_prefixes, self._members.directory_entry(phone))
            new = Member(member_id=member_id, phone=phone, subscriber=subscriber, created_at=now, language=language)
            member, created = self._members.enrol(new)
        if email and created:
            self.request_email_confirmation(member_id, email, now=now)
        if code:
            with suppress(PromoCodeAlreadyUsed):  # a retried enrolment: the code was applied the first time
                self.apply_promo_code(member_id, code, now=now)
        return self._members.require(member_id), created

    def me(self, member_id: str) -> Member:
        return self._members.require(member_id)

    def update_me(
        self,
        member_id: str,
        *,
        goal: Goal | None = None,
        limit: int | None = None,
        limit_given: bool = False,
        profile: ProfileInput | None = None,
        language: Language | None = None,
        now: datetime | None = None,
    ) -> Member:
        """Changes goal, monthly write-off limit (null removes it), profile and language. The first complete
        profile of a non-subscriber earns its bonus, committed together with the profile."""
        now = _now(now)
        member = self._members.require(member_id)
        checked = None
        if profile is not None:
            checked = check_profile(profile.first_name, profile.last_name, profile.birth_date, profile.city, now.date())
        limit = check_writeoff_limit(limit) if limit_given else None
        change = self._members.update(
            member.member_id,
            goal=goal,
            limit=limit,
            clear_limit=limit_given and limit is None,
            profile=checked,
            language=language,
        )
        if change is None:
            return member
        if checked is not None and not member.subscriber:
            outcome = self._ledger.execute(
                member.member_id, bonuses.PROFILE_COMPLETED.credit(now), attachments=[change]
            )
            if not outcome.applied:  # the bonus was earned before: the change still has to be saved
                self._members.apply(change)
        else:
            self._members.apply(change)
        return self._members.require(member.member_id)

    def request_email_confirmation(self, member_id: str, email: str, *, now: datetime | None = None) -> str:
        """Sends a confirmation code to `email` through the outbox. Returns the address it was sent to."""
        now = _now(now)
        member = self._members.require(member_id)
        address = normalise_email(email)
        if member.email_confirmed and member.email == address:
            raise Conflict("this address is already confirmed", code="email_already_confirmed")
        pending = PendingConfirmation.issue(address, now)
        # The code's reference, not the code: the notifications function derives it with the key.
        body = {
            "template": "email_confirmation",
            "member_id": member.member_id,
            "nonce": pending.nonce,
            "valid_minutes": int(LIFETIME.total_seconds() // 60),
            "locale": member.language.value,
        }
        message = Message(
            message_id=f"email-confirmation:{member.member_id}:{int(now.timestamp() * 1000)}",
            kind=MessageKind.EMAIL,
            to=address,
            body=body,
            created_at=now,
        )
        self._members.start_confirmation(member.member_id, pending, self._outbox.enqueue(message))
        return address

    def confirm_email(self, member_id: str, code: str, *, now: datetime | None = None) -> tuple[Member, int]:
        """Confirms the pending address. Returns the member and the bonus this confirmation earned (0 after
        the first confirmed address)."""
        now = _now(now)
        member = self._members.require(member_id)
        pending = self._members.pending_confirmation(member.member_id)
        if pending is None:
            raise NotFound("no confirmation is pending; ask for a code first", code="no_pending_confirmation")
        if not pending.check(code.strip(), now, key=self._email_code_key(), member_id=member.member_id):
            self._members.record_wrong_code(member.member_id, pending.attempts)
            raise InvalidInput("that code is not the one we sent", code="wrong_code")
        confirm = self._members.confirm_email(member.member_id, pending)
        outcome = self._ledger.execute(member.member_id, bonuses.EMAIL_CONFIRMED.credit(now), attachments=[confirm])
        if not outcome.applied:
            self._members.apply(confirm)
        return self._members.require(member.member_id), bonuses.EMAIL_CONFIRMED.amount if outcome.applied else 0

    def _usable_promo(self, code: str, now: datetime) -> PromoCode:
        promo = self._promo_codes.get(code)
        if promo is None:
            raise NotFound(f"there is no promo code {code}", code="promo_code_not_found")
        promo.check_usable(now)
        return promo

    def apply_promo_code(self, member_id: str, raw_code: str, *, now: datetime | None = None) -> int:
        """Credits the code's bonus once per member, within the code's window and usage limit."""
        now = _now(now)
        code = normalise_code(raw_code)
        member = self._members.require(member_id)
        promo = self._usable_promo(code, now)
        credit = promo.credit(now)
        if self._ledger.transaction(member.member_id, credit.transaction_id) is not None:
            raise PromoCodeAlreadyUsed(f"you have already used promo code {code}")
        try:
            outcome = self._ledger.execute(
                member.member_id, credit, attachments=[self._promo_codes.count_use(code, now)]
            )
        except Conflict:
            self._usable_promo(code, now)  # raises the reason: used up, or expired meanwhile
            raise
        if not outcome.applied:
            raise PromoCodeAlreadyUsed(f"you have already used promo code {code}")
        return promo.bonus

    def set_directory_entry(self, phone: str, subscriber: bool) -> None:
        """The subscriber directory: a number ported to or from the operator overrides the number ranges."""
        self._members.set_directory_entry(normalise_phone(phone), subscriber)

    def create_promo_code(self, promo: PromoCode, *, actor: str) -> PromoCode:
        self._promo_codes.create(promo, created_by=actor)
        return promo

    def is_enrolled(self, member_id: str) -> bool:
        return self._members.get(member_id) is not None

    def member_by_phone(self, phone: str) -> str | None:
        return self._members.member_by_phone(phone)

    def find(self, member_id: str) -> Member | None:
        return self._members.get(member_id)

    def find_many(self, member_ids: Sequence[str]) -> dict[str, Member]:
        """The enrolled members among `member_ids`, read in as few calls as DynamoDB allows."""
        return self._members.many(member_ids)


# --- settings and profile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileInput:
    first_name: str
    last_name: str
    birth_date: date
    city: str


# --- email confirmation -------------------------------------------------------------------------------


# --- promo codes --------------------------------------------------------------------------------------


# --- the first purchase -------------------------------------------------------------------------------
