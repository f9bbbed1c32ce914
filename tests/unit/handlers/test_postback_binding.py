"""A postback speaks only for its own clicks, through the postbacks handler on moto: a network only for the
clicks that went to its own stores, and a direct partner, signing with its own secret, only for its own.
Anything else changes nothing and is kept for support, answered 200 so that the sender stops retrying."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.clicks.rules import Click
from cashback.ledger.rules import Balances
from cashback.postbacks.networks.direct import sign
from tests.builders import a_recorded_click
from tests.fixtures.handlers import invoke, sample_event

ADMITAD_TOKEN = "local-admitad-secret"
DEFAULT_DIRECT_SECRET = "local-direct-secret"  # every direct partner's, unless it has its own
SAMOKAT_OLD, SAMOKAT_NEW = "samokat-2025-secret", "samokat-2026-secret"  # mid-rotation: both active
IVI_SECRET = "ivi-own-secret"


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = {
        "admitad": [ADMITAD_TOKEN],
        "direct": [DEFAULT_DIRECT_SECRET],
        "direct:samokat": [SAMOKAT_OLD, SAMOKAT_NEW],
        "direct:ivi": IVI_SECRET,
    }
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps(credentials))
    monkeypatch.setenv("LINK_SIGNING_SECRET", "unit-tests-link-signing-key-0123456789abcdef")


def admitad_click(container: Container) -> Click:
    return a_recorded_click(container, member_id="anna", partner_id="aliexpress", network="admitad", rate_percent="7")


def direct_click(container: Container, partner_id: str = "samokat") -> Click:
    return a_recorded_click(container, member_id="anna", partner_id=partner_id, network="direct", rate_percent="10")


def admitad(click: Click, *, status: str = "approved") -> tuple[int, Any]:
    query = {**sample_event("postbacks-admitad")["queryStringParameters"], "subid": click.click_id, "status": status}
    return invoke("postbacks", sample_event("postbacks-admitad", query=query))


def direct(click: Click, *, partner_id: str | None, secret: str, order_id: str = "SM-1") -> tuple[int, Any]:
    """A direct postback about `click`, signed with `secret` and naming `partner_id` as its signer (None: no
    X-Partner-Id at all)."""
    body = json.dumps(
        {**json.loads(sample_event("postbacks-direct")["body"]), "click_id": click.click_id, "order_id": order_id}
    )
    event = sample_event("postbacks-direct", body=body)
    now = int(time.time())
    event["headers"]["x-signature"] = f"t={now},v1={sign(secret, now, body)}"
    if partner_id is None:
        event["headers"].pop("x-partner-id")
    else:
        event["headers"]["x-partner-id"] = partner_id
    return invoke("postbacks", event)


def kept(container: Container, conversion: str, *, wrong: bool = False) -> tuple[str, dict[str, str]]:
    """What support sees of a postback kept about `conversion`: apart from its own, if it named a click its
    sender may not speak for (`wrong`)."""
    orphans = container.claim_repository
    orphan_id = conversion
    if wrong:
        [orphan_id] = [
            f"{conversion}#{r}" for r in ("wrong_network", "wrong_partner") if orphans.orphan(f"{conversion}#{r}")
        ]
    orphan = orphans.orphan(orphan_id)
    assert orphan is not None, f"{orphan_id} was not kept for support"
    return orphan.reason, orphan.details


def purchase(container: Container, conversion: str) -> int:
    """The bonuses of Anna's purchase for this conversion (a first-purchase bonus may come with it)."""
    txn = container.ledger.transaction("anna", f"conversion:{conversion}")
    assert txn is not None
    return txn.amount


def balances(container: Container) -> Balances:
    return container.ledger.balances("anna")


def test_admitads_approved_but_stalled_confirms_the_purchase(container: Container) -> None:
    # Given Anna's click to AliExpress, through Admitad
    click = admitad_click(container)

    # When Admitad reports the order approved by the store, its payout to us held back
    status, receipt = admitad(click, status="approved_but_stalled")

    # Then it is no error: Anna's cashback is accrued as for an approval
    assert status == 200, receipt
    assert balances(container).pending == 0
    assert balances(container).available > 0


def test_admitad_token_on_a_direct_partners_click_is_kept_and_pays_nothing(container: Container) -> None:
    # Given Anna's click to Samokat, a direct partner
    click = direct_click(container)

    # When Admitad, with its valid token, approves an order on that click
    status, receipt = admitad(click)

    # Then it is answered 200 and kept for support as another network's, and Anna earns nothing
    assert (status, receipt["outcome"]) == (200, "kept_for_support")
    reason, details = kept(container, receipt["conversion"], wrong=True)
    assert reason == "wrong_network"
    assert (details["click_partner_id"], details["click_network"]) == ("samokat", "direct")
    assert balances(container) == Balances()


