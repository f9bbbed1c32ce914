"""The local stack's settlement queue: no SQS here, so messages are handled in this process, in the order
they are sent. A message sent while another is being handled waits its turn, as on a queue, rather than
nesting (an enumeration sends the next page's enumeration while it is itself being handled)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from local.iam.attribution import running_as

# What consumes the queue in AWS: a delivery's AWS calls are the worker's, whichever function sent it.
CONSUMER = "SettlementWorkerFunction"

Message = dict[str, Any]


class InProcessQueue:
    def __init__(self, deliver: Callable[[Message], None], on_message: Callable[[Message], None] | None = None) -> None:
        self._deliver = deliver
        self.on_message = on_message  # e.g. progress output of `python -m local.settle`
        self._messages: deque[Message] = deque()
        self._draining = False
        self.handled = 0

    def send(self, messages: Sequence[Message]) -> None:
        self._messages.extend(messages)
        if self._draining:
            return
        self._draining = True
        try:
            while self._messages:
                message = self._messages.popleft()
                with running_as(CONSUMER):
                    self._deliver(message)
                self.handled += 1
                if self.on_message is not None:
                    self.on_message(message)
        finally:
            self._draining = False
