"""The member aggregate: the member record, and a uniqueness record that keeps one member per phone."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.config import settings
from cashback.domain.errors import Conflict
from cashback.domain.members import Goal, Member
from cashback.store import tables


def _member_pk(member_id: str) -> str:
    return f"MEMBER#{member_id}"


class MemberModel(Model):
    class Meta:
        table_name = "unbound-members"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "PROFILE"
    member_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    subscriber = BooleanAttribute(default=False)
    email = UnicodeAttribute(null=True)
    email_confirmed = BooleanAttribute(default=False)
    goal = UnicodeAttribute(default=Goal.PHONE_TOPUP.value)
    monthly_writeoff_limit = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    def to_domain(self) -> Member:
        return Member(
            member_id=self.member_id,
            phone=self.phone,
            subscriber=bool(self.subscriber),
            created_at=self.created_at,
            email=self.email,
            email_confirmed=bool(self.email_confirmed),
            goal=Goal(self.goal),
            monthly_writeoff_limit=None if self.monthly_writeoff_limit is None else int(self.monthly_writeoff_limit),
        )


class PhoneModel(Model):
    """`PHONE#<e164>` -> member id: the transaction that enrols a member claims the number too."""

    class Meta:
        table_name = "unbound-members"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "PHONE"
    member_id = UnicodeAttribute()


MODELS: tuple[type[Model], ...] = (MemberModel, PhoneModel)


class Members:
    def __init__(self) -> None:
        tables.bind(MODELS, settings().members_table)

    def get(self, member_id: str) -> Member | None:
        try:
            return MemberModel.get(_member_pk(member_id), "PROFILE").to_domain()
        except DoesNotExist:
            return None

    def enrol(self, member: Member) -> tuple[Member, bool]:
        """Stores a new member; an existing one is returned as it is (`created` False)."""
        record = MemberModel(
            _member_pk(member.member_id),
            "PROFILE",
            member_id=member.member_id,
            phone=member.phone,
            subscriber=member.subscriber,
            email=member.email,
            email_confirmed=member.email_confirmed,
            goal=member.goal.value,
            monthly_writeoff_limit=member.monthly_writeoff_limit,
            created_at=member.created_at,
        )
        claim = PhoneModel(f"PHONE#{member.phone}", "PHONE", member_id=member.member_id)
        try:
            with TransactWrite(connection=tables.connection()) as write:
                write.save(record, condition=MemberModel.pk.does_not_exist())
                write.save(claim, condition=PhoneModel.pk.does_not_exist() | (PhoneModel.member_id == member.member_id))
        except TransactWriteError as error:
            existing = self.get(member.member_id)
            if existing is not None:
                return existing, False
            raise Conflict("this phone number belongs to another member", code="phone_taken") from error
        return member, True


@lru_cache(maxsize=1)
def members() -> Members:
    return Members()
