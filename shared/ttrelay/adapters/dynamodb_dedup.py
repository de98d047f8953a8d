"""The dedup store on DynamoDB (state machine and modes in ttrelay.forward.dedup).

Claims are batched: PartiQL ``INSERT`` is DynamoDB's only conditional write that comes 25 to a request
at one write unit each (``BatchWriteItem`` has no conditions; a transaction bills two units per item).
An insert fails with ``DuplicateItem`` when the key exists; only those keys are read back (one
``BatchGetItem`` per 100, strongly consistent) with the receipts they name, and judged; the rare
claimable one (past its TTL, a dead worker's lease, a message's own unconfirmed claim, another message's
on the claimant's last delivery) is taken with a conditional ``UpdateItem``. A receipt is one
``UpdateItem`` adding digests to a string set.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import batched
from typing import Any

from ttrelay.adapters import aws
from ttrelay.forward.dedup import (
    BY_MESSAGE,
    BY_WORKER,
    DEDUP_TTL_HOURS,
    DELIVERED,
    IN_FLIGHT,
    MESSAGE_CLAIMS,
    Claim,
    ClaimResult,
    DedupMode,
    StoredClaim,
    by_receipt,
    judge_existing,
    key_digest,
    receipt_write_units,
    settle,
    takeover_owner,
    takes_over,
)

_UNQUOTED = re.compile(r"[A-Za-z0-9_.~#%:-]*")
_STATEMENTS_PER_BATCH = 25  # BatchExecuteStatement's limit, and BatchWriteItem's
_KEYS_PER_READ = 100  # BatchGetItem's limit
_UNPROCESSED_PAUSE_SECONDS = 0.05  # before asking again for what a throttled batch call left undone
# Answers that mean "not now" rather than "never": the claim is left to the message's next delivery.
_TRANSIENT = {
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "InternalServerError",
    "TransactionConflict",
}
# A takeover repeats what judge_existing found as a condition, so a racing claimant cannot also win:
# gone, past its TTL, or a worker's lease that ran out ...
_CLAIMABLE = (
    "attribute_not_exists(pk) OR expires_at < :now OR (#state = :in_flight AND lease_until < :now "
    "AND (attribute_not_exists(#by) OR #by = :worker))"
)
# ... or the message claim that was read (this message's own, or another's on the claimant's last delivery),
# unchanged since and not being sent by anyone.
_UNCHANGED = (
    "#state = :in_flight AND lease_owner = :old_owner AND receipt = :old_receipt AND lease_until < :now"
)


class DedupTableError(RuntimeError):
    """The table refused a claim for a reason retrying will not fix (permissions, a missing table)."""


@dataclass
class DynamoDedupStore:
    table_name: str
    mode: DedupMode = DedupMode.MESSAGE
    lease_seconds: int = 120
    ttl_seconds: int = DEDUP_TTL_HOURS * 3600
    writes: int = 0  # write units issued, failed conditions included (they consume capacity too)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _count(self, units: int) -> None:
        with self._lock:
            self.writes += units

    def claim_many(self, claims: Mapping[str, Claim], now: float) -> dict[str, ClaimResult]:
        now = int(now)  # whole seconds, as the items and the conditions compare them
        results, existing = self._insert_all(claims, now)
        stored = {key: _stored(item) for key, item in self._read(existing).items()}
        standings = {key: judge_existing(stored.get(key), claims[key], now) for key in existing}
        # Only message claims need their receipts: was the event confirmed by the message holding it?
        held = [stored[key] for key, standing in standings.items() if standing in MESSAGE_CLAIMS]
        receipts = self._read(sorted({name for item in held for name in item.receipt_names}))
        for key, standing in standings.items():
            item = stored.get(key)
            confirmed = (
                standing in MESSAGE_CLAIMS
                and item is not None
                and any(key_digest(key) in _digests(receipts.get(name)) for name in item.receipt_names)
            )
            result = settle(standing, confirmed, claims[key].final)
            prior = takes_over(standing, item)
            results[key] = self._take_over(key, claims[key], now, prior) if result is None else result
        return results

    def _insert_all(
        self, claims: Mapping[str, Claim], now: float
    ) -> tuple[dict[str, ClaimResult], list[str]]:
        """Claims for new keys, 25 per call; returns the answers and the keys that already exist."""
        results: dict[str, ClaimResult] = {}
        existing: list[str] = []
        client = aws.dynamodb()
        for chunk in batched(claims, _STATEMENTS_PER_BATCH, strict=False):
            self._count(len(chunk))
            statements: Any = [{"Statement": self._insert(key, claims[key], now)} for key in chunk]
            answers = client.batch_execute_statement(Statements=statements)["Responses"]
            for key, answer in zip(chunk, answers, strict=True):
                code = answer.get("Error", {}).get("Code")
                if code is None:
                    results[key] = ClaimResult.CLAIMED
                elif code == "DuplicateItem":
                    existing.append(key)
                elif code in _TRANSIENT:
                    results[key] = ClaimResult.BUSY  # its message comes back in seconds and claims again
                else:
                    raise DedupTableError(f"claiming in {self.table_name} failed: {code}")
        return results, existing

    def _insert(self, key: str, claim: Claim, now: float) -> str:
        # Literals, not `?` parameters (which moto cannot parse in an INSERT): keys, owners and receipts
        # are made of characters that need no quoting (dedup_key, QueuedEvents.claim_id, uuids).
        return (
            f"INSERT INTO \"{self.table_name}\" VALUE {{'pk': {_literal(key)}, 'state': '{IN_FLIGHT}', "
            f"'lease_owner': {_literal(claim.owner)}, 'by': '{self.mode.by}', "
            f"'receipt': {_literal(claim.receipt)}, 'lease_until': {int(now) + self.lease_seconds}, "
            f"'expires_at': {int(now) + self.ttl_seconds}}}"
        )

    def _read(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        client = aws.dynamodb()
        found: dict[str, dict[str, Any]] = {}
        for chunk in batched(keys, _KEYS_PER_READ, strict=False):
            pending: Any = {
                self.table_name: {"Keys": [{"pk": {"S": key}} for key in chunk], "ConsistentRead": True}
            }
            while pending:
                response = client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item["pk"]["S"]] = item
                if pending := response.get("UnprocessedKeys") or {}:
                    time.sleep(_UNPROCESSED_PAUSE_SECONDS)
        return found

    def _take_over(self, key: str, claim: Claim, now: float, prior: StoredClaim | None) -> ClaimResult:
        """A conditional write, so that of two claimants racing for the same item only one wins."""
        client = aws.dynamodb()
        self._count(1)
        # A message's own claim stays under the claim_id that holds it, with the receipt of this delivery.
        owner = takeover_owner(self.mode, claim, prior)
        values: dict[str, Any] = {
            ":in_flight": {"S": IN_FLIGHT},
            ":owner": {"S": owner},
            ":by": {"S": self.mode.by},
            ":receipt": {"S": claim.receipt},
            ":now": {"N": str(int(now))},
            ":lease": {"N": str(int(now) + self.lease_seconds)},
            ":expires": {"N": str(int(now) + self.ttl_seconds)},
        }
        update = (
            "SET #state = :in_flight, lease_owner = :owner, #by = :by, receipt = :receipt, "
            "lease_until = :lease, expires_at = :expires"
        )
        if prior is None:
            condition = _CLAIMABLE
            values[":worker"] = {"S": BY_WORKER}
            update += " REMOVE earlier"
        else:
            condition = _UNCHANGED
            values |= {":old_owner": {"S": prior.owner}, ":old_receipt": {"S": prior.receipt}}
            if prior.receipt:  # remembered, so that a later delivery still finds what this one confirmed
                values[":earlier"] = {"SS": [prior.receipt]}
                update += " ADD earlier :earlier"
        try:
            client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": key}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state", "#by": "by"},
                ExpressionAttributeValues=values,
            )
        except client.exceptions.ConditionalCheckFailedException:
            return ClaimResult.BUSY  # another claimant won the race: its message or ours comes back later
        return ClaimResult.CLAIMED

    def mark_delivered(self, claims: Mapping[str, Claim], now: float) -> None:
        if self.mode is DedupMode.MESSAGE:
            self._write_receipts(claims, now)
            return
        # Unconditional: TikTok confirmed the event, so "delivered" is true whoever holds the claim.
        expires = str(int(now) + self.ttl_seconds)
        requests = [
            {
                "PutRequest": {
                    "Item": {"pk": {"S": key}, "state": {"S": DELIVERED}, "expires_at": {"N": expires}}
                }
            }
            for key in claims
        ]
        client = aws.dynamodb()
        for chunk in batched(requests, _STATEMENTS_PER_BATCH, strict=False):
            pending: Any = {self.table_name: list(chunk)}
            while pending:
                self._count(len(pending[self.table_name]))
                response = client.batch_write_item(RequestItems=pending)
                if pending := response.get("UnprocessedItems") or {}:
                    time.sleep(_UNPROCESSED_PAUSE_SECONDS)

    def _write_receipts(self, claims: Mapping[str, Claim], now: float) -> None:
        client = aws.dynamodb()
        for receipt, digests in by_receipt(claims).items():
            # A request's receipt is written once, or a few times while bisection confirms its halves.
            answer = client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": receipt}},
                UpdateExpression="ADD delivered :digests SET expires_at = :expires",
                ExpressionAttributeValues={
                    ":digests": {"SS": digests},
                    ":expires": {"N": str(int(now) + self.ttl_seconds)},
                },
                ReturnValues="UPDATED_NEW",
            )
            listed = len(answer.get("Attributes", {}).get("delivered", {}).get("SS", digests))
            self._count(receipt_write_units(receipt, listed))

    def release(self, claims: Mapping[str, Claim], *, for_retry: bool) -> None:
        client = aws.dynamodb()
        for key, claim in claims.items():
            self._count(1)
            # Still this invocation's claim: a message's claim by the receipt this invocation gave it (every
            # copy of a message shares its claim_id; a receipt is one invocation's), a lease by its worker.
            if self.mode is DedupMode.MESSAGE:
                held, values = "#state = :in_flight AND receipt = :mine", {":mine": {"S": claim.receipt}}
            else:
                held, values = "#state = :in_flight AND lease_owner = :mine", {":mine": {"S": claim.owner}}
            values[":in_flight"] = {"S": IN_FLIGHT}
            try:
                if for_retry and self.mode is DedupMode.MESSAGE:
                    # Kept for the message's next delivery; only the lease goes, so it need not wait.
                    client.update_item(
                        TableName=self.table_name,
                        Key={"pk": {"S": key}},
                        UpdateExpression="SET lease_until = :zero",
                        ConditionExpression=f"{held} AND #by = :message",
                        ExpressionAttributeNames={"#state": "state", "#by": "by"},
                        ExpressionAttributeValues=values
                        | {":zero": {"N": "0"}, ":message": {"S": BY_MESSAGE}},
                    )
                else:
                    client.delete_item(
                        TableName=self.table_name,
                        Key={"pk": {"S": key}},
                        ConditionExpression=held,
                        ExpressionAttributeNames={"#state": "state"},
                        ExpressionAttributeValues=values,
                    )
            except client.exceptions.ConditionalCheckFailedException:
                continue  # the claim moved on to another owner: not ours to drop


def _literal(text: str) -> str:
    if not _UNQUOTED.fullmatch(text):
        raise ValueError(f"not writable as a PartiQL literal: {text!r}")  # never met: see dedup_key
    return f"'{text}'"


def _digests(item: dict[str, Any] | None) -> list[str]:
    listed: list[str] = (item or {}).get("delivered", {}).get("SS", [])
    return listed


def _stored(item: dict[str, Any]) -> StoredClaim:
    def number(name: str) -> float:
        return float(item.get(name, {}).get("N", 0))

    return StoredClaim(
        state=item.get("state", {}).get("S", ""),
        owner=item.get("lease_owner", {}).get("S", ""),
        lease_until=number("lease_until"),
        expires_at=number("expires_at"),
        receipt=item.get("receipt", {}).get("S", ""),
        earlier=frozenset(item.get("earlier", {}).get("SS", [])),
        by=item.get("by", {}).get("S", BY_WORKER),
    )
