"""Postback credentials as the operator keeps them in one secret; anything else refuses every network."""

from __future__ import annotations

import pytest

from cashback.postbacks.credentials import NetworkCredentials


def test_each_network_has_its_active_secrets() -> None:
    credentials = NetworkCredentials(lambda: '{"admitad": ["old", "new"], "direct": "one"}')
    assert credentials.for_network("admitad") == ["old", "new"]
    assert credentials.for_network("direct") == ["one"]
    assert credentials.for_network("cityads") == []


@pytest.mark.parametrize(
    "secret",
    ["xK9#generated-placeholder", "", "[]", '"admitad"', '{"admitad": 7}', '{"admitad": [""]}', "{"],
)
def test_a_secret_not_yet_set_gives_no_network_any_credential(secret: str) -> None:
    # Given the secret as the stack created it (a placeholder) or set wrongly
    credentials = NetworkCredentials(lambda: secret)
    # Then no network can authenticate, rather than every postback failing with a 500
    assert credentials.for_network("admitad") == []


def test_a_direct_partner_has_its_own_secrets_or_else_the_networks() -> None:
    # Given the network's default and two partners' own lists (one mid-rotation, one emptied to revoke it)
    credentials = NetworkCredentials(
        lambda: '{"direct": ["default"], "direct:samokat": ["old", "new"], "direct:ivi": "own", "direct:gone": []}'
    )
    # Then each partner is verified against its own list only, and one without a list against the default
    assert credentials.for_network("direct", "samokat") == ["old", "new"]
    assert credentials.for_network("direct", "ivi") == ["own"]
    assert credentials.for_network("direct", "gone") == []
    assert credentials.for_network("direct", "eldorado") == ["default"]
    assert credentials.for_network("direct") == ["default"]


def test_a_document_without_per_partner_entries_keeps_working() -> None:
    credentials = NetworkCredentials(lambda: '{"admitad": ["token"], "direct": ["shared"]}')
    assert credentials.for_network("direct", "samokat") == ["shared"]
    assert credentials.for_network("admitad") == ["token"]
