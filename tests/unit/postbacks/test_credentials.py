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
