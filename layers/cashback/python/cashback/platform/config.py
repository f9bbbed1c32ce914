"""A function's environment as one validated model, read once per container by the composition root.

Every function is given only the variables it uses (template.yaml): a table or secret a function was not
given is reported by name when something asks for it, not as a confusing failure further down.

A frozen dataclass rather than a pydantic model: every handler builds one at import, and functions that
parse no request body (the outbox relay, the settlement worker) would otherwise import pydantic for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any


class MissingSetting(RuntimeError):
    pass


class InvalidSetting(ValueError):
    pass


def _variable(name: str, default: Any = "", parse: Callable[[str], Any] = str) -> Any:
    return field(default=default, metadata={"variable": name, "parse": parse})


def _seconds_up_to_an_hour(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 3600:
        raise InvalidSetting(f"CATALOG_CACHE_SECONDS is whole seconds from 0 to 3600, not {text!r}")
    return int(text)


def _whole_roubles(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 1_000_000:
        raise InvalidSetting(f"FIRST_PURCHASE_MIN_ORDER is whole roubles up to 1,000,000, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    region: str = _variable("AWS_REGION", "eu-central-1")
    stage: str = _variable("STAGE", "dev")
    members_table: str = _variable("MEMBERS_TABLE")
    ledger_table: str = _variable("LEDGER_TABLE")
    outbox_table: str = _variable("OUTBOX_TABLE")
    claims_table: str = _variable("CLAIMS_TABLE")
    catalog_table: str = _variable("CATALOG_TABLE")
    clicks_table: str = _variable("CLICKS_TABLE")
    reconciliations_table: str = _variable("RECONCILIATIONS_TABLE")
    rates_table: str = _variable("RATES_TABLE")  # the CBR's official rates, by currency and day
    settlement_queue_url: str = _variable("SETTLEMENT_QUEUE_URL")
    event_bus_name: str = _variable("EVENT_BUS_NAME", "default")
    receipts_bucket: str = _variable("RECEIPTS_BUCKET")  # members' receipts for their claims (S3)
    # Secrets Manager secrets; the local stack and the tests hand the composition root their own values.
    link_signing_secret_arn: str = _variable("LINK_SIGNING_SECRET_ARN")
    postback_secrets_arn: str = _variable("POSTBACK_SECRETS_ARN")
    certificate_code_secret_arn: str = _variable("CERTIFICATE_CODE_SECRET_ARN")
    email_code_secret_arn: str = _variable("EMAIL_CODE_SECRET_ARN")
    # Admitad's publisher API (statistics, lost orders): its base URL, and its OAuth client credentials,
    # JSON {"client_id", "client_secret"}.
    admitad_api_url: str = _variable("ADMITAD_API_URL", "https://api.admitad.com/")
    admitad_api_secret_arn: str = _variable("ADMITAD_API_SECRET_ARN")
    # The programme's site at Admitad (its "ad space" id): lost orders are filed for it.
    admitad_website_id: str = _variable("ADMITAD_WEBSITE_ID")
    # Messages: the SES identity emails come from, and the sender id SMS show where the country allows one.
    email_sender_address: str = _variable("EMAIL_SENDER_ADDRESS")
    sms_sender_id: str = _variable("SMS_SENDER_ID")
    # Comma-separated E.164 prefixes of the operator's own numbers.
    subscriber_ranges: str = _variable("SUBSCRIBER_RANGES")
    # "tariff=50,store=50,content=30,wallet=1": the operator's own products' cashback rates, in percent.
    own_product_rates: str = _variable("OWN_PRODUCT_RATES")
    # Where links point: empty means "the host the request came to" (the API's own domain).
    public_base_url: str = _variable("PUBLIC_BASE_URL")
    sign_in_url: str = _variable("SIGN_IN_URL", "https://cashback.example.com/sign-in")
    # How long a warm container serves the catalog (and the redirect a partner) before reading it again.
    catalog_cache_seconds: int = _variable("CATALOG_CACHE_SECONDS", 60, _seconds_up_to_an_hour)
    # PRODUCT.md: the first-purchase bonus needs a conversion of at least this many roubles (configurable).
    first_purchase_min_order: int = _variable("FIRST_PURCHASE_MIN_ORDER", 500, _whole_roubles)
    # The member user pool, whose ID tokens the public routes check themselves (API Gateway does not).
    user_pool_id: str = _variable("USER_POOL_ID")
    user_pool_client_id: str = _variable("USER_POOL_CLIENT_ID")
    # The IAM roles admin callers and store terminals assume: handlers accept each only on its own routes.
    admin_caller_role: str = _variable("ADMIN_CALLER_ROLE")
    pos_caller_role: str = _variable("POS_CALLER_ROLE")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        given = {
            f.name: f.metadata["parse"](source[f.metadata["variable"]])
            for f in fields(cls)
            if f.metadata["variable"] in source
        }
        return cls(**given)

    def table(self, variable: str) -> str:
        """The table named by `variable` (e.g. "LEDGER_TABLE"); refuses one this function was not given."""
        name: str = getattr(self, variable.lower())
        if len(name) < 3:
            raise MissingSetting(f"{variable} names no table: this function was not given it")
        return name

    @property
    def subscriber_prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.subscriber_ranges.split(",") if p.strip())
