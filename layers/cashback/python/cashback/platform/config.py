"""A function's environment as one validated model, read once per container by the composition root.

Every function is given only the variables it uses (template.yaml): a table or secret a function was not
given is reported by name when something asks for it, not as a confusing failure further down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class MissingSetting(RuntimeError):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    region: str = Field(alias="AWS_REGION", default="eu-central-1")
    stage: str = Field(alias="STAGE", default="dev")
    members_table: str = Field(alias="MEMBERS_TABLE", default="")
    ledger_table: str = Field(alias="LEDGER_TABLE", default="")
    outbox_table: str = Field(alias="OUTBOX_TABLE", default="")
    claims_table: str = Field(alias="CLAIMS_TABLE", default="")
    catalog_table: str = Field(alias="CATALOG_TABLE", default="")
    clicks_table: str = Field(alias="CLICKS_TABLE", default="")
    settlement_queue_url: str = Field(alias="SETTLEMENT_QUEUE_URL", default="")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", default="default")
    # Secrets Manager secrets; the local stack and the tests hand the composition root their own values.
    link_signing_secret_arn: str = Field(alias="LINK_SIGNING_SECRET_ARN", default="")
    postback_secrets_arn: str = Field(alias="POSTBACK_SECRETS_ARN", default="")
    certificate_code_secret_arn: str = Field(alias="CERTIFICATE_CODE_SECRET_ARN", default="")
    # Comma-separated E.164 prefixes of the operator's own numbers.
    subscriber_ranges: str = Field(alias="SUBSCRIBER_RANGES", default="")
    # "tariff=50,store=50,content=30,wallet=1": the operator's own products' cashback rates, in percent.
    own_product_rates: str = Field(alias="OWN_PRODUCT_RATES", default="")
    # Where links point: empty means "the host the request came to" (the API's own domain).
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", default="")
    sign_in_url: str = Field(alias="SIGN_IN_URL", default="https://cashback.example.com/sign-in")
    # How long a warm container serves the catalog (and the redirect a partner) before reading it again.
    catalog_cache_seconds: int = Field(alias="CATALOG_CACHE_SECONDS", default=60, ge=0, le=3600)
    # The member user pool, whose ID tokens the public routes check themselves (API Gateway does not).
    user_pool_id: str = Field(alias="USER_POOL_ID", default="")
    user_pool_client_id: str = Field(alias="USER_POOL_CLIENT_ID", default="")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))

    def table(self, variable: str) -> str:
        """The table named by `variable` (e.g. "LEDGER_TABLE"); refuses one this function was not given."""
        name: str = getattr(self, variable.lower())
        if len(name) < 3:
            raise MissingSetting(f"{variable} names no table: this function was not given it")
        return name

    @property
    def subscriber_prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.subscriber_ranges.split(",") if p.strip())
