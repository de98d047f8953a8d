"""The per-key rate limit of publishable site keys, in this process's memory (docs/operations.md, site keys).

A token bucket per key id: a key allowing N requests per second takes bursts of up to N, refilled at N per
second. Each collector instance (a Lambda execution environment) keeps its own buckets, so across a
deployment the limit is N times the number of warm instances; AWS-side limits complement it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ttrelay.collect.rejection import CollectRejected


@dataclass(slots=True)
class KeyRateLimiter:
    # key id -> (tokens left, when they were counted); one entry per key that has sent, never per visitor.
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key_id: str, per_second: int, now: float) -> None:
        """Count one request of `key_id`, or CollectRejected 429 with Retry-After when its bucket is empty."""
        tokens, counted_at = self._buckets.get(key_id, (float(per_second), now))
        # A clock that steps back refills nothing (never a negative refill either).
        tokens = min(float(per_second), tokens + max(0.0, now - counted_at) * per_second)
        if tokens < 1:
            self._buckets[key_id] = (tokens, now)
            wait = max(1, math.ceil((1 - tokens) / per_second))
            message = (
                f"this site key allows {per_second} requests per second per collector instance; "
                f"retry after {wait} s"
            )
            raise CollectRejected(429, "throttled", [{"msg": message}], headers={"retry-after": str(wait)})
        self._buckets[key_id] = (tokens - 1, now)
