from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from cashback.domain.members import Goal, Member


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=254)
    promo_code: str | None = Field(default=None, max_length=64)


class ProfileOut(BaseModel):
    first_name: str
    last_name: str
    birth_date: date
    city: str


class MemberOut(BaseModel):
    member_id: str
    phone: str
    subscriber: bool
    email: str | None
    email_confirmed: bool
    goal: Goal
    monthly_writeoff_limit: int | None
    profile: ProfileOut | None
    created_at: datetime

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        profile = member.profile
        return cls(
            member_id=member.member_id,
            phone=member.phone,
            subscriber=member.subscriber,
            email=member.email,
            email_confirmed=member.email_confirmed,
            goal=member.goal,
            monthly_writeoff_limit=member.monthly_writeoff_limit,
            profile=None if profile is None else ProfileOut(**profile.__dict__),
            created_at=member.created_at,
        )
