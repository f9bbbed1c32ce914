from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from cashback.members.rules import Goal, Language, Member


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
    language: Language = Field(description="The language of the member's SMS and emails: ru (default) or en.")
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
            language=member.language,
            created_at=member.created_at,
        )


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    city: str = Field(min_length=1, max_length=100)


class UpdateMeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal: Goal | None = None
    monthly_writeoff_limit: StrictInt | None = Field(default=None, ge=0, le=10_000_000)
    profile: ProfileIn | None = None
    language: Language | None = Field(default=None, description="ru or en: the language of the member's messages.")


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)


class EmailSent(BaseModel):
    email: str
    status: str = "code_sent"


class ConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=16)


class EmailConfirmed(BaseModel):
    email: str | None
    email_confirmed: bool
    bonus: int = Field(description="Bonuses this confirmation earned: 15 the first time, then 0.")


class PromoCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)


class PromoCodeApplied(BaseModel):
    code: str
    bonus: int
