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
from typing import Protocol


class ClaimResult(enum.StrEnum):
    CLAIMED = "claimed"  # ours to send
    DELIVERED = "delivered"  # already confirmed by TikTok: a duplicate
    BUSY = "busy"  # another worker holds a live lease


def dedup_key(pixel_code: str, event: str, event_id: str) -> str:
    return f"{pixel_code}#{event}#{event_id}"


class DedupStore(Protocol):
    def claim_many(self, keys: Sequence[str], owner: str, now: float) -> dict[str, ClaimResult]: ...

    def mark_delivered(self, keys: Sequence[str], now: float) -> None: ...

    def release(self, keys: Sequence[str], owner: str) -> None: ...