def test_a_direct_postback_on_an_admitad_click_is_kept_and_pays_nothing(container: Container) -> None:
    # Given Anna's click to AliExpress, through Admitad
    click = admitad_click(container)

    # When a direct partner signs a postback for that click, with its own valid secret
    status, receipt = direct(click, partner_id="samokat", secret=SAMOKAT_NEW)

    # Then nothing changes, and support sees who sent it for whose click
    assert (status, receipt["outcome"]) == (200, "kept_for_support")
    reason, details = kept(container, receipt["conversion"], wrong=True)
    assert (reason, details["signed_by"], details["click_network"]) == ("wrong_network", "samokat", "admitad")
    assert balances(container) == Balances()


def test_a_partner_signing_for_another_partners_click_is_kept_and_pays_nothing(container: Container) -> None:
    # Given Anna's click to Ivi, a direct partner with its own secret
    click = direct_click(container, "ivi")

    # When Samokat, with its own valid secret, approves an order on Ivi's click
    status, receipt = direct(click, partner_id="samokat", secret=SAMOKAT_OLD)

    # Then nothing changes: it is kept as another partner's
    assert (status, receipt["outcome"]) == (200, "kept_for_support")
    reason, details = kept(container, receipt["conversion"], wrong=True)
    assert (reason, details["signed_by"], details["click_partner_id"]) == ("wrong_partner", "samokat", "ivi")
    assert balances(container) == Balances()


def test_partners_on_the_default_secret_still_cannot_speak_for_each_other(container: Container) -> None:
    # Given a click to Eldorado; Eldorado and Aviasales have no secret of their own (both sign with the default)
    click = direct_click(container, "eldorado")

    # When Aviasales approves an order on Eldorado's click
    status, receipt = direct(click, partner_id="aviasales", secret=DEFAULT_DIRECT_SECRET)

    # Then it is kept as another partner's
    assert (status, receipt["outcome"]) == (200, "kept_for_support")
    assert kept(container, receipt["conversion"], wrong=True)[0] == "wrong_partner"
    assert balances(container) == Balances()


@pytest.mark.parametrize("secret", [SAMOKAT_OLD, SAMOKAT_NEW])
def test_either_of_a_rotating_partners_secrets_accrues_on_its_own_click(container: Container, secret: str) -> None:
    # Given Anna's click to Samokat, which is rotating its secret
    click = direct_click(container)

    # When Samokat approves an order of 3250.00 signed with the old or the new secret
    status, receipt = direct(click, partner_id="samokat", secret=secret)

    # Then Anna's purchase is accrued at 10 %
    assert (status, receipt["outcome"], receipt["status"]) == (200, "applied", "accrued")
    assert purchase(container, receipt["conversion"]) == 325


def test_a_partner_without_a_secret_of_its_own_signs_with_the_default(container: Container) -> None:
    click = direct_click(container, "eldorado")

    status, receipt = direct(click, partner_id="eldorado", secret=DEFAULT_DIRECT_SECRET)

    assert (status, receipt["outcome"], receipt["status"]) == (200, "applied", "accrued")
    assert purchase(container, receipt["conversion"]) == 325


@pytest.mark.parametrize(
    ("partner_id", "secret"),
    [
        ("samokat", IVI_SECRET),  # another partner's own secret
        ("samokat", DEFAULT_DIRECT_SECRET),  # a partner with its own secrets no longer takes the default
        ("ivi", SAMOKAT_NEW),
        (None, SAMOKAT_NEW),  # no X-Partner-Id
        ("", DEFAULT_DIRECT_SECRET),
        ("Samokat; drop", DEFAULT_DIRECT_SECRET),  # not a partner id at all
        ("s" * 3000, DEFAULT_DIRECT_SECRET),
    ],
)
def test_a_direct_postback_not_signed_by_the_partner_it_names_is_401(
    container: Container, partner_id: str | None, secret: str
) -> None:
    # Given Anna's click to Samokat
    click = direct_click(container)

    # When a postback for it comes signed with a secret that is not the named partner's, or names no partner
    status, body = direct(click, partner_id=partner_id, secret=secret)

    # Then it is refused as bad credentials, and nothing changes or is kept
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")
    assert balances(container) == Balances()
    assert container.claim_repository.orphan(f"direct:SM-1@{click.click_id}") is None
