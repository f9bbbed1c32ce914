"""Postback credentials, kept as one secret: `{"<network>": ["<active secret>", ...]}`.

Several secrets per network let a partner rotate without a window of refused postbacks. Partners that
sign their own postbacks (`direct`) may each have their own list under `"<network>:<partner id>"`; a
partner without one uses the network's list. A partner's own entry replaces the network's list rather
than adding to it, so that no other partner's secret signs for it (an empty own list refuses the partner).
Documents without per-partner entries keep working unchanged.

Until the operator has put the credentials in (the stack creates the secret with a generated placeholder),
or if the secret is not such an object, no network has any: every postback is refused with 401, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable


class NetworkCredentials:
    """The active secrets of each network, read from the secret's current text on every postback (the
    secret loader caches it), so that a rotation reaches warm containers."""

    def __init__(self, secret_text: Callable[[], str]) -> None:
        self._secret_text = secret_text

    def for_network(self, network: str, partner_id: str | None = None) -> list[str]:
        """The secrets that may sign `network`'s postbacks, or `partner_id`'s own when it names one."""
        try:
            credentials = json.loads(self._secret_text() or "{}")
        except ValueError:
            return []
        if not isinstance(credentials, dict):
            return []
        own = f"{network}:{partner_id}"
        secrets = credentials[own] if partner_id and own in credentials else credentials.get(network, [])
        if isinstance(secrets, str):
            return [secrets] if secrets else []
        return [str(s) for s in secrets if s] if isinstance(secrets, list) else []
