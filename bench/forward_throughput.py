"""Figure 3: forward throughput against the fake Events API over loopback HTTP.

    python bench/forward_throughput.py OUT.json ROOT     (with ForwardFunction's environment)

The forwarder is the runtime's own wiring (ttrelay.runtime.forwarder: real HttpEventsApi, real
DynamoDedupStore, real SQS dead letters), pointed by that environment at the local stack, which runs in
the parent process — so this process's CPU is the forwarder's alone, as in a Lambda worker. The DynamoDB
scenarios run in both dedup modes (ttrelay.forward.dedup.DedupMode): the store is the runtime's, with only its
mode replaced.
"""

from __future__ import annotations

import dataclasses
import json
import os
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
from collect_warm import log_bytes_per_request
from ttrelay.adapters import aws
from ttrelay.adapters.dynamodb_dedup import DynamoDedupStore
from ttrelay.config import forward_settings
from ttrelay.forward.dedup import DedupMode, DedupStore, InMemoryDedupStore
from ttrelay.forward.use_case import Forwarder, InboundMessage
from ttrelay.runtime import forwarder
from ttrelay_dev.local.moto_process import SERVER_MODULE

# Item write requests per call: one for these; BatchWriteItem one per request in it, BatchExecuteStatement
# one per statement (the dedup store only writes with it: PartiQL INSERTs, billed whether or not the key
# existed). Write *units* also depend on item sizes (1 KB each): the store counts those itself.
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem")
READ_OPERATIONS = ("GetItem",)  # BatchGetItem: one per key (strongly consistent, items under 4 KB)
LOG_SAMPLE_BATCHES = 5  # handler scenarios: batches whose stdout is counted, after the timed ones


@dataclass(frozen=True)
class Scenario:
    name: str
    store: str  # "memory" or "dynamodb"
    via_handler: bool
    messages: int  # per batch (one SQS batch = one invocation)
    events: int  # per message
    max_events: int
    time_cap_s: float
    mode: DedupMode = DedupMode.MESSAGE  # the runtime's default (ForwardSettings.dedup_mode)


SCENARIOS = (
    Scenario("memory 100x1", "memory", False, 100, 1, 10_000, 8.0),
    Scenario("memory 10x100", "memory", False, 10, 100, 10_000, 8.0),
    Scenario("memory 100x1 handler", "memory", True, 100, 1, 10_000, 8.0),
    Scenario("memory 10x100 handler", "memory", True, 10, 100, 10_000, 8.0),
    # Claims are one BatchExecuteStatement per 25 events, but moto parses each PartiQL statement in
    # Python, so these rows are bounded by moto: a few thousand events keep the run short.
    Scenario("dynamodb(moto) 100x1", "dynamodb", False, 100, 1, 5_000, 5.0),
    Scenario("dynamodb(moto) 10x100", "dynamodb", False, 10, 100, 5_000, 5.0),
    Scenario("dynamodb(moto).lease 100x1", "dynamodb", False, 100, 1, 5_000, 5.0, DedupMode.LEASE),
    Scenario("dynamodb(moto).lease 10x100", "dynamodb", False, 10, 100, 5_000, 5.0, DedupMode.LEASE),
)


