"""Environment variables as one validated model, read once per container."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    members_table: str = Field(alias="MEMBERS_TABLE", min_length=3)
    ledger_table: str = Field(alias="LEDGER_TABLE", min_length=3)
    outbox_table: str = Field(alias="OUTBOX_TABLE", min_length=3)
    claims_table: str = Field(alias="CLAIMS_TABLE", min_length=3, default="unset-claims")
    region: str = Field(alias="AWS_REGION", default="eu-central-1")
    # Comma-separated E.164 prefixes of the operator's own numbers.
    subscriber_ranges: str = Field(alias="SUBSCRIBER_RANGES", default="")
    # "tariff=50,store=50,content=30,wallet=1": the operator's own products' cashback rates, in percent.
    own_product_rates: str = Field(alias="OWN_PRODUCT_RATES", default="")

    @property
    def subscriber_prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.subscriber_ranges.split(",") if p.strip())


@lru_cache(maxsize=1)
def settings() -> Settings:
    import os

    return Settings.model_validate(dict(os.environ))
