"""Partner networks: each adapter authenticates a postback and normalises it into a `Postback`.

Adding a network is one module with a `NetworkAdapter` and one line in `ADAPTERS`.
"""

from __future__ import annotations

from cashback.postbacks.networks.admitad import Admitad
from cashback.postbacks.networks.base import NetworkAdapter, PostbackRequest
from cashback.postbacks.networks.direct import Direct

ADAPTERS: dict[str, NetworkAdapter] = {adapter.name: adapter for adapter in (Admitad(), Direct())}

__all__ = ["ADAPTERS", "NetworkAdapter", "PostbackRequest"]
