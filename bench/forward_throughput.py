"""Figure 3: forward throughput against the fake Events API over loopback HTTP.

    python bench/forward_throughput.py OUT.json ROOT     (with ForwardFunction's environment)

The forwarder is the runtime's own wiring (ttrelay.runtime.forwarder: real HttpEventsApi, real
DynamoDedupStore, real SQS dead letters), pointed by that environment at the local stack, which runs in
the parent process — so this process's CPU is the forwarder's alone, as in a Lambda worker.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fixtures
import httpx
from cold_child import Context, load_app
from memory_dedup import InMemoryDedupStore
from ttrelay.adapters import aws
from ttrelay.config import forward_settings
from ttrelay.forward import Forwarder, InboundMessage
from ttrelay.runtime import forwarder

WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass(frozen=True)
class Scenario:
    name: str
    store: str  # "memory" or "dynamodb"
    via_handler: bool
    messages: int  # per batch (one SQS batch = one invocation)
    events: int  # per message
    max_events: int
    time_cap_s: float


SCENARIOS = (
    Scenario("memory 100x1", "memory", False, 100, 1, 10_000, 8.0),
    Scenario("memory 10x100", "memory", False, 10, 100, 10_000, 8.0),
    Scenario("memory 100x1 handler", "memory", True, 100, 1, 10_000, 8.0),
    Scenario("memory 10x100 handler", "memory", True, 10, 100, 10_000, 8.0),
    Scenario("dynamodb(moto) 100x1", "dynamodb", False, 100, 1, 2_000, 15.0),
    Scenario("dynamodb(moto) 10x100", "dynamodb", False, 10, 100, 2_000, 15.0),
)


class DynamoCounter:
    """Counts the DynamoDB calls, and the items they write, through botocore's event hooks."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.item_writes = 0
        aws.dynamodb().meta.events.register("before-parameter-build.dynamodb", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name in WRITE_OPERATIONS:
            self.item_writes += 1
        elif model.name == "BatchWriteItem":
            self.item_writes += sum(len(requests) for requests in params["RequestItems"].values())

    def snapshot(self) -> tuple[Counter[str], int]:
        return Counter(self.calls), self.item_writes


def build_batches(scenario: Scenario, count: int, run: str) -> list[list[InboundMessage]]:
    now = int(time.time())
    return [
        [
            InboundMessage(
                f"{run}-{batch}-{number}",
                fixtures.queued_message(f"{run}-{batch}", number, scenario.events, now),
            )
            for number in range(scenario.messages)
        ]
        for batch in range(count)
    ]


def sqs_event(batch: list[InboundMessage]) -> dict[str, Any]:
    """The event the SQS event source mapping hands ForwardFunction for one batch."""
    arn = "arn:aws:sqs:us-east-1:123456789012:ttrelay-events"
    return {
        "Records": [
            {
                "messageId": message.message_id,
                "receiptHandle": f"rh-{message.message_id}",
                "body": message.body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for message in batch
        ]
    }


class FakeControl:
    """The fake Events API's control endpoints, read between scenarios (never while timing)."""

    def __init__(self, events_api_base_url: str) -> None:
        self._http = httpx.Client(base_url=events_api_base_url.rstrip("/"), timeout=30)

    def summary(self) -> dict[str, int]:
        summary: dict[str, int] = self._http.get("/summary").json()
        return summary

    def clear(self) -> None:
        self._http.delete("/requests")


def run_scenario(
    scenario: Scenario, real: Forwarder, counter: DynamoCounter, fake: FakeControl, forward_app: Any
) -> dict[str, Any]:
    memory = InMemoryDedupStore() if scenario.store == "memory" else None
    subject = dataclasses.replace(real, dedup=memory) if memory is not None else real
    forward_app.forwarder = lambda: subject

    def deliver(batch: list[InboundMessage]) -> tuple[int, int]:
        """(events delivered, messages reported failed) for one batch."""
        if scenario.via_handler:
            response = forward_app.handler(sqs_event(batch), Context())
            failed = len(response["batchItemFailures"])
            return (len(batch) - failed) * scenario.events, failed
        report = subject.forward(batch)
        return report.delivered, len(report.failed_message_ids)

    run = f"bench-{uuid.uuid4().hex[:8]}"
    count = max(1, scenario.max_events // (scenario.messages * scenario.events))
    deliver(build_batches(scenario, 1, run + "-warm")[0])  # connection, clients, secret cache: not timed
    batches = build_batches(scenario, count, run)
    fake.clear()
    calls_before, writes_before = counter.snapshot()
    memory_writes_before = memory.writes if memory else 0
    delivered = failed = done = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for batch in batches:
        got, lost = deliver(batch)
        delivered, failed = delivered + got, failed + lost
        done += len(batch) * scenario.events
        if time.perf_counter() - wall0 > scenario.time_cap_s:
            break
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    calls_after, writes_after = counter.snapshot()
    calls = calls_after - calls_before
    fake_summary = fake.summary()
    fake.clear()
    writes = writes_after - writes_before if memory is None else memory.writes - memory_writes_before
    return {
        "scenario": scenario.name,
        "store": scenario.store,
        "via_handler": scenario.via_handler,
        "messages_per_batch": scenario.messages,
        "events_per_message": scenario.events,
        "events": done,
        "delivered": delivered,
        "failed_messages": failed,
        "wall_s": wall,
        "events_per_s": done / wall,
        "cpu_ms_per_event": cpu * 1000 / done,
        "events_api_requests": fake_summary["requests"],
        "events_per_events_api_request": done / max(1, fake_summary["requests"]),
        "events_accepted_by_fake": fake_summary["events_accepted"],
        "events_accepted_more_than_once": fake_summary["events_accepted_more_than_once"],
        "dedup_item_writes_per_event": writes / done,
        "dynamodb_calls": dict(calls),
        "dynamodb_calls_per_event": sum(calls.values()) / done,
    }


def main() -> None:
    out, root = Path(sys.argv[1]), Path(sys.argv[2])
    real = forwarder()
    counter = DynamoCounter()
    fake = FakeControl(forward_settings().events_api_base_url)
    forward_app = load_app(root / "functions" / "forward")
    results = [run_scenario(scenario, real, counter, fake, forward_app) for scenario in SCENARIOS]
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
