"""Smartphone certificates: bought with bonuses (one ledger transaction with the certificate and the SMS
that carries its code), listed masked, and redeemed once in the operator's stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cashback.certificates.repository import CertificateRepository
from cashback.certificates.rules import (
    AlreadyRedeemed,
    Certificate,
    CertificateRedeemed,
    CertificateStatus,
    CodeRecord,
    CodeSms,
    GoalNotSmartphone,
    IdempotencyKeyReused,
    NotThisStore,
    Redemption,
    TooManyAttempts,
    certificate_id_for,
    check_denomination,
    check_idempotency_key,
    derive_code,
    discount_for,
    lookup_hash,
    new_nonce,
    normalise_code,
)
from cashback.ledger.money import format_amount, parse_amount
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Kind, Source, Spend, Transaction
from cashback.members.rules import Goal, mask_phone
from cashback.members.service import MemberService
from cashback.outbox.repository import Message, MessageKind, OutboxRepository
from cashback.platform.errors import InvalidInput, NotFound
from cashback.platform.pagination import Page

# Failed redemptions (unknown codes) allowed per window: per terminal, and over all terminals together.
ATTEMPT_WINDOW = timedelta(minutes=10)
MAX_FAILURES_PER_TERMINAL = 10
MAX_FAILURES_OVERALL = 1_000


@dataclass(frozen=True)
class ResentSms:
    certificate_id: str
    sent_to: str  # masked


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: Certificate
    code: str
    created: bool  # False: a retry of an order already served; the same certificate is returned


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


class CertificateService:
    def __init__(
        self,
        certificates: CertificateRepository,
        ledger: Ledger,
        outbox: OutboxRepository,
        *,
        members: MemberService,
        code_key: Callable[[], bytes],
    ) -> None:
        self._certificates = certificates
        self._ledger = ledger
        self._outbox = outbox
        self._members = members
        # The HMAC key codes are derived and looked up with. Never rotated in place: every issued code
        # depends on it (a rotation needs a key version on each certificate).
        self._code_key = code_key

    def issue_certificate(
        self, member_id: str, denomination: object, idempotency_key: str | None, *, now: datetime | None = None
    ) -> IssuedCertificate:
        """Spends `denomination` bonuses on a certificate, once per idempotency key."""
        now = _now(now)
        key = check_idempotency_key(idempotency_key)
        amount = check_denomination(denomination)
        member = self._members.me(member_id)
        operation = f"certificate:{key}"
        served = self._ledger.transaction(member.member_id, operation)
        if served is not None:
            return self._served_again(member.member_id, key, amount, served)
        if member.goal is not Goal.SMARTPHONE:
            raise GoalNotSmartphone("certificates are for members whose goal is a smartphone")

        certificate_id = certificate_id_for(member.member_id, key)
        nonce = new_nonce()
        code = derive_code(self._code_key(), member.member_id, key, nonce)
        certificate = Certificate(
            certificate_id=certificate_id,
            member_id=member.member_id,
            denomination=amount,
            status=CertificateStatus.ISSUED,
            created_at=now,
            last_symbol=code[-1],
            nonce=nonce,
        )
        spend = Spend(
            operation_id=operation,
            transaction_id=operation,
            reason=f"Smartphone certificate of {amount:,} roubles".replace(",", " "),
            at=now,
            kind=Kind.CERTIFICATE,
            amount=amount,
            source=Source("certificate", certificate_id),
            details={"certificate_id": certificate_id},
        )
        # The SMS carries the code's reference, never the code: the notifications function derives it.
        code_sms = CodeSms(certificate_id, member.member_id, now, amount, key, nonce, last_sent_at=now)
        sms = Message(
            message_id=f"certificate-code:{certificate_id}",
            kind=MessageKind.SMS,
            to=member.phone,
            body=code_sms.body(member.language.value),
            created_at=now,
        )
        normalised = normalise_code(code)
        assert normalised is not None  # a derived code is always well formed
        record = self._certificates.record(certificate, lookup_hash(self._code_key(), normalised), code_sms)
        outcome = self._ledger.execute(member.member_id, spend, attachments=[record, self._outbox.enqueue(sms)])
        if not outcome.applied:  # a concurrent retry of the same order won: serve its certificate
            served = outcome.transaction or self._ledger.transaction(member.member_id, operation)
            if served is None:
                raise NotFound("the certificate order could not be read back; retry", code="certificate_not_found")
            return self._served_again(member.member_id, key, amount, served)
        return IssuedCertificate(certificate, code, created=True)

    def _served_again(self, member_id: str, key: str, amount: int, served: Transaction) -> IssuedCertificate:
        if served.amount != amount:
            raise IdempotencyKeyReused("this Idempotency-Key was used for another certificate order")
        certificate = self._certificates.get(member_id, served.created_at, served.source.id)
        if certificate is None:
            raise NotFound("the certificate of this order is not recorded", code="certificate_not_found")
        return IssuedCertificate(
            certificate, derive_code(self._code_key(), member_id, key, certificate.nonce), created=False
        )

    def resend_code(self, member_id: str, certificate_id: str, *, now: datetime | None = None) -> ResentSms:
        """The certificate's SMS again, to the member's number (rate-limited); the code is derived by the
        sender from the same reference, never stored."""
        now = _now(now)
        sms = self._certificates.code_sms(certificate_id)
        if sms is None or sms.member_id != member_id:  # someone else's certificate is no business of theirs
            raise NotFound("you have no certificate with this id", code="certificate_not_found")
        certificate = self._certificates.get(member_id, sms.issued_at, certificate_id)
        if certificate is None:
            raise NotFound("you have no certificate with this id", code="certificate_not_found")
        if certificate.status is CertificateStatus.REDEEMED:
            raise CertificateRedeemed("this certificate has been redeemed: its code is of no use any more")
        member = self._members.me(member_id)
        after = sms.resent(now)
        message = Message(
            message_id=f"certificate-code:{certificate_id}:{after.resends}",
            kind=MessageKind.SMS,
            to=member.phone,
            body=sms.body(member.language.value),
            created_at=now,
        )
        self._certificates.count_resend(sms, after, self._outbox.enqueue(message))
        return ResentSms(certificate_id, mask_phone(member.phone))

    def list_certificates(
        self, member_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Certificate]:
        return self._certificates.of_member(member_id, limit=limit, cursor=cursor)

    def redeem_certificate(
        self,
        code: str,
        *,
        store_id: str,
        order_id: str,
        price: str,
        item: str,
        operator: str,
        operator_store_id: str,
        now: datetime | None = None,
    ) -> Redemption:
        """One redemption per certificate, for a smartphone, by a terminal of the store it names (`operator`
        is the terminal's identity, `operator_store_id` the store that identity is bound to). Unknown codes
        count against the terminal and overall; past the limits the terminal is locked out until the
        window ends."""
        now = _now(now)
        if store_id != operator_store_id:
            raise NotThisStore("a terminal redeems certificates for its own store only")
        if item != "smartphone":
            raise InvalidInput("a certificate pays only for a smartphone", code="not_a_smartphone")
        paid = parse_amount(price)
        window, window_ends = _window(now)
        scopes = [f"terminal:{operator}", "all"]
        failures = self._certificates.failed_attempts(scopes, window)
        if failures[scopes[0]] >= MAX_FAILURES_PER_TERMINAL or failures["all"] >= MAX_FAILURES_OVERALL:
            raise TooManyAttempts("too many unknown codes; try again in a few minutes")

        normalised = normalise_code(code)
        found = self._certificates.by_code(lookup_hash(self._code_key(), normalised)) if normalised else None
        if found is None:
            self._certificates.count_failure(scopes, window, window_ends)
            raise NotFound("there is no certificate with this code", code="certificate_not_found")

        discount, forfeited = discount_for(found.denomination, paid)
        if found.status is CertificateStatus.REDEEMED:
            return self._same_order_or_refused(store_id, order_id, found)
        redemption = Redemption(found.certificate_id, discount, forfeited, store_id, order_id)
        try:
            self._certificates.redeem(found, redemption, format_amount(paid), now, operator)
        except AlreadyRedeemed:
            return self._same_order_or_refused(store_id, order_id, self._certificates.by_code(found.lookup_hash))
        return redemption

    def _same_order_or_refused(self, store_id: str, order_id: str, found: CodeRecord | None) -> Redemption:
        # A terminal that retries the redemption of its own order gets the same answer; anyone else is refused.
        if found is not None and found.redemption is not None and found.same_order(store_id, order_id):
            return found.redemption
        raise AlreadyRedeemed("this certificate has already been redeemed")


def _window(now: datetime) -> tuple[str, datetime]:
    minutes = int(ATTEMPT_WINDOW.total_seconds() // 60)
    start = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    return start.strftime("%Y%m%dT%H%M"), start + ATTEMPT_WINDOW
