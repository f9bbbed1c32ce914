"""Smartphone certificates: bought with bonuses (one ledger transaction with the certificate and the SMS
that carries its code), listed masked, and redeemed once in the operator's stores."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cashback.certificates.repository import CertificateCodeModel, certificates
from cashback.certificates.rules import (
    AlreadyRedeemed,
    Certificate,
    CertificateStatus,
    GoalNotSmartphone,
    IdempotencyKeyReused,
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
from cashback.ledger.repository import ledger
from cashback.ledger.rules import Kind, Source, Spend, Transaction
from cashback.members.repository import members
from cashback.members.rules import Goal
from cashback.outbox.repository import Message, MessageKind, enqueue
from cashback.platform.errors import InvalidInput, NotFound
from cashback.platform.pagination import Page
from cashback.platform.web.identity import MemberIdentity

# Failed redemptions (unknown codes) allowed per window: per store, and over all stores together.
ATTEMPT_WINDOW = timedelta(minutes=10)
MAX_FAILURES_PER_STORE = 10
MAX_FAILURES_OVERALL = 1_000
# Development key of the local stack and the tests; a Lambda refuses to run with it (see code_key).
_DEVELOPMENT_KEY = b"local-certificate-code-key"
_KEY_MAX_AGE_SECONDS = 300
_key_cache: tuple[float, bytes] | None = None


class CodeKeyMissing(RuntimeError):
    pass


def code_key() -> bytes:
    """The HMAC key codes are derived and looked up with: Secrets Manager in AWS (cached for 5 minutes),
    `CERTIFICATE_CODE_SECRET` or the development key locally. Never rotated in place: every issued code
    depends on it (a rotation needs a key version on each certificate)."""
    global _key_cache
    if _key_cache is not None and time.monotonic() - _key_cache[0] < _KEY_MAX_AGE_SECONDS:
        return _key_cache[1]
    arn = os.environ.get("CERTIFICATE_CODE_SECRET_ARN")
    if arn:
        from aws_lambda_powertools.utilities import parameters  # boto3 only where the secret is read

        secret = parameters.get_secret(arn, max_age=_KEY_MAX_AGE_SECONDS)
        key = secret.encode() if isinstance(secret, str) else bytes(secret or b"")
    elif os.environ.get("CERTIFICATE_CODE_SECRET"):
        key = os.environ["CERTIFICATE_CODE_SECRET"].encode()
    elif os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda"):
        raise CodeKeyMissing("set CERTIFICATE_CODE_SECRET_ARN: a deployed function never uses the development key")
    else:
        key = _DEVELOPMENT_KEY
    _key_cache = (time.monotonic(), key)
    return key


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: Certificate
    code: str
    created: bool  # False: a retry of an order already served; the same certificate is returned


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def issue_certificate(
    identity: MemberIdentity, denomination: object, idempotency_key: str | None, *, now: datetime | None = None
) -> IssuedCertificate:
    """Spends `denomination` bonuses on a certificate, once per idempotency key."""
    now = _now(now)
    key = check_idempotency_key(idempotency_key)
    amount = check_denomination(denomination)
    member = members().require(identity.sub)
    operation = f"certificate:{key}"
    served = ledger().transaction(member.member_id, operation)
    if served is not None:
        return _served_again(member.member_id, key, amount, served)
    if member.goal is not Goal.SMARTPHONE:
        raise GoalNotSmartphone("certificates are for members whose goal is a smartphone")

    certificate_id = certificate_id_for(member.member_id, key)
    nonce = new_nonce()
    code = derive_code(code_key(), member.member_id, key, nonce)
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
    sms = Message(
        message_id=f"certificate-code:{certificate_id}",
        kind=MessageKind.SMS,
        to=member.phone,
        body={"template": "certificate_code", "code": code, "denomination": amount, "certificate_id": certificate_id},
        created_at=now,
    )
    normalised = normalise_code(code)
    assert normalised is not None  # a derived code is always well formed
    record = certificates().record(certificate, lookup_hash(code_key(), normalised))
    outcome = ledger().execute(member.member_id, spend, attachments=[record, enqueue(sms)])
    if not outcome.applied:  # a concurrent retry of the same order won: serve its certificate
        served = outcome.transaction or ledger().transaction(member.member_id, operation)
        if served is None:
            raise NotFound("the certificate order could not be read back; retry", code="certificate_not_found")
        return _served_again(member.member_id, key, amount, served)
    return IssuedCertificate(certificate, code, created=True)


def _served_again(member_id: str, key: str, amount: int, served: Transaction) -> IssuedCertificate:
    if served.amount != amount:
        raise IdempotencyKeyReused("this Idempotency-Key was used for another certificate order")
    certificate = certificates().get(member_id, served.created_at, served.source.id)
    if certificate is None:
        raise NotFound("the certificate of this order is not recorded", code="certificate_not_found")
    return IssuedCertificate(certificate, derive_code(code_key(), member_id, key, certificate.nonce), created=False)


def list_certificates(
    identity: MemberIdentity, *, limit: int | None = None, cursor: str | None = None
) -> Page[Certificate]:
    return certificates().of_member(identity.sub, limit=limit, cursor=cursor)


def _window(now: datetime) -> tuple[str, datetime]:
    minutes = int(ATTEMPT_WINDOW.total_seconds() // 60)
    start = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    return start.strftime("%Y%m%dT%H%M"), start + ATTEMPT_WINDOW


def redeem_certificate(
    code: str,
    *,
    store_id: str,
    order_id: str,
    price: str,
    item: str,
    operator: str,
    now: datetime | None = None,
) -> Redemption:
    """One redemption per certificate, for a smartphone. Unknown codes count against the store and
    overall; past the limits the store is locked out until the window ends."""
    now = _now(now)
    if item != "smartphone":
        raise InvalidInput("a certificate pays only for a smartphone", code="not_a_smartphone")
    paid = parse_amount(price)
    window, window_ends = _window(now)
    scopes = [f"store:{store_id}", "all"]
    failures = certificates().failed_attempts(scopes, window)
    if failures[scopes[0]] >= MAX_FAILURES_PER_STORE or failures["all"] >= MAX_FAILURES_OVERALL:
        raise TooManyAttempts("too many unknown codes; try again in a few minutes")

    normalised = normalise_code(code)
    found = certificates().by_code(lookup_hash(code_key(), normalised)) if normalised else None
    if found is None:
        certificates().count_failure(scopes, window, window_ends)
        raise NotFound("there is no certificate with this code", code="certificate_not_found")

    denomination = int(found.denomination)
    discount, forfeited = discount_for(denomination, paid)
    if found.status == CertificateStatus.REDEEMED.value:
        return _same_order_or_refused(found.certificate_id, store_id, order_id, found)
    redemption = Redemption(found.certificate_id, discount, forfeited, store_id, order_id)
    try:
        certificates().redeem(found, redemption, format_amount(paid), now, operator)
    except AlreadyRedeemed:
        again = certificates().by_code(found.pk.removeprefix("CERTCODE#"))
        return _same_order_or_refused(found.certificate_id, store_id, order_id, again)
    return redemption


def _same_order_or_refused(
    certificate_id: str, store_id: str, order_id: str, found: CertificateCodeModel | None
) -> Redemption:
    # A terminal that retries the redemption of its own order gets the same answer; anyone else is refused.
    if found is not None and found.store_id == store_id and found.order_id == order_id:
        return Redemption(certificate_id, int(found.discount or 0), int(found.forfeited or 0), store_id, order_id)
    raise AlreadyRedeemed("this certificate has already been redeemed")