class DynamoCounter:
    """Counts the DynamoDB calls, the items they write and read, and their wall time, through botocore's
    event hooks (retries of a whole call by botocore are not counted again; UnprocessedItems are, as the
    store sends them again itself)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.item_writes = 0
        self.item_reads = 0
        self._started = 0.0
        events = aws.dynamodb().meta.events
        events.register("before-parameter-build.dynamodb", self._count)
        events.register("before-call.dynamodb", self._start)
        events.register("after-call.dynamodb", self._stop)

    def _start(self, **_: Any) -> None:
        self._started = time.perf_counter()

    def _stop(self, model: Any, **_: Any) -> None:
        self.seconds[model.name] += time.perf_counter() - self._started

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name in WRITE_OPERATIONS:
            self.item_writes += 1
        elif model.name == "BatchWriteItem":
            self.item_writes += sum(len(requests) for requests in params["RequestItems"].values())
        elif model.name == "BatchExecuteStatement":
            self.item_writes += len(params["Statements"])
        elif model.name in READ_OPERATIONS:
            self.item_reads += 1
        elif model.name == "BatchGetItem":
            self.item_reads += sum(len(table["Keys"]) for table in params["RequestItems"].values())

    def snapshot(self) -> tuple[Counter[str], Counter[str], int, int]:
        return Counter(self.calls), Counter(self.seconds), self.item_writes, self.item_reads


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu_s() -> float | None:
    """CPU seconds used so far by the parent process (the fake Events API) and its moto server process
    (Linux /proc; utime + stime)."""
    parent = os.getppid()

    def is_moto_child(entry: Path) -> bool:
        try:
            return (
                int(_stat(int(entry.name))[1]) == parent
                and SERVER_MODULE.encode() in (entry / "cmdline").read_bytes()
            )
        except (OSError, ValueError, IndexError):
            return False  # a process that ended meanwhile

    try:
        pids = [parent] + [
            int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and is_moto_child(e)
        ]
        return sum(int(_stat(pid)[11]) + int(_stat(pid)[12]) for pid in pids) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def build_batches(scenario: Scenario, count: int, run: str, messages: int = 0) -> list[list[InboundMessage]]:
    """`count` batches of `messages` (default: the scenario's) messages, every event id new."""
    now = int(time.time())
    return [
        [
            InboundMessage(
                f"{run}-{batch}-{number}",
                fixtures.queued_message(f"{run}-{batch}", number, scenario.events, now),
            )
            for number in range(messages or scenario.messages)
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
    memory = InMemoryDedupStore(mode=scenario.mode) if scenario.store == "memory" else None
    store = memory if memory is not None else dynamodb_store(real.dedup, scenario.mode)
    subject = dataclasses.replace(real, dedup=store)
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
    # Not timed: the first connection, boto3 client, secret cache and Pydantic's first validations.
    deliver(build_batches(scenario, 1, run + "-warm", messages=1)[0])
    batches = build_batches(scenario, count, run)
    fake.clear()
    calls_before, seconds_before, writes_before, reads_before = counter.snapshot()
    server_before = server_cpu_s()
    store_writes_before = store.writes
    delivered = failed = done = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for batch in batches:
        got, lost = deliver(batch)
        delivered, failed = delivered + got, failed + lost
        done += len(batch) * scenario.events
        if time.perf_counter() - wall0 > scenario.time_cap_s:
            break
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    server_after = server_cpu_s()
    calls_after, seconds_after, writes_after, reads_after = counter.snapshot()
    calls = calls_after - calls_before
    seconds = seconds_after - seconds_before
    fake_summary = fake.summary()
    fake.clear()
    store_writes = store.writes - store_writes_before  # write units, as the store counts them
    log_bytes = None
    if scenario.via_handler:  # after the timed batches, on new ones: what CloudWatch Logs would ingest
        sample = iter(build_batches(scenario, LOG_SAMPLE_BATCHES, run + "-logs"))
        log_bytes = log_bytes_per_request(lambda: deliver(next(sample)), LOG_SAMPLE_BATCHES)
        fake.clear()
    return {
        "scenario": scenario.name,
        "store": scenario.store,
        "dedup_mode": str(scenario.mode),
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
        # Write units (1 KB each) as the store counts them (ForwardReport.dedup_writes): what DynamoDB bills.
        "dedup_write_units_per_event": store_writes / done,
        # Item write requests in the calls botocore sent: the independent count (never more than the units).
        "dedup_write_requests_per_event": (writes_after - writes_before) / done if memory is None else None,
        "dedup_item_reads_per_event": (reads_after - reads_before) / done,
        "dynamodb_calls": dict(calls),
        "dynamodb_calls_per_event": sum(calls.values()) / done,
        "dynamodb_ms_per_call": {name: seconds[name] * 1000 / count for name, count in calls.items()},
        "server_cpu_ms_per_event": (
            (server_after - server_before) * 1000 / done
            if server_before is not None and server_after is not None
            else None
        ),
        "handler_log_bytes_per_batch": log_bytes,  # handler stdout, without Lambda's platform lines
    }


def dynamodb_store(runtime: DedupStore, mode: DedupMode) -> DynamoDedupStore:
    """The runtime's DynamoDB store (table, lease, TTL from ForwardFunction's environment) in `mode`."""
    assert isinstance(runtime, DynamoDedupStore), runtime
    return DynamoDedupStore(
        runtime.table_name, mode=mode, lease_seconds=runtime.lease_seconds, ttl_seconds=runtime.ttl_seconds
    )


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
