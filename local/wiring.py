"""The local stack's and the tests' wiring: the same composition root as in AWS, given local stand-ins for
what AWS provides (Secrets Manager, Cognito's issuer and keys, SQS)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from cashback.bootstrap import Container
from cashback.platform.config import Settings
from local.fake_rates import FixedRates
from local.secrets import EnvironmentSecrets
from local.settlement_queue import InProcessQueue
from local.tokens import member_verifier


def local_container(environment: Mapping[str, str] | None = None) -> Container:
    """A container for one function, from `environment` (the process's own by default)."""
    environ = os.environ if environment is None else environment
    # Settlement messages are handled in this process as they are sent, in order, instead of through SQS.
    queue = InProcessQueue(lambda message: container.settlement.handle_message(message))
    container = Container(
        Settings.from_environment(environ),
        secrets=EnvironmentSecrets(environ),
        # The deployed verifier, given the local issuer, app client and keys (GET /_local/jwks.json).
        member_tokens=member_verifier(),
        settlement_queue=queue,
        rate_source=FixedRates(),  # the CBR's daily rates, offline
    )
    return container
