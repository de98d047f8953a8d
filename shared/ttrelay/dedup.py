"""Delivery dedup: the states of one event key, the two ways of owning it, and the port that stores them.

Key ``pixel#event#event_id`` — TikTok's own dedup key (reference §7). Two modes (docs/delivery.md has the
measurements that chose the default):

- ``message`` — the claim belongs to the queued message (its ``claim_id``, kept through redelivery and
  redrive) and names the *receipt* of the Events API request planned for it. When TikTok confirms a
  request, its receipt (one item per request, listing short digests of the keys) is written: one claim
  write per event plus about one write per request. A message that comes back finds its delivered
  events in their receipts and sends only the rest; another message's claim means "a duplicate".
      (absent) --claim--> in_flight(owner=message, receipt=R) ... R lists the key once TikTok confirmed it
- ``lease`` — claim-then-mark: the claim is a worker's lease, marked delivered once TikTok confirmed it.
  Two writes per event.
      (absent) --claim--> in_flight(owner=worker, lease) --delivered--> delivered

Both: a parked event's claim is released so another copy may still go; an item past its TTL is claimable;
a lease is also released after a failed send (a message's claim stays: its message comes back for it).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

IN_FLIGHT = "in_flight"
DELIVERED = "delivered"
RECEIPT_PREFIX = "receipt#"


class DedupMode(enum.StrEnum):
    MESSAGE = "message"  # the claim belongs to the queued message; a receipt per confirmed request
    LEASE = "lease"  # a worker's lease, then a delivered mark per event


class ClaimResult(enum.StrEnum):
    CLAIMED = "claimed"  # ours to send
    DELIVERED = "delivered"  # a duplicate: confirmed by TikTok, or carried by another queued message
    BUSY = "busy"  # another worker holds a live lease


class Standing(enum.Enum):
    """What an existing item means to a claimant (judge_existing)."""

    CLAIMABLE = enum.auto()  # gone, past its TTL, or a dead worker's lease: take it with a conditional write
    OWN = enum.auto()  # this message's own claim: delivered if its receipt lists it, else ours again
    DELIVERED = enum.auto()  # confirmed, or another message's claim
    BUSY = enum.auto()  # a live lease of another worker


def dedup_key(pixel_code: str, event: str, event_id: str) -> str:
    """Percent-encoded beyond letters, digits, ``_.-~#``: unchanged for the ids sites send (uuids, order
    numbers), and safe to write into a PartiQL statement as a literal (adapters.dynamodb_dedup)."""
    return quote(f"{pixel_code}#{event}#{event_id}", safe="#")


def key_digest(key: str) -> str:
    """96 bits of SHA-256, as receipts list keys: a collision within one request is never expected."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()[:12]).decode()


def receipt_write_units(receipt: str, digests: int) -> int:
    """DynamoDB write units of writing a receipt item of `digests` digests (1 KB each, rounded up):
    attribute names and values, plus the item overhead DynamoDB documents, estimated generously."""
    size = len(receipt) + len("delivered") + digests * (16 + 1) + len("expires_at") + 21 + 100
    return max(1, math.ceil(size / 1024))


@dataclass(frozen=True, slots=True)
class Claim:
    owner: str  # a message's claim_id (mode "message") or this worker's id (mode "lease")
    receipt: str = ""  # mode "message": the receipt item of the request planned to carry the event


@dataclass(frozen=True, slots=True)
class StoredClaim:
    state: str  # IN_FLIGHT or DELIVERED
    owner: str
    lease_until: float  # 0 for a message's claim: no lease, its message comes back by itself
    expires_at: float
    receipt: str = ""


def judge_existing(item: StoredClaim | None, owner: str, now: float) -> Standing:
    """One rule for both modes, so a stack can switch modes with items of the other mode in the table."""
    if item is None or item.expires_at < now:  # gone, or past its TTL but not yet swept by DynamoDB
        return Standing.CLAIMABLE
    if item.state == DELIVERED:
        return Standing.DELIVERED
    if item.owner == owner:  # our own message, redelivered or redriven
        return Standing.OWN
    if not item.lease_until:  # another message owns it and will deliver it (or park it)
        return Standing.DELIVERED
    return Standing.CLAIMABLE if item.lease_until < now else Standing.BUSY


class DedupStore(Protocol):
    mode: DedupMode
    writes: int  # write units issued so far, failed conditions included (all consume capacity)

    def claim_many(self, claims: Mapping[str, Claim], now: float) -> dict[str, ClaimResult]: ...

    def mark_delivered(self, claims: Mapping[str, Claim], now: float) -> None:
        """TikTok confirmed these: a delivered mark per key (lease), or their receipts (message)."""
        ...

    def release(self, claims: Mapping[str, Claim]) -> None:
        """Drop the keys' claims, each only while still in flight under the given owner."""
        ...


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def by_receipt(claims: Mapping[str, Claim]) -> dict[str, list[str]]:
    receipts: dict[str, list[str]] = {}
    for key, claim in claims.items():
        receipts.setdefault(claim.receipt, []).append(key_digest(key))
    return receipts


@dataclass
class InMemoryDedupStore:
    """The same state machine in dicts: for unit tests and the benchmark, never for deployment
    (it does not survive a cold start, which is the whole point of the DynamoDB one)."""

    mode: DedupMode = DedupMode.MESSAGE
    lease_seconds: int = 120
    ttl_seconds: int = 72 * 3600
    writes: int = 0  # write units, as DynamoDB would bill them (failed conditions too)
    items: dict[str, StoredClaim] = field(default_factory=dict)
    receipts: dict[str, set[str]] = field(default_factory=dict)

    def claim_many(self, claims: Mapping[str, Claim], now: float) -> dict[str, ClaimResult]:
        results = {}
        for key, claim in claims.items():
            self.writes += 1  # the insert, billed whether or not the key existed
            item = self.items.get(key)
            standing = judge_existing(item, claim.owner, now)
            if standing is Standing.OWN and item is not None:
                if key_digest(key) in self.receipts.get(item.receipt, set()):
                    results[key] = ClaimResult.DELIVERED
                    continue
                standing = Standing.CLAIMABLE  # not confirmed: ours to send again, under the new receipt
            if standing is Standing.CLAIMABLE:
                self.writes += item is not None  # the conditional takeover after the refused insert
                lease_until = now + self.lease_seconds if self.mode is DedupMode.LEASE else 0.0
                stored = StoredClaim(
                    IN_FLIGHT, claim.owner, lease_until, now + self.ttl_seconds, claim.receipt
                )
                self.items[key] = stored
            results[key] = {
                Standing.CLAIMABLE: ClaimResult.CLAIMED,
                Standing.DELIVERED: ClaimResult.DELIVERED,
                Standing.BUSY: ClaimResult.BUSY,
            }[standing]
        return results

    def mark_delivered(self, claims: Mapping[str, Claim], now: float) -> None:
        if self.mode is DedupMode.MESSAGE:
            for receipt, digests in by_receipt(claims).items():
                listed = self.receipts.setdefault(receipt, set())
                listed.update(digests)
                self.writes += receipt_write_units(receipt, len(listed))
            return
        for key in claims:
            self.writes += 1
            self.items[key] = StoredClaim(DELIVERED, "", 0.0, now + self.ttl_seconds)

    def release(self, claims: Mapping[str, Claim]) -> None:
        for key, claim in claims.items():
            self.writes += 1
            item = self.items.get(key)
            if item is not None and item.state == IN_FLIGHT and item.owner == claim.owner:
                del self.items[key]
