"""Delivery dedup: the states of one event key and the port that stores them.

Key ``pixel#event#event_id`` — TikTok's own dedup key (reference §7). States:
  (absent) --claim--> in_flight(owner, lease) --delivered--> delivered      (2 writes on the happy path)
  in_flight --release (same owner)--> (absent)                               (only after a failed send)
  in_flight with an expired lease, or any item past expires_at --claim--> in_flight (new owner)
A claim on a delivered key is a duplicate: success, nothing sent. A claim on a live lease is busy:
another worker is sending it, so the message is retried later instead of sending twice.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class ClaimResult(enum.StrEnum):
    CLAIMED = "claimed"  # ours to send
    DELIVERED = "delivered"  # already confirmed by TikTok: a duplicate
    BUSY = "busy"  # another worker holds a live lease


def dedup_key(pixel_code: str, event: str, event_id: str) -> str:
    return f"{pixel_code}#{event}#{event_id}"


class DedupStore(Protocol):
    writes: int  # item write requests issued so far (the budget is 2 per delivered event)

    def claim_many(self, keys: Sequence[str], owner: str, now: float) -> dict[str, ClaimResult]: ...

    def mark_delivered(self, keys: Sequence[str], now: float) -> None: ...

    def release(self, keys: Sequence[str], owner: str) -> None: ...


@dataclass(slots=True)
class _Item:
    state: str  # "in_flight" or "delivered"
    owner: str
    lease_until: float
    expires_at: float


@dataclass
class InMemoryDedupStore:
    """The same state machine in a dict: for unit tests and the benchmark, never for deployment
    (it does not survive a cold start, which is the whole point of the DynamoDB one)."""

    lease_seconds: int = 120
    ttl_seconds: int = 72 * 3600
    writes: int = 0  # item write requests issued, as DynamoDB would bill them (failed conditions too)
    items: dict[str, _Item] = field(default_factory=dict)

    def claim_many(self, keys: Sequence[str], owner: str, now: float) -> dict[str, ClaimResult]:
        return {key: self._claim(key, owner, now) for key in keys}

    def _claim(self, key: str, owner: str, now: float) -> ClaimResult:
        self.writes += 1
        item = self.items.get(key)
        if item is None or item.expires_at < now or (item.state == "in_flight" and item.lease_until < now):
            self.items[key] = _Item("in_flight", owner, now + self.lease_seconds, now + self.ttl_seconds)
            return ClaimResult.CLAIMED
        return ClaimResult.DELIVERED if item.state == "delivered" else ClaimResult.BUSY

    def mark_delivered(self, keys: Sequence[str], now: float) -> None:
        for key in dict.fromkeys(keys):
            self.writes += 1
            self.items[key] = _Item("delivered", "", 0.0, now + self.ttl_seconds)

    def release(self, keys: Sequence[str], owner: str) -> None:
        for key in dict.fromkeys(keys):
            self.writes += 1
            item = self.items.get(key)
            if item is not None and item.state == "in_flight" and item.owner == owner:
                del self.items[key]
