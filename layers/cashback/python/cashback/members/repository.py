"""The member aggregate: the member record, the uniqueness record that keeps one member per phone, and
the member's pending email confirmation. Writes that go with a bonus are returned as ledger attachments,
so that the record and the bonus commit together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.ledger.repository import Attachment
from cashback.members.email_codes import RESEND_INTERVAL, PendingConfirmation, TooManyRequests
from cashback.members.rules import Goal, Language, Member, Profile
from cashback.platform import dynamodb as tables
from cashback.platform.errors import Conflict, NotFound


def _member_pk(member_id: str) -> str:
    return f"MEMBER#{member_id}"


PROFILE_SK = "PROFILE"
EMAIL_SK = "EMAIL_CONFIRMATION"


class MemberModel(Model):
    class Meta:
        table_name = "unbound-members"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    subscriber = BooleanAttribute(default=False)
    email = UnicodeAttribute(null=True)
    email_confirmed = BooleanAttribute(default=False)
    goal = UnicodeAttribute(default=Goal.PHONE_TOPUP.value)
    language = UnicodeAttribute(null=True)  # absent on members enrolled before languages: Russian
    monthly_writeoff_limit = NumberAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    birth_date = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    def to_domain(self) -> Member:
        profile = None
        if self.first_name and self.last_name and self.birth_date and self.city:
            profile = Profile(self.first_name, self.last_name, date.fromisoformat(self.birth_date), self.city)
        return Member(
            member_id=self.member_id,
            phone=self.phone,
            subscriber=bool(self.subscriber),
            created_at=self.created_at,
            email=self.email,
            email_confirmed=bool(self.email_confirmed),
            goal=Goal(self.goal),
            language=Language(self.language or Language.RU.value),
            monthly_writeoff_limit=None if self.monthly_writeoff_limit is None else int(self.monthly_writeoff_limit),
            profile=profile,
        )


class PhoneModel(Model):
    """`PHONE#<e164>` -> member id: the transaction that enrols a member claims the number too."""

    class Meta:
        table_name = "unbound-members"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "PHONE"
    member_id = UnicodeAttribute()


class EmailConfirmationModel(Model):
    class Meta:
        table_name = "unbound-members"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # EMAIL_SK
    email = UnicodeAttribute()
    nonce = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
    attempts = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # TTL: DynamoDB removes stale codes

    def to_domain(self) -> PendingConfirmation:
        return PendingConfirmation(self.email, self.nonce, self.sent_at, int(self.attempts))


class SubscriberModel(Model):
    """The operator's subscriber directory: an explicit row overrides the number ranges."""

    class Meta:
        table_name = "unbound-members"

    pk = UnicodeAttribute(hash_key=True)  # "SUBSCRIBER#<e164>"
    sk = UnicodeAttribute(range_key=True)  # "SUBSCRIBER"
    subscriber = BooleanAttribute()


MODELS: tuple[type[Model], ...] = (MemberModel, PhoneModel, EmailConfirmationModel, SubscriberModel)


