"""What a new user of `make run` finds: the well-known promo code, a subscriber directory, the catalog.

Idempotent: running it again rewrites the same records and leaves members and their ledgers alone.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from cashback.bootstrap import Container
from cashback.members.promo_codes import PromoCode
from cashback.platform.errors import Conflict
from local.seed_catalog import seed_catalog

WELCOME_CODE = "UD2PV797"
# Numbers ported to or from the operator: the directory overrides the number ranges for them.
DIRECTORY = {"+79031234567": True, "+79169999999": False}


def seed_members(container: Container, now: datetime) -> None:
    welcome = PromoCode(WELCOME_CODE, 250, now - timedelta(days=1), now + timedelta(days=365), 1_000_000)
    with contextlib.suppress(Conflict):  # already seeded: its usage counter is kept
        container.members.create_promo_code(welcome, actor="local-seed")
    for phone, subscriber in DIRECTORY.items():
        container.members.set_directory_entry(phone, subscriber)


def seed(container: Container, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    seed_members(container, now)
    seed_catalog(container, now)
