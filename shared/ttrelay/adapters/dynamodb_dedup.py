"""The dedup store on DynamoDB (state machine and modes in ttrelay.dedup).

Claims are batched: PartiQL ``INSERT`` is DynamoDB's only conditional write that comes 25 to a request
at one write unit each (``BatchWriteItem`` has no conditions; a transaction bills two units per item).
An insert fails with ``DuplicateItem`` when the key exists; only those keys are read back (one
``BatchGetItem`` per 100, strongly consistent) with the receipts they name, and judged; the rare
claimable one (past its TTL, a dead worker's lease, a message's own unconfirmed claim) is taken with a
conditional ``UpdateItem``. A receipt is one ``UpdateItem`` adding digests to a string set.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ttrelay.adapters import aws
from ttrelay.dedup import (
    DELIVERED,
    IN_FLIGHT,
    Claim,
    ClaimResult,
    DedupMode,
    Standing,
    StoredClaim,
    by_receipt,
    chunks,
    judge_existing,
    key_digest,
    receipt_write_units,
)

_UNQUOTED = re.compile(r"[A-Za-z0-9_.~#%:-]*")
_STATEMENTS_PER_BATCH = 25  # BatchExecuteStatement's limit, and BatchWriteItem's
_KEYS_PER_READ = 100  # BatchGetItem's limit
# Answers that mean "not now" rather than "never": the claim is left to the message's next delivery.
_TRANSIENT = {
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "InternalServerError",
}
# A takeover repeats what judge_existing found as a condition, so a racing claimant cannot also win.
_CLAIMABLE = (
    "attribute_not_exists(pk) OR expires_at < :now "
    "OR (#state = :in_flight AND lease_until > :zero AND lease_until < :now)"
)
_STILL_OURS = "#state = :in_flight AND lease_owner = :owner AND receipt = :old_receipt"


class DedupTableError(RuntimeError):
    """The table refused a claim for a reason retrying will not fix (permissions, a missing table)."""


@dataclass
class DynamoDedupStore:
    table_name: str
    mode: DedupMode = DedupMode.MESSAGE
    lease_seconds: int = 120
    ttl_seconds: int = 72 * 3600
    writes: int = 0  # item write requests issued, failed conditions included (they consume capacity too)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _count(self, items: int) -> None:
        with self._lock:
            self.writes += items

    def claim_many(self, claims: Mapping[str, Claim], now: float) -> dict[str, ClaimResult]:
        results: dict[str, ClaimResult] = {}
        existing: list[str] = []
        lease_until = int(now) + self.lease_seconds if self.mode is DedupMode.LEASE else 0
        expires = int(now) + self.ttl_seconds
        client = aws.dynamodb()
        for chunk in chunks(list(claims), _STATEMENTS_PER_BATCH):
            self._count(len(chunk))
            statements: Any = [
                {
                    # Literals, not `?` parameters (which moto cannot parse in an INSERT): keys, owners and
                    # receipts are made of characters that need no quoting (dedup_key, claim_id, uuids).
                    "Statement": f"INSERT INTO \"{self.table_name}\" VALUE {{'pk': {_literal(key)}, "
                    f"'state': '{IN_FLIGHT}', 'lease_owner': {_literal(claims[key].owner)}, "
                    f"'receipt': {_literal(claims[key].receipt)}, "
                    f"'lease_until': {lease_until}, 'expires_at': {expires}}}"
                }
                for key in chunk
            ]
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
        stored = {key: _stored(item) for key, item in self._read(existing).items()}
        # Only a message's own claims need their receipt: was it confirmed before the message came back?
        owned = {
            item.receipt for key, item in stored.items() if item.receipt and item.owner == claims[key].owner
        }
        receipts = self._read(sorted(owned))
        for key in existing:
            item, claim = stored.get(key), claims[key]
            standing = judge_existing(item, claim.owner, now)
            if standing is Standing.OWN and item is not None:
                listed = receipts.get(item.receipt, {}).get("delivered", {}).get("SS", [])
                results[key] = (
                    ClaimResult.DELIVERED
                    if key_digest(key) in listed
                    else self._take_over(key, claim, now, _STILL_OURS, item.receipt)
                )
            elif standing is Standing.CLAIMABLE:
                results[key] = self._take_over(key, claim, now, _CLAIMABLE)
            else:
                results[key] = ClaimResult.BUSY if standing is Standing.BUSY else ClaimResult.DELIVERED
        return results

    def _read(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        client = aws.dynamodb()
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunks(keys, _KEYS_PER_READ):
            pending: Any = {
                self.table_name: {"Keys": [{"pk": {"S": key}} for key in chunk], "ConsistentRead": True}
            }
            while pending:
                response = client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item["pk"]["S"]] = item
                pending = response.get("UnprocessedKeys") or {}
        return found

    def _take_over(
        self, key: str, claim: Claim, now: float, condition: str, old_receipt: str = ""
    ) -> ClaimResult:
        client = aws.dynamodb()
        self._count(1)
        lease_until = int(now) + self.lease_seconds if self.mode is DedupMode.LEASE else 0
        values = {
            ":in_flight": {"S": IN_FLIGHT},
            ":owner": {"S": claim.owner},
            ":receipt": {"S": claim.receipt},
            ":lease": {"N": str(lease_until)},
            ":expires": {"N": str(int(now) + self.ttl_seconds)},
        }
        if condition is _STILL_OURS:
            values[":old_receipt"] = {"S": old_receipt}
        else:
            values |= {":now": {"N": str(int(now))}, ":zero": {"N": "0"}}
        try:
            client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": key}},
                UpdateExpression="SET #state = :in_flight, lease_owner = :owner, receipt = :receipt, "
                "lease_until = :lease, expires_at = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
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
        for start in range(0, len(requests), _STATEMENTS_PER_BATCH):
            pending: Any = {self.table_name: requests[start : start + _STATEMENTS_PER_BATCH]}
            while pending:
                self._count(len(pending[self.table_name]))
                response = client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

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

    def release(self, claims: Mapping[str, Claim]) -> None:
        client = aws.dynamodb()
        for key, claim in claims.items():
            self._count(1)
            try:
                client.delete_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": key}},
                    ConditionExpression="#state = :in_flight AND lease_owner = :owner",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":in_flight": {"S": IN_FLIGHT}, ":owner": {"S": claim.owner}},
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue  # the claim moved on to another owner: not ours to drop


def _literal(text: str) -> str:
    if not _UNQUOTED.fullmatch(text):
        raise ValueError(f"not writable as a PartiQL literal: {text!r}")  # never met: see dedup_key
    return f"'{text}'"


def _stored(item: dict[str, Any]) -> StoredClaim:
    def number(name: str) -> float:
        return float(item.get(name, {}).get("N", 0))

    return StoredClaim(
        state=item.get("state", {}).get("S", ""),
        owner=item.get("lease_owner", {}).get("S", ""),
        lease_until=number("lease_until"),
        expires_at=number("expires_at"),
        receipt=item.get("receipt", {}).get("S", ""),
    )
