"""Enrolment and the member's own record."""

from __future__ import annotations

from datetime import UTC, datetime

from cashback.domain.errors import NotFound
from cashback.domain.members import Member, normalise_email, normalise_phone
from cashback.store.members import members
from cashback.web.identity import MemberIdentity


def enrol(identity: MemberIdentity, email: str | None = None, *, now: datetime | None = None) -> tuple[Member, bool]:
    """Enrols the caller; a second enrolment returns the member as they are (`created` False)."""
    existing = members().get(identity.sub)
    if existing is not None:
        return existing, False
    member = Member(
        member_id=identity.sub,
        phone=normalise_phone(identity.phone),
        subscriber=False,
        created_at=now or datetime.now(UTC),
        email=normalise_email(email) if email else None,
    )
    return members().enrol(member)


def me(identity: MemberIdentity) -> Member:
    member = members().get(identity.sub)
    if member is None:
        raise NotFound("enrol first with POST /members", code="member_not_found")
    return member
