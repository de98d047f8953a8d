"""What the dead-letter queue holds, for the inspector, read without taking anything off the queue.

Only the DLQ is read this way. The events queue is never received from: a receive, even one made visible
again at once, counts towards maxReceiveCount and would push good events to the DLQ, and it competes with
the event source mapping for batches. What waits there is inferred instead (accepted, not yet delivered,
not parked). Nothing consumes the DLQ locally, so a peek (hide for a moment, then visible again) disturbs
nobody; it runs only when the DLQ's size changed or the last one is old, not on every feed poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ttrelay.adapters.sqs import peek
from ttrelay.forward.dlq import ParkedMessage, parked_message

_REFRESH_S = 15.0  # a redrive and a new failure can leave the size unchanged: look again now and then


class DeadLetterWatch:
    def __init__(
        self, sqs: Any, queue_url: str, limit: int = 200, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._size: int | None = None
        self._read_at = 0.0
        self._messages: list[ParkedMessage] = []

    def messages(self, size: int) -> list[ParkedMessage]:
        """The parked messages (at most `limit`), given the DLQ's current size from its attributes."""
        with self._lock:
            if size != self._size or self._clock() - self._read_at > _REFRESH_S:
                self._messages = self._peek() if size else []
                self._size, self._read_at = size, self._clock()
            return list(self._messages)

    def _peek(self) -> list[ParkedMessage]:
        messages = peek(self._queue_url, self._limit, client=self._sqs, wait_seconds=0)
        return [parked_message(message) for message in messages]
