"""Certificates in the ledger table, next to the balance that pays for them (one transaction, invariant 4).

- `MEMBER#<id>` / `CERTIFICATE#<created_at>#<certificate_id>`: the member's certificate (newest first by
  sort key); it carries the nonce the code is derived from and the last symbol for the masked code.
- `CERTCODE#<lookup hash>` / `CERTCODE`: where a redemption finds the certificate by its code, and the
  one place its redemption is recorded (a conditional update: once).
- `CERTSMS#<certificate_id>` / `SMS`: what the certificate's SMS is made from (the code's reference, not
  the code) and how often the member asked for it again; the member's resend finds the certificate here.
- `CERTORDER#<store_id>` / `ORDER#<order_id>`: the one certificate redeemed on a store order, written in
  the redemption's transaction on condition that it does not exist (one certificate per order, invariant
  held by the database, not by a read before the write). Store and order ids stay in separate key
  attributes, so no choice of either can collide with another pair.
- `REDEEM_FAILS#<scope>#<window>` / `COUNT`: failed redemption attempts per terminal and overall in a ten
  minute window, expiring by TTL (`expires_at`).
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from cashback.certificates.rules import (
    AlreadyRedeemed,
    Certificate,
    CertificateStatus,
    CodeRecord,
    CodeSms,
    OrderAlreadyDiscounted,
    Redemption,
    TooManyResends,
)
from cashback.ledger.repository import Attachment, partition, retryable
from cashback.platform import dynamodb as tables
from cashback.platform.pagination import Page, check_limit, decode_cursor, encode_cursor

CERTIFICATE_PREFIX = "CERTIFICATE#"
CODE_SK = "CERTCODE"
ORDER_PREFIX = "CERTORDER#"
FAILS_SK = "COUNT"
SMS_SK = "SMS"


def certificate_sk(created_at: datetime, certificate_id: str) -> str:
    return f"{CERTIFICATE_PREFIX}{created_at.isoformat()}#{certificate_id}"


def _issued_at(sk: str) -> datetime:
    created_at, _, _ = sk.removeprefix(CERTIFICATE_PREFIX).rpartition("#")
    return datetime.fromisoformat(created_at)


class CertificateModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    certificate_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    denomination = NumberAttribute()
    status = UnicodeAttribute()
    last_symbol = UnicodeAttribute()
    nonce = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    redeemed_at = UTCDateTimeAttribute(null=True)

    def to_domain(self) -> Certificate:
        return Certificate(
            certificate_id=self.certificate_id,
            member_id=self.member_id,
            denomination=int(self.denomination),
            status=CertificateStatus(self.status),
            created_at=self.created_at,
            last_symbol=self.last_symbol,
            nonce=self.nonce,
        )


class CertificateCodeModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    certificate_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    member_sk = UnicodeAttribute()
    denomination = NumberAttribute()
    status = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    price = UnicodeAttribute(null=True)
    discount = NumberAttribute(null=True)
    forfeited = NumberAttribute(null=True)
    redeemed_at = UTCDateTimeAttribute(null=True)
    redeemed_by = UnicodeAttribute(null=True)


class RedeemedOrderModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)  # "CERTORDER#<store_id>"
    sk = UnicodeAttribute(range_key=True)  # "ORDER#<order_id>"
    certificate_id = UnicodeAttribute()
    redeemed_at = UTCDateTimeAttribute()


class FailedAttemptsModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    failures = NumberAttribute(default=0)
    expires_at = NumberAttribute()


class CodeSmsModel(Model):
    class Meta:
        table_name = "unbound-ledger"

    pk = UnicodeAttribute(hash_key=True)  # "CERTSMS#<certificate_id>"
    sk = UnicodeAttribute(range_key=True)  # SMS_SK
    certificate_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    member_sk = UnicodeAttribute()
    denomination = NumberAttribute()
    order_key = UnicodeAttribute()
    nonce = UnicodeAttribute()
    last_sent_at = UTCDateTimeAttribute()
    resends = NumberAttribute(default=0)
    day = UnicodeAttribute(default="")
    resends_that_day = NumberAttribute(default=0)

    def to_domain(self) -> CodeSms:
        return CodeSms(
            certificate_id=self.certificate_id,
            member_id=self.member_id,
            issued_at=_issued_at(self.member_sk),
            denomination=int(self.denomination),
            order_key=self.order_key,
            nonce=self.nonce,
            last_sent_at=self.last_sent_at,
            resends=int(self.resends),
            day=self.day,
            resends_that_day=int(self.resends_that_day),
        )


def _sms_model(sms: CodeSms) -> CodeSmsModel:
    return CodeSmsModel(
        f"CERTSMS#{sms.certificate_id}",
        SMS_SK,
        certificate_id=sms.certificate_id,
        member_id=sms.member_id,
        member_sk=certificate_sk(sms.issued_at, sms.certificate_id),
        denomination=sms.denomination,
        order_key=sms.order_key,
        nonce=sms.nonce,
        last_sent_at=sms.last_sent_at,
        resends=sms.resends,
        day=sms.day,
        resends_that_day=sms.resends_that_day,
    )


MODELS: tuple[type[Model], ...] = (
    CertificateModel,
    CertificateCodeModel,
    RedeemedOrderModel,
    FailedAttemptsModel,
    CodeSmsModel,
)


class CertificateRepository:
    def __init__(self, table_name: str, connection: Connection) -> None:
        self._table_name = table_name
        self._connection = connection
        tables.bind(MODELS, table_name)

    # --- issuing ------------------------------------------------------------------------------------

    def record(self, certificate: Certificate, lookup_hash: str, sms: CodeSms) -> Attachment:
        """The certificate, its code lookup and its SMS record, as an attachment of the ledger spend that
        pays for it."""
        sk = certificate_sk(certificate.created_at, certificate.certificate_id)
        owned = CertificateModel(
            partition(certificate.member_id),
            sk,
            certificate_id=certificate.certificate_id,
            member_id=certificate.member_id,
            denomination=certificate.denomination,
            status=certificate.status.value,
            last_symbol=certificate.last_symbol,
            nonce=certificate.nonce,
            created_at=certificate.created_at,
        )
        lookup = CertificateCodeModel(
            f"{CODE_SK}#{lookup_hash}",
            CODE_SK,
            certificate_id=certificate.certificate_id,
            member_id=certificate.member_id,
            member_sk=sk,
            denomination=certificate.denomination,
            status=certificate.status.value,
        )

        def attach(write: TransactWrite) -> None:
            write.save(owned, condition=CertificateModel.sk.does_not_exist())
            write.save(lookup, condition=CertificateCodeModel.pk.does_not_exist())
            write.save(_sms_model(sms), condition=CodeSmsModel.pk.does_not_exist())

        return attach

    def code_sms(self, certificate_id: str) -> CodeSms | None:
        try:
            return CodeSmsModel.get(f"CERTSMS#{certificate_id}", SMS_SK, consistent_read=True).to_domain()
        except DoesNotExist:
            return None

    def count_resend(self, before: CodeSms, after: CodeSms, message: Attachment) -> None:
        """The resend's count and its SMS in the outbox, together; conditioned on the count read, so that
        two requests at once cannot both pass the limit."""
        try:
            with TransactWrite(connection=self._connection) as write:
                write.save(_sms_model(after), condition=CodeSmsModel.resends == before.resends)
                message(write)
        except TransactWriteError as error:
            raise TooManyResends("the code is being sent already", retry_after=60) from error

    def get(self, member_id: str, created_at: datetime, certificate_id: str) -> Certificate | None:
        try:
            sk = certificate_sk(created_at, certificate_id)
            return CertificateModel.get(partition(member_id), sk, consistent_read=True).to_domain()
        except DoesNotExist:
            return None

    def of_member(self, member_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page[Certificate]:
        limit = check_limit(limit)
        pk = partition(member_id)
        position = decode_cursor(cursor, ("sk",))
        if position is not None and not position["sk"].startswith(CERTIFICATE_PREFIX):
            position = None  # a cursor from another listing: start again rather than leak other records
        query = CertificateModel.query(
            pk,
            CertificateModel.sk.startswith(CERTIFICATE_PREFIX),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key={"pk": {"S": pk}, "sk": {"S": position["sk"]}} if position else None,
        )
        items = [model.to_domain() for model in query]
        last = query.last_evaluated_key
        return Page(items, encode_cursor({"sk": last["sk"]["S"]}) if last else None)

    # --- redeeming ----------------------------------------------------------------------------------

    def by_code(self, lookup_hash: str) -> CodeRecord | None:
        try:
            found = CertificateCodeModel.get(f"{CODE_SK}#{lookup_hash}", CODE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        redemption = None
        if found.store_id is not None and found.order_id is not None:
            discount, forfeited = int(found.discount or 0), int(found.forfeited or 0)
            redemption = Redemption(found.certificate_id, discount, forfeited, found.store_id, found.order_id)
        return CodeRecord(
            lookup_hash=lookup_hash,
            certificate_id=found.certificate_id,
            member_id=found.member_id,
            issued_at=_issued_at(found.member_sk),
            denomination=int(found.denomination),
            status=CertificateStatus(found.status),
            redemption=redemption,
        )

    def redeem(
        self, found: CodeRecord, redemption: Redemption, price: str, at: datetime, by: str, *, attempts: int = 5
    ) -> None:
        """Marks the certificate redeemed, once (the lookup record's status is the condition), and claims its
        store order, once (the order record must not exist), in one transaction.

        Raises AlreadyRedeemed when the certificate was redeemed first (checked before the order: a
        terminal's concurrent retry of its own redemption is then served its answer), OrderAlreadyDiscounted
        when another certificate holds the order. A transaction cancelled only by a concurrent one is
        retried: two terminals racing on one order must not both be turned away."""
        for attempt in range(attempts):
            try:
                self._commit_redemption(found, redemption, price, at, by)
            except TransactWriteError as error:
                codes = [reason.code if reason else "None" for reason in error.cancellation_reasons or []]
                # pynamodb sends puts before updates: 0 the order record, 1 the code lookup, 2 the certificate.
                order, lookup, certificate = (codes + ["None"] * 3)[:3]
                if "ConditionalCheckFailed" in (lookup, certificate):
                    raise AlreadyRedeemed("this certificate has already been redeemed") from error
                if order == "ConditionalCheckFailed":
                    raise OrderAlreadyDiscounted("another certificate has been redeemed on this store order") from error
                if not retryable(error) or attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # not money
                continue
            return

    def _commit_redemption(self, found: CodeRecord, redemption: Redemption, price: str, at: datetime, by: str) -> None:
        redeemed = CertificateStatus.REDEEMED.value
        with TransactWrite(connection=self._connection) as write:
            write.update(
                CertificateCodeModel(f"{CODE_SK}#{found.lookup_hash}", CODE_SK),
                [
                    CertificateCodeModel.status.set(redeemed),
                    CertificateCodeModel.store_id.set(redemption.store_id),
                    CertificateCodeModel.order_id.set(redemption.order_id),
                    CertificateCodeModel.price.set(price),
                    CertificateCodeModel.discount.set(redemption.discount),
                    CertificateCodeModel.forfeited.set(redemption.forfeited),
                    CertificateCodeModel.redeemed_at.set(at),
                    CertificateCodeModel.redeemed_by.set(by),
                ],
                condition=CertificateCodeModel.status == CertificateStatus.ISSUED.value,
            )
            write.update(
                CertificateModel(partition(found.member_id), certificate_sk(found.issued_at, found.certificate_id)),
                [CertificateModel.status.set(redeemed), CertificateModel.redeemed_at.set(at)],
                condition=CertificateModel.sk.exists(),
            )
            write.save(
                RedeemedOrderModel(
                    f"{ORDER_PREFIX}{redemption.store_id}",
                    f"ORDER#{redemption.order_id}",
                    certificate_id=found.certificate_id,
                    redeemed_at=at,
                ),
                condition=RedeemedOrderModel.pk.does_not_exist(),
            )

    # --- brute force --------------------------------------------------------------------------------

    def failed_attempts(self, scopes: list[str], window: str) -> dict[str, int]:
        counts = {}
        for scope in scopes:
            try:
                counts[scope] = int(FailedAttemptsModel.get(f"REDEEM_FAILS#{scope}#{window}", FAILS_SK).failures)
            except DoesNotExist:
                counts[scope] = 0
        return counts

    def count_failure(self, scopes: list[str], window: str, expires: datetime) -> None:
        for scope in scopes:
            FailedAttemptsModel(f"REDEEM_FAILS#{scope}#{window}", FAILS_SK).update(
                actions=[
                    FailedAttemptsModel.failures.add(1),
                    FailedAttemptsModel.expires_at.set(int((expires + timedelta(minutes=1)).timestamp())),
                ]
            )
