"""Delivery dedup: the states of one event key, the two ways of owning it, and the port that stores them.

Key ``pixel#event#event_id`` — TikTok's own dedup key (reference §7). Two modes (docs/delivery.md has the
measurements that chose the default):

- ``message`` — the claim belongs to the queued message (its ``claim_id``, kept through redelivery and
  redrive) and names the *receipt* of the Events API request planned for it. When TikTok confirms a
  request, its receipt (one item per request, listing short digests of the keys) is written: one claim
  write per event plus about one write per request. A message that comes back finds its delivered
  events in their receipts (the current one and every earlier one) and sends only the rest. While a send
  is possible the claim carries a lease, so a second copy of the same message (SQS delivers one now and
  then) waits instead of sending too.
      (absent) --claim--> in_flight(owner=message, receipt=R, lease) ... R lists the key once confirmed
- ``lease`` — claim-then-mark: the claim is a worker's lease, marked delivered once TikTok confirmed it.
  Two writes per event.
      (absent) --claim--> in_flight(owner=worker, lease) --delivered--> delivered

Both: only a confirmation (a receipt, a delivered mark) makes a copy of the event in another message a
duplicate. While another message holds the claim unconfirmed, the copy *waits* for that message's outcome
(WAITING; ttrelay.forward.redelivery spaces its returns): the holder may still be refused, and a copy answered
"duplicate" then would be lost. A parked event's claim is released by the delivery that parked it, so the
waiting copy is sent next. A copy on its last delivery (`Claim.final`) takes over a held claim that no
send holds instead of waiting further: the bound of a wait (docs/delivery.md). After a failed send a
worker's claim is released and a message's claim only loses its lease (its message comes back for it).
An item past its TTL is claimable.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

# How long the table remembers a claim, a receipt and a delivered mark: longer than a message can live in
# EventsQueue (4 days) and then EventsDLQ (14 days) together, so a redrive finds every confirmation its
# events had (ttrelay.forward.dlq.redrivable skips what is older still). TikTok itself dedups for 48 h only.
DEDUP_TTL_HOURS = 19 * 24
# The shortest memory a stack may choose: a message can sit in EventsQueue for its 4-day retention (a
# forwarder outage) while a copy of its event was confirmed just before it was queued; a shorter memory
# would send that event again, and TikTok's own dedup lasts 48 h only. A day to spare, as for a redrive.
MIN_DEDUP_TTL_HOURS = 4 * 24 + 24
IN_FLIGHT = "in_flight"
DELIVERED = "delivered"
RECEIPT_PREFIX = "receipt#"
BY_MESSAGE = "message"  # an item's `by`: claimed for a queued message
BY_WORKER = "worker"  # claimed for a worker's lease (and every item older than the `by` attribute)


class DedupMode(enum.StrEnum):
    MESSAGE = "message"  # the claim belongs to the queued message; a receipt per confirmed request
    LEASE = "lease"  # a worker's lease, then a delivered mark per event

    @property
    def by(self) -> str:
        """The `by` of the claims this mode writes."""
        return BY_MESSAGE if self is DedupMode.MESSAGE else BY_WORKER


class ClaimResult(enum.StrEnum):
    CLAIMED = "claimed"  # ours to send
    DELIVERED = "delivered"  # a duplicate: TikTok confirmed it (a receipt lists it, or a delivered mark)
    BUSY = "busy"  # a live lease: another worker, or another copy of a message, may be sending it
    WAITING = "waiting"  # another queued message holds it unconfirmed: its outcome decides this copy's


class Standing(enum.Enum):
    """What an existing item means to a claimant (judge_existing)."""

    CLAIMABLE = enum.auto()  # gone, past its TTL, or a dead worker's lease: take it with a conditional write
    OWN = enum.auto()  # the claim of a message carrying it: delivered if a receipt lists it, else ours again
    OWN_LEASED = enum.auto()  # the same, with a live lease: delivered if a receipt lists it, else busy
    # Another message's claim between its sends: delivered if a receipt lists it, else wait.
    HELD = enum.auto()
    HELD_LEASED = enum.auto()  # the same, with a live lease: delivered if a receipt lists it, else busy
    DELIVERED = enum.auto()  # a delivered mark
    BUSY = enum.auto()  # a worker's live lease


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
    owner: str  # written on a new claim: the first carrying message's claim_id, or this worker's id
    receipt: str = ""  # mode "message": the receipt item of the request planned to carry the event
    # The claim_ids of every message of this batch that carries the event, in both modes: a claim held by
    # any of them is this message's own (also when the stack switched modes since it was written).
    messages: frozenset[str] = frozenset()
    # Every carrying message is on its last delivery before SQS moves it to the DLQ: rather than wait any
    # longer behind another message's claim, take it over if no send holds it (settle).
    final: bool = False

    def holds(self, owner: str) -> bool:
        return owner == self.owner or owner in self.messages


@dataclass(frozen=True, slots=True)
class StoredClaim:
    state: str  # IN_FLIGHT or DELIVERED
    owner: str
    lease_until: float  # 0: no send in progress (a message's claim between deliveries of its message)
    expires_at: float
    receipt: str = ""
    earlier: frozenset[str] = frozenset()  # receipts of the message's earlier deliveries
    by: str = BY_WORKER

    @property
    def receipt_names(self) -> frozenset[str]:
        """Every receipt that may list this event: this delivery's and the earlier ones'."""
        return self.earlier | {self.receipt} - {""}


def judge_existing(item: StoredClaim | None, claim: Claim, now: float) -> Standing:
    """One rule for both modes, so a stack can switch modes with items of the other mode in the table."""
    if item is None or item.expires_at < now:  # gone, or past its TTL but not yet swept by DynamoDB
        return Standing.CLAIMABLE
    if item.state == DELIVERED:
        return Standing.DELIVERED
    if item.by == BY_MESSAGE:
        # A live lease: a copy of the holding message may be sending it right now.
        live = item.lease_until >= now
        if claim.holds(item.owner):
            return Standing.OWN_LEASED if live else Standing.OWN
        return Standing.HELD_LEASED if live else Standing.HELD
    return Standing.CLAIMABLE if item.lease_until < now else Standing.BUSY  # a dead worker's lease, or live


# A message's claim, this batch's or another's: the receipts it names decide whether it was delivered.
MESSAGE_CLAIMS = (Standing.OWN, Standing.OWN_LEASED, Standing.HELD, Standing.HELD_LEASED)


def settle(standing: Standing, confirmed: bool, final: bool = False) -> ClaimResult | None:
    """A claimant's answer for an existing item, once a message's claim has been looked up in its
    receipts (`confirmed`); None: take the item with a conditional write (on `takes_over`'s item)."""
    if standing in MESSAGE_CLAIMS and confirmed:
        return ClaimResult.DELIVERED
    if standing in (Standing.CLAIMABLE, Standing.OWN) or (standing is Standing.HELD and final):
        return None
    if standing is Standing.HELD:
        return ClaimResult.WAITING
    return ClaimResult.DELIVERED if standing is Standing.DELIVERED else ClaimResult.BUSY


def takes_over(standing: Standing, item: StoredClaim | None) -> StoredClaim | None:
    """The message claim a takeover replaces, conditional on it being unchanged since it was read; None
    when the item is free (gone, past its TTL, a dead worker's lease)."""
    return item if standing in (Standing.OWN, Standing.HELD) else None


def takeover_owner(mode: DedupMode, claim: Claim, prior: StoredClaim | None) -> str:
    """Who holds an item after a takeover: a message's own claim stays under the claim_id that holds it;
    a claim taken from another message, or a free item, goes to the claimant."""
    if prior is not None and mode is DedupMode.MESSAGE and claim.holds(prior.owner):
        return prior.owner
    return claim.owner


class DedupStore(Protocol):
    mode: DedupMode
    writes: int  # write units issued so far, failed conditions included (all consume capacity)

    def claim_many(self, claims: Mapping[str, Claim], now: float) -> dict[str, ClaimResult]: ...

    def mark_delivered(self, claims: Mapping[str, Claim], now: float) -> None:
        """TikTok confirmed these: a delivered mark per key (lease), or their receipts (message)."""
        ...

    def release(self, claims: Mapping[str, Claim], *, for_retry: bool) -> None:
        """After a failed send: a worker's claim is dropped; a message's claim is dropped when its events
        are parked and otherwise only loses its lease (`for_retry`), for its message's next delivery.
        Only while the claim is still this invocation's: the same worker, or the same receipt."""
        ...


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
    ttl_seconds: int = DEDUP_TTL_HOURS * 3600
    writes: int = 0  # write units, as DynamoDB would bill them (failed conditions too)
    items: dict[str, StoredClaim] = field(default_factory=dict)
    receipts: dict[str, set[str]] = field(default_factory=dict)

    def claim_many(self, claims: Mapping[str, Claim], now: float) -> dict[str, ClaimResult]:
        results = {}
        for key, claim in claims.items():
            self.writes += 1  # the insert, billed whether or not the key existed
            item = self.items.get(key)
            standing = judge_existing(item, claim, now)
            confirmed = (
                standing in MESSAGE_CLAIMS
                and item is not None
                and any(key_digest(key) in self.receipts.get(name, ()) for name in item.receipt_names)
            )
            result = settle(standing, confirmed, claim.final)
            if result is None:
                self.writes += item is not None  # the conditional takeover after the refused insert
                self.items[key] = self._claimed(claim, takes_over(standing, item), now)
                result = ClaimResult.CLAIMED
            results[key] = result
        return results

    def _claimed(self, claim: Claim, prior: StoredClaim | None, now: float) -> StoredClaim:
        owner = takeover_owner(self.mode, claim, prior)
        # Kept, so that a confirmation of the replaced delivery is still found.
        earlier = prior.receipt_names if prior is not None else frozenset()
        expires = now + self.ttl_seconds
        return StoredClaim(
            IN_FLIGHT, owner, now + self.lease_seconds, expires, claim.receipt, earlier, self.mode.by
        )

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

    def _still_mine(self, item: StoredClaim, claim: Claim) -> bool:
        if self.mode is DedupMode.MESSAGE:
            return item.receipt == claim.receipt
        return item.owner == claim.owner

    def release(self, claims: Mapping[str, Claim], *, for_retry: bool) -> None:
        for key, claim in claims.items():
            self.writes += 1
            item = self.items.get(key)
            if item is None or item.state != IN_FLIGHT or not self._still_mine(item, claim):
                continue  # the claim moved on (another worker, or another delivery of the message)
            if for_retry and item.by == BY_MESSAGE:
                self.items[key] = StoredClaim(
                    IN_FLIGHT, item.owner, 0.0, item.expires_at, item.receipt, item.earlier, item.by
                )
            else:
                del self.items[key]
