"""Going to a store: the request and answer of `POST /clicks` (the redirect itself answers a bare 302)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class ClickRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: StrictStr = Field(min_length=1, max_length=64)


class ClickOut(BaseModel):
    click_id: str
    redirect_url: str = Field(description="The partner's tracking link carrying the click id: open it.")