class MemberRepository:
    def __init__(self, table_name: str, connection: Connection) -> None:
        self._table_name = table_name
        self._connection = connection
        tables.bind(MODELS, table_name)

    # --- the member -------------------------------------------------------------------------------

    def get(self, member_id: str) -> Member | None:
        try:
            return MemberModel.get(_member_pk(member_id), PROFILE_SK).to_domain()
        except DoesNotExist:
            return None

    def many(self, member_ids: Sequence[str]) -> dict[str, Member]:
        """The members that exist among `member_ids`, read together (a settlement batch's members)."""
        keys = [(_member_pk(member_id), PROFILE_SK) for member_id in member_ids]
        records = (
            MemberModel.from_raw_data(item) for item in tables.batch_get(self._connection, self._table_name, keys)
        )
        return {record.member_id: record.to_domain() for record in records}

    def require(self, member_id: str) -> Member:
        member = self.get(member_id)
        if member is None:
            raise NotFound("enrol first with POST /members", code="member_not_found")
        return member

    def member_by_phone(self, phone: str) -> str | None:
        try:
            return str(PhoneModel.get(f"PHONE#{phone}", "PHONE").member_id)
        except DoesNotExist:
            return None

    def enrol(self, member: Member) -> tuple[Member, bool]:
        """Stores a new member; an existing one is returned as it is (`created` False)."""
        record = MemberModel(
            _member_pk(member.member_id),
            PROFILE_SK,
            member_id=member.member_id,
            phone=member.phone,
            subscriber=member.subscriber,
            email=member.email,
            email_confirmed=member.email_confirmed,
            goal=member.goal.value,
            language=member.language.value,
            monthly_writeoff_limit=member.monthly_writeoff_limit,
            created_at=member.created_at,
        )
        claim = PhoneModel(f"PHONE#{member.phone}", "PHONE", member_id=member.member_id)
        try:
            with TransactWrite(connection=self._connection) as write:
                write.save(record, condition=MemberModel.pk.does_not_exist())
                write.save(claim, condition=PhoneModel.pk.does_not_exist() | (PhoneModel.member_id == member.member_id))
        except TransactWriteError as error:
            existing = self.get(member.member_id)
            if existing is not None:
                return existing, False
            raise Conflict("this phone number belongs to another member", code="phone_taken") from error
        return member, True

    def update(
        self,
        member_id: str,
        *,
        goal: Goal | None = None,
        limit: int | None = None,
        clear_limit: bool = False,
        profile: Profile | None = None,
        language: Language | None = None,
    ) -> Attachment | None:
        """The change of a member's settings, to commit alone (`apply`) or with a bonus (as an attachment);
        None when nothing changes."""
        actions: list[Action] = []
        if goal is not None:
            actions.append(MemberModel.goal.set(goal.value))
        if language is not None:
            actions.append(MemberModel.language.set(language.value))
        if clear_limit:
            actions.append(MemberModel.monthly_writeoff_limit.remove())
        elif limit is not None:
            actions.append(MemberModel.monthly_writeoff_limit.set(limit))
        if profile is not None:
            actions += [
                MemberModel.first_name.set(profile.first_name),
                MemberModel.last_name.set(profile.last_name),
                MemberModel.birth_date.set(profile.birth_date.isoformat()),
                MemberModel.city.set(profile.city),
            ]

        if not actions:
            return None

        def attach(write: TransactWrite) -> None:
            write.update(MemberModel(_member_pk(member_id), PROFILE_SK), actions, condition=MemberModel.pk.exists())

        return attach

    def apply(self, *attachments: Attachment) -> None:
        """Commits attachments on their own, when no bonus goes with them."""
        if attachments:
            with TransactWrite(connection=self._connection) as write:
                for attach in attachments:
                    attach(write)

    # --- email confirmation -----------------------------------------------------------------------

    def pending_confirmation(self, member_id: str) -> PendingConfirmation | None:
        try:
            return EmailConfirmationModel.get(_member_pk(member_id), EMAIL_SK, consistent_read=True).to_domain()
        except DoesNotExist:
            return None

    def start_confirmation(self, member_id: str, pending: PendingConfirmation, *also: Attachment) -> None:
        """Stores the new code (refused within a minute of the last one) and the member's new address."""
        record = EmailConfirmationModel(
            _member_pk(member_id),
            EMAIL_SK,
            email=pending.email,
            nonce=pending.nonce,
            sent_at=pending.sent_at,
            attempts=0,
            expires_at=int(pending.expires_at.timestamp()),
        )
        resend_after = pending.sent_at - RESEND_INTERVAL
        member_update: list[Action] = [MemberModel.email.set(pending.email), MemberModel.email_confirmed.set(False)]
        try:
            with TransactWrite(connection=self._connection) as write:
                write.save(
                    record,
                    condition=EmailConfirmationModel.pk.does_not_exist()
                    | (EmailConfirmationModel.sent_at <= resend_after),
                )
                write.update(
                    MemberModel(_member_pk(member_id), PROFILE_SK), member_update, condition=MemberModel.pk.exists()
                )
                for attach in also:
                    attach(write)
        except TransactWriteError as error:
            raise TooManyRequests("a code was sent less than a minute ago; check your inbox") from error

    def record_wrong_code(self, member_id: str, attempts_seen: int) -> None:
        # Conditional on the count read: concurrent guesses cannot share one attempt.
        try:
            EmailConfirmationModel(_member_pk(member_id), EMAIL_SK).update(
                actions=[EmailConfirmationModel.attempts.add(1)],
                condition=EmailConfirmationModel.attempts == attempts_seen,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise  # a lost race counts as the attempt it raced with; anything else is real

    def confirm_email(self, member_id: str, pending: PendingConfirmation) -> Attachment:
        def attach(write: TransactWrite) -> None:
            confirmed: list[Action] = [MemberModel.email.set(pending.email), MemberModel.email_confirmed.set(True)]
            write.update(MemberModel(_member_pk(member_id), PROFILE_SK), confirmed, condition=MemberModel.pk.exists())
            write.delete(
                EmailConfirmationModel(_member_pk(member_id), EMAIL_SK),
                condition=EmailConfirmationModel.nonce == pending.nonce,
            )

        return attach

    # --- the subscriber directory -----------------------------------------------------------------

    def directory_entry(self, phone: str) -> bool | None:
        try:
            return bool(SubscriberModel.get(f"SUBSCRIBER#{phone}", "SUBSCRIBER").subscriber)
        except DoesNotExist:
            return None

    def set_directory_entry(self, phone: str, subscriber: bool) -> None:
        SubscriberModel(f"SUBSCRIBER#{phone}", "SUBSCRIBER", subscriber=subscriber).save()
