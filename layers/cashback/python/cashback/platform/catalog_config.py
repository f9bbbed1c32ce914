"""Environment of the catalog and of the redirect, read once per container, and the link signing key.

Kept apart from `cashback.platform.config` so that the members, ledger and admin settings do not grow variables
only these functions need. In AWS the link signing key lives in Secrets Manager (`LINK_SIGNING_SECRET_ARN`);
the local stack, which has no Secrets Manager, gives the key itself in `LINK_SIGNING_SECRET`.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, Field

# The signing key is re-read this often, so that a rotated secret reaches warm containers.
SECRET_MAX_AGE_SECONDS = 300


class MemberTokens(StrEnum):
    COGNITO = "cognito"
    LOCAL = "local"


class CatalogSettings(BaseModel):
    # Each function is given only the tables it uses: a store asks for its own with `table()`.
    catalog_table: str = Field(alias="CATALOG_TABLE", default="")
    clicks_table: str = Field(alias="CLICKS_TABLE", default="")
    region: str = Field(alias="AWS_REGION", default="eu-central-1")
    stage: str = Field(alias="STAGE", default="dev")
    # Where links point: empty means "the host the request came to" (the API's own domain).
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", default="")
    sign_in_url: str = Field(alias="SIGN_IN_URL", default="https://cashback.example.com/sign-in")
    link_signing_secret_arn: str = Field(alias="LINK_SIGNING_SECRET_ARN", default="")
    link_signing_secret: str = Field(alias="LINK_SIGNING_SECRET", default="", repr=False)
    # How long a warm container serves the catalog (and the redirect a partner) before reading it again.
    cache_seconds: int = Field(alias="CATALOG_CACHE_SECONDS", default=60, ge=0, le=3600)
    # Who signs the optional member token on public routes: Cognito in AWS, the local gateway locally.
    member_tokens: MemberTokens = Field(alias="MEMBER_TOKEN_VERIFIER", default=MemberTokens.COGNITO)
    user_pool_id: str = Field(alias="USER_POOL_ID", default="")
    user_pool_client_id: str = Field(alias="USER_POOL_CLIENT_ID", default="")
    local_token_secret: str = Field(alias="LOCAL_TOKEN_SECRET", default="", repr=False)

    def table(self, variable: str) -> str:
        name: str = getattr(self, variable.lower())
        if len(name) < 3:
            raise RuntimeError(f"{variable} names no table: this function was not given it")
        return name


@lru_cache(maxsize=1)
def catalog_settings() -> CatalogSettings:
    return CatalogSettings.model_validate(dict(os.environ))


class SigningKeyMissing(RuntimeError):
    pass


def link_signing_key() -> bytes:
    """The key that signs and verifies link tokens; fetched from Secrets Manager and cached for 5 minutes."""
    settings = catalog_settings()
    if settings.link_signing_secret_arn:
        from aws_lambda_powertools.utilities import parameters  # boto3 is paid for only where the secret is read

        secret = parameters.get_secret(settings.link_signing_secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
        key = secret.encode() if isinstance(secret, str) else bytes(secret or b"")
    else:
        key = settings.link_signing_secret.encode()
    if not key:
        raise SigningKeyMissing("set LINK_SIGNING_SECRET_ARN (AWS) or LINK_SIGNING_SECRET (local stack)")
    return key
