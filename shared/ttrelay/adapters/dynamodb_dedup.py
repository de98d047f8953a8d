"""The dedup store on DynamoDB conditional writes (state machine in ttrelay.dedup)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ttrelay.adapters import aws
from ttrelay.dedup import ClaimResult

_IN_FLIGHT = "in_flight"
_DELIVERED = "delivered"
_BATCH_WRITE_LIMIT = 25
_CLAIM_CONCURRENCY = 16  # matches max_pool_connections in adapters.aws

# Claimable when new, when past its TTL but not yet swept by DynamoDB (TTL deletion lags by up to days),
# or when an in-flight lease has expired (its worker crashed or timed out).
_CLAIMABLE = "attribute_not_exists(pk) OR expires_at < :now OR (#state = :in_flight AND lease_until < :now)"


@dataclass
class DynamoDedupStore:
    table_name: str
    lease_seconds: int = 120
    ttl_seconds: int = 72 * 3600
    writes: int = 0  # item write requests issued, failed conditions included (they consume capacity too)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _count(self, items: int) -> None:
        with self._lock:  # claims run on a thread pool
            self.writes += items

    def claim_many(self, keys: Sequence[str], owner: str, now: float) -> dict[str, ClaimResult]:
        """One conditional write per key (DynamoDB has no conditional batch write), issued in parallel."""
        if len(keys) <= 1:
            return {key: self.claim(key, owner, now) for key in keys}
        with ThreadPoolExecutor(max_workers=min(_CLAIM_CONCURRENCY, len(keys))) as pool:
            return dict(zip(keys, pool.map(lambda key: self.claim(key, owner, now), keys), strict=True))

    def claim(self, key: str, owner: str, now: float) -> ClaimResult:
        client = aws.dynamodb()
        self._count(1)
        try:
            client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": key}},
                UpdateExpression="SET #state = :in_flight, lease_owner = :owner, lease_until = :lease, "
                "expires_at = :expires",
                ConditionExpression=_CLAIMABLE,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":in_flight": {"S": _IN_FLIGHT},
                    ":owner": {"S": owner},
                    ":now": {"N": str(int(now))},
                    ":lease": {"N": str(int(now) + self.lease_seconds)},
                    ":expires": {"N": str(int(now) + self.ttl_seconds)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            item: Any = exc.response.get("Item") or client.get_item(
                TableName=self.table_name, Key={"pk": {"S": key}}, ConsistentRead=True
            ).get("Item", {})
            state = item.get("state", {}).get("S")
            return ClaimResult.DELIVERED if state == _DELIVERED else ClaimResult.BUSY
        return ClaimResult.CLAIMED

    def mark_delivered(self, keys: Sequence[str], now: float) -> None:
        # Unconditional: TikTok confirmed the event, so "delivered" is true whoever holds the lease.
        expires = str(int(now) + self.ttl_seconds)
        requests = [
            {
                "PutRequest": {
                    "Item": {"pk": {"S": key}, "state": {"S": _DELIVERED}, "expires_at": {"N": expires}}
                }
            }
            for key in dict.fromkeys(keys)
        ]
        client = aws.dynamodb()
        for start in range(0, len(requests), _BATCH_WRITE_LIMIT):
            pending = {self.table_name: requests[start : start + _BATCH_WRITE_LIMIT]}
            while pending:
                self._count(len(pending[self.table_name]))
                response = client.batch_write_item(RequestItems=pending)  # type: ignore[arg-type]
                pending = response.get("UnprocessedItems") or {}  # type: ignore[assignment]

    def release(self, keys: Sequence[str], owner: str) -> None:
        client = aws.dynamodb()
        for key in dict.fromkeys(keys):
            self._count(1)
            try:
                client.delete_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": key}},
                    ConditionExpression="#state = :in_flight AND lease_owner = :owner",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":in_flight": {"S": _IN_FLIGHT}, ":owner": {"S": owner}},
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue  # the lease moved on to another worker: its claim is not ours to drop
