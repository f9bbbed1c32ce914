"""Per-network postback credentials, kept as one secret: `{"<network>": ["<active secret>", ...]}`.

Several secrets per network let a partner rotate without a window of refused postbacks. Until the
operator has put the credentials in (the stack creates the secret with a generated placeholder), or if
the secret is not such an object, no network has any: every postback is refused with 401, never a 500.
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
        try:
            credentials = json.loads(self._secret_text() or "{}")
        except ValueError:
            return []
        secrets = credentials.get(network, []) if isinstance(credentials, dict) else []
        if isinstance(secrets, str):
            return [secrets] if secrets else []
        return [str(s) for s in secrets if s] if isinstance(secrets, list) else []
