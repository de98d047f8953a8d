"""An in-memory DedupStore (the ttrelay.dedup protocol) so the forward benchmark can leave DynamoDB out.

Same state machine as the DynamoDB adapter; `writes` counts the item writes DynamoDB would have billed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ttrelay.dedup import ClaimResult


@dataclass(slots=True)
class _Item:
    state: str  # "in_flight" or "delivered"
    owner: str
    lease_until: float
    expires_at: float


@dataclass
class InMemoryDedupStore:
    lease_seconds: int = 120
    ttl_seconds: int = 72 * 3600
    writes: int = 0
    _items: dict[str, _Item] = field(default_factory=dict)

    def claim(self, key: str, owner: str, now: float) -> ClaimResult:
        item = self._items.get(key)
        claimable = (
            item is None or item.expires_at < now or (item.state == "in_flight" and item.lease_until < now)
        )
        if not claimable:
            assert item is not None
            return ClaimResult.DELIVERED if item.state == "delivered" else ClaimResult.BUSY
        self._items[key] = _Item("in_flight", owner, now + self.lease_seconds, now + self.ttl_seconds)
        self.writes += 1
        return ClaimResult.CLAIMED

    def mark_delivered(self, keys: Sequence[str], now: float) -> None:
        for key in dict.fromkeys(keys):
            self._items[key] = _Item("delivered", "", 0.0, now + self.ttl_seconds)
            self.writes += 1

    def release(self, keys: Sequence[str], owner: str) -> None:
        for key in dict.fromkeys(keys):
            item = self._items.get(key)
            if item is not None and item.state == "in_flight" and item.owner == owner:
                del self._items[key]
                self.writes += 1
