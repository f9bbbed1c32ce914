"""Per-network postback credentials, kept as one secret: `{"<network>": ["<active secret>", ...]}`.

Several secrets per network let a partner rotate without a window of refused postbacks.
"""

from __future__ import annotations

import json
from collections.abc import Callable


class NetworkCredentials:
    """The active secrets of each network, read from the secret's current text on every postback (the
    secret loader caches it), so that a rotation reaches warm containers."""

    def __init__(self, secret_text: Callable[[], str]) -> None:
        self._secret_text = secret_text

    def for_network(self, network: str) -> list[str]:
        secrets = json.loads(self._secret_text() or "{}").get(network, [])
        return [secrets] if isinstance(secrets, str) else [str(s) for s in secrets if s]
