from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from cashback.certificates.rules import Certificate, CertificateStatus, Redemption, mask


class CertificateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    denomination: StrictInt = Field(description="100, 500, 1000, 2000, 5000, 10000, 20000, ... 80000 bonuses.")


class CertificateOut(BaseModel):
    certificate_id: str
    denomination: int
    code: str = Field(description="In full only in the answer to the order (and its retries); masked in lists.")
    status: CertificateStatus
    created_at: datetime

    @classmethod
    def of(cls, certificate: Certificate, code: str | None = None) -> CertificateOut:
        return cls(
            certificate_id=certificate.certificate_id,
            denomination=certificate.denomination,
            code=code or mask(certificate.last_symbol),
            status=certificate.status,
            created_at=certificate.created_at,
        )


class CertificatePage(BaseModel):
    items: list[CertificateOut]
    next_cursor: str | None


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    store_id: str = Field(min_length=1, max_length=128)
    order_id: str = Field(min_length=1, max_length=128)
    price: str = Field(description='Roubles as a decimal string, "59990.00".', max_length=32)
    item: str = Field(min_length=1, max_length=64, description='Only "smartphone" may be paid with a certificate.')


class RedemptionOut(BaseModel):
    certificate_id: str
    discount: int = Field(description="Whole roubles: min(denomination, price rounded down).")
    forfeited: int = Field(description="The part of the denomination the price did not use: lost.")

    @classmethod
    def of(cls, redemption: Redemption) -> RedemptionOut:
        return cls(
            certificate_id=redemption.certificate_id, discount=redemption.discount, forfeited=redemption.forfeited
        )


class CodeSmsSent(BaseModel):
    certificate_id: str
    sent_to: str = Field(description="The member's number, masked: where the SMS goes.")
