"""The chaos harness behind `make chaos`: delivery under faults, crashes and duplicates, judged from the
fake Events API's own record.

It runs the whole local stack, sends N events through POST /events (with resends, some concurrent), while
the fake answers a share of requests with retryable errors, rejects marked events permanently, and the
forwarder's process is killed at random checkpoints. Some events also get a *refused copy*: the same
pixel, event and event_id with properties TikTok refuses (40002), sent at the same moment as the real
request, or — a pre-claim, as anyone guessing order numbers could do — just before it. The refused copy
may hold the claim first and is parked; the real conversion must still be delivered. Then it checks, per
unique event: accepted exactly once, or — for the marked ones — parked in the DLQ with TikTok's reason;
and that nothing is left in flight. A second acceptance is only excused when a crash hit between that
event's successful send and its "delivered" write (an ambiguous crash: TikTok's own 48 h dedup absorbs
the resend); any other repeat counts as delivered twice. It also measures delivery latency, from the
collector's 202 to TikTok's acceptance, and fails if the last event arrives later than `delivery_bound_s`
after the last POST, plus the waits the retry schedule asks of the run's most-faulted event
(`retry_backoff_allowance_s`: six faults in a row are 2+4+…+64 s by design): failed messages must come
back after their retry delay (ttrelay.forward.redelivery), not after the queue's visibility timeout.
Last, it times how long after the last delivery the events queue was empty (nothing visible, nothing in
flight) and fails beyond `drain_bound_s`: a finished message that was not deleted would sit in flight for
a whole visibility timeout and come back as a duplicate.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ttrelay.forward.dedup import DedupMode

from ttrelay_dev.local.delivery_latency import (
    backoff_allowance_s,
    first_acceptance,
    last_acceptance,
    latency_figures,
)
from ttrelay_dev.local.stack import LOCAL_API_KEY, LOCAL_PIXEL, LocalStack, StackOptions

RETRYABLE_CODES = [50000, 50002, 40100, 61000]
REFUSED_CONTENT_ID = "chaos-refused"  # the fake refuses every event whose contents name it
RETRYABLE_STATUSES = [500, 502, 503, 429]


@dataclass(frozen=True)
class ChaosConfig:
    events: int = 20_000
    duplicate_share: float = 0.1  # share of requests sent twice (half of them concurrently)
    cross_channel_share: float = 0.02  # events also sent alone in another request ("browser + backend")
    error_rate: float = 0.3
    latency_ms: int = 2
    permanent_events: int = 10
    refused_copies: int = 10  # events with a refused copy sent at the same moment as the real request
    pre_claims: int = 10  # events with a refused copy sent just before the real request (a pre-claim)
    crash_rate: float = 0.02  # per forwarder checkpoint (two per invocation)
    lease_seconds: int = 20
    dedup_mode: DedupMode = DedupMode.MESSAGE  # who owns a dedup claim (docs/delivery.md#dedup-modes)
    batch_size: int = 100  # ForwardBatchSize for the run; smaller batches mean more invocations to crash
    senders: int = 8
    seed: int = 1
    drain_timeout_s: float = 1800.0
    # Every deliverable event must reach TikTok within this many seconds of the last POST.
    delivery_bound_s: float = 180.0
    # The events queue must be empty within this many seconds of the last delivery.
    drain_bound_s: float = 60.0
    # The queue's VisibilityTimeout; None: the claim lease + 5 s, as crashes need (see `run`). A run
    # without crashes can keep the template's 360 s, so a message left in flight cannot hide.
    visibility_timeout_s: int | None = None


@dataclass
class ChaosResult:
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class _Posted:
    """What the senders saw: refusals, and when the collector accepted each event first (its 202)."""

    rejected: int = 0
    first_accepted_at: dict[str, float] = field(default_factory=dict)
    last_accepted_at: float = 0.0


@dataclass(frozen=True)
class _Plan:
    requests: list[list[str]]  # event ids per request, in sending order
    concurrent_pairs: set[int]  # request indexes sent twice at the same time
    later_resends: list[int]  # request indexes sent again at the end
    unique: list[str]
    permanent: set[str]
    refused_alongside: set[str]  # a refused copy goes out at the same moment as the real request
    pre_claimed: set[str]  # a refused copy goes out just before the real request

    @property
    def contested(self) -> set[str]:
        return self.refused_alongside | self.pre_claimed


def plan(config: ChaosConfig) -> _Plan:
    rng = random.Random(config.seed)
    ids = [f"chaos-{config.seed}-{i:06d}" for i in range(config.events)]
    requests: list[list[str]] = []
    cursor = 0
    while cursor < len(ids):
        size = rng.randint(1, 5)
        requests.append(ids[cursor : cursor + size])
        cursor += size
    duplicated = rng.sample(range(len(requests)), int(len(requests) * config.duplicate_share))
    half = len(duplicated) // 2
    cross = rng.sample(ids, int(len(ids) * config.cross_channel_share))
    requests.extend([[event_id] for event_id in cross])  # the same event from a second channel
    permanent = set(rng.sample(ids, min(config.permanent_events, len(ids))))
    good = [event_id for event_id in ids if event_id not in permanent]
    contested = rng.sample(good, min(config.refused_copies + config.pre_claims, len(good)))
    alongside, pre_claimed = contested[: config.refused_copies], contested[config.refused_copies :]
    return _Plan(
        requests, set(duplicated[:half]), duplicated[half:], ids, permanent, set(alongside), set(pre_claimed)
    )


def run(root: Path, config: ChaosConfig, log_dir: Path | None = None) -> ChaosResult:
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="ttrelay-chaos-"))
    crash_log = log_dir / "crashes.jsonl"
    function_log = log_dir / "functions.log"
    work = plan(config)
    timeout = max(1, config.lease_seconds // 4)
    with function_log.open("w") as output:
        stack = LocalStack(
            StackOptions(
                root=root,
                port=0,
                # The queue must hide a message longer than a claim's lease (AWS: ≥ the function timeout).
                visibility_timeout=config.visibility_timeout_s or config.lease_seconds + 5,
                parameter_overrides={
                    "ForwardBatchSize": str(config.batch_size),
                    "ForwardBatchWindowSeconds": "1",
                    # Crashes and 30 % faults cost receives; the DLQ should hold only the marked events.
                    "MaxReceiveCount": "50",
                },
                function_environment={
                    "ForwardFunction": {
                        "LOCAL_CRASH_RATE": str(config.crash_rate),
                        "LOCAL_CRASH_LOG": str(crash_log),
                        "CLAIM_LEASE_SECONDS": str(config.lease_seconds),
                        "DEDUP_MODE": config.dedup_mode.value,
                        "EVENTS_API_TIMEOUT_SECONDS": str(timeout),
                    }
                },
                log_output=output,
            )
        ).start()
        try:
            return _exercise(stack, config, work, crash_log, function_log)
        finally:
            stack.stop()


def _exercise(
    stack: LocalStack, config: ChaosConfig, work: _Plan, crash_log: Path, function_log: Path
) -> ChaosResult:
    import httpx

    httpx.post(
        f"{stack.base_url}/_local/tiktok/faults",
        json={
            "error_rate": config.error_rate,
            "codes": RETRYABLE_CODES,
            "http_status": RETRYABLE_STATUSES,
            "latency_ms": config.latency_ms,
            "seed": config.seed,
            "permanent_event_ids": sorted(work.permanent),
            "permanent_content_ids": [REFUSED_CONTENT_ID],
            "permanent_code": 40002,
        },
    ).raise_for_status()
    started = time.monotonic()
    posted = _send_all(stack.base_url, work, config.senders)
    sent_s = time.monotonic() - started
    stuck, empty_since = _drain(stack, config.drain_timeout_s)
    wall_s = time.monotonic() - started
    drained_s = time.time() - posted.last_accepted_at
    last_delivery = last_acceptance(stack.fake.records())
    empty_after_delivery_s = empty_since - last_delivery if empty_since and last_delivery else None
    return _judge(
        stack,
        config,
        work,
        crash_log,
        function_log,
        posted,
        stuck,
        _Timings(sent_s, wall_s, drained_s, empty_after_delivery_s),
    )


@dataclass(frozen=True)
class _Timings:
    sent_s: float
    wall_s: float
    drained_after_last_post_s: float
    queue_empty_after_last_delivery_s: float | None


def _send_all(base_url: str, work: _Plan, senders: int) -> _Posted:
    import httpx

    local = threading.local()
    lock = threading.Lock()
    posted = _Posted()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            # A backend, as a shop's order system would send: the stack's own key.
            headers = {"authorization": f"Bearer {LOCAL_API_KEY}"}
            local.client = httpx.Client(base_url=base_url, timeout=60, headers=headers)
        made: httpx.Client = local.client
        return made

    def post_refused(event_id: str) -> None:
        """A copy of the event that TikTok refuses for its properties; not counted as the event's 202."""
        properties = {"value": 1, "currency": "EUR", "content_id": REFUSED_CONTENT_ID}
        body = {
            "consent": {"cmp": {"marketing": True}},
            "user": {"email": "someone.else@example.com"},
            "events": [{"event": "Purchase", "event_id": event_id, "properties": properties}],
        }
        if client().post("/events", json=body).status_code != 202:
            with lock:
                posted.rejected += 1

    def post(index: int) -> None:
        for event_id in work.pre_claimed.intersection(work.requests[index]):
            post_refused(event_id)  # accepted, so queued, before the real request is even sent
        events = [
            {"event": "Purchase", "event_id": event_id, "properties": {"value": 1, "currency": "EUR"}}
            for event_id in work.requests[index]
        ]
        body = {
            "consent": {"cmp": {"marketing": True}},
            "user": {"email": f"buyer{index}@example.com"},
            "events": events,
        }
        response = client().post("/events", json=body)
        accepted_at = time.time()  # the fake Events API stamps `received_at` with the same wall clock
        with lock:
            if response.status_code != 202:
                posted.rejected += 1
                return
            posted.last_accepted_at = max(posted.last_accepted_at, accepted_at)
            for event_id in work.requests[index]:
                posted.first_accepted_at.setdefault(event_id, accepted_at)

    order = list(range(len(work.requests)))
    with ThreadPoolExecutor(max_workers=senders) as pool:
        for index in order:
            for event_id in work.refused_alongside.intersection(work.requests[index]):
                pool.submit(post_refused, event_id)  # races the real request to the claim
            pool.submit(post, index)
            if index in work.concurrent_pairs:
                pool.submit(post, index)  # the same request twice at the same time (a double submit)
    with ThreadPoolExecutor(max_workers=senders) as pool:
        list(pool.map(post, work.later_resends))  # a browser retrying after the first copy landed
    return posted


_DRAIN_POLL_S = 0.5
_QUIET_S = 3.0  # the queue must stay empty this long to count as drained


def _drain(stack: LocalStack, timeout_s: float) -> tuple[dict[str, int], float | None]:
    """Waits until the queue stays empty; returns what is left if it never does, and the wall-clock time
    from which it stayed empty."""
    deadline = time.monotonic() + timeout_s
    empty_since: float | None = None
    next_report = time.monotonic() + 15
    while time.monotonic() < deadline:
        state = stack.queue_state()
        if state["visible"] or state["in_flight"]:
            empty_since = None
        elif empty_since is None:
            empty_since = time.time()
        elif time.time() - empty_since >= _QUIET_S:
            return {}, empty_since
        if time.monotonic() >= next_report:
            next_report += 15
            delivered = stack.fake.summary()["unique_events_accepted"]
            print(
                f"chaos: {delivered} unique events accepted so far; queue {state}",
                file=sys.stderr,
                flush=True,
            )
        time.sleep(_DRAIN_POLL_S)
    return stack.queue_state(), None


def _crashes(crash_log: Path) -> tuple[Counter[str], set[str]]:
    points: Counter[str] = Counter()
    ambiguous: set[str] = set()
    if crash_log.exists():
        for line in crash_log.read_text().splitlines():
            crash = json.loads(line)
            points[crash["point"]] += 1
            if crash["point"] == "sent":
                ambiguous.update(crash["keys"])
    return points, ambiguous


def _metric_sum(function_log: Path, name: str) -> float:
    """Sums an EMF metric from the functions' output, as CloudWatch would from their logs."""
    total = 0.0
    # Lines end at "\n" only, as Lambda splits them: a JSON line may hold U+2028 raw, which splitlines()
    # would cut in two.
    for line in function_log.read_text(errors="replace").split("\n"):
        if line.startswith('{"_aws"') and f'"{name}"' in line:
            total += sum(json.loads(line).get(name, []))
    return total


def _parked(stack: LocalStack) -> dict[str, str]:
    """event_id -> reason for every event in the DLQ."""
    assert stack.provisioned is not None
    sqs = stack.clients()["sqs"]
    url = stack.provisioned.queue_urls["EventsDLQ"]
    parked: dict[str, str] = {}
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            VisibilityTimeout=600,
        ).get("Messages", [])
        if not messages:
            return parked
        for message in messages:
            reason = (
                message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "max_receive_count")
            )
            for event in json.loads(message["Body"]).get("events", []):
                parked[event["event_id"]] = reason


def _judge(
    stack: LocalStack,
    config: ChaosConfig,
    work: _Plan,
    crash_log: Path,
    function_log: Path,
    posted: _Posted,
    stuck: dict[str, int],
    timings: _Timings,
) -> ChaosResult:
    accepted = Counter[str]()
    for (pixel, _event, event_id, _test), count in stack.fake.accepted_counts().items():
        if pixel == LOCAL_PIXEL:
            accepted[event_id] += count
    points, ambiguous_keys = _crashes(crash_log)
    ambiguous = {key.rsplit("#", 1)[-1] for key in ambiguous_keys}
    parked = _parked(stack)
    deliverable = [event_id for event_id in work.unique if event_id not in work.permanent]
    once = sum(1 for event_id in deliverable if accepted[event_id] == 1)
    repeats = [event_id for event_id in deliverable if accepted[event_id] > 1]
    twice = [event_id for event_id in repeats if event_id not in ambiguous]
    lost = [event_id for event_id in deliverable if accepted[event_id] == 0]
    permanent_parked = [e for e in work.permanent if parked.get(e, "").startswith("code:4")]
    contested_lost = [event_id for event_id in lost if event_id in work.contested]
    summary = stack.fake.summary()
    delivered_unique = len(deliverable) - len(lost)
    writes = _metric_sum(function_log, "DedupWrites")
    latency = latency_figures(
        {
            event_id: posted.first_accepted_at[event_id]
            for event_id in deliverable
            if event_id in posted.first_accepted_at
        },
        first_acceptance(stack.fake.records(), LOCAL_PIXEL),
        posted.last_accepted_at,
    )
    sent_events = (
        sum(len(request) for request in work.requests)
        + sum(len(work.requests[i]) for i in work.concurrent_pairs | set(work.later_resends))
        + len(work.contested)
    )
    allowance = backoff_allowance_s(stack.fake.records())
    result = ChaosResult()
    result.figures = {
        "events_sent": sent_events,
        "unique_events": len(work.unique),
        "requests_rejected_by_collector": posted.rejected,
        "delivered_once": once,
        "delivered_twice": len(twice),
        "resent_after_ambiguous_crash": len(repeats) - len(twice),
        # Every acceptance beyond the first, whatever its cause: what TikTok's own dedup had to absorb.
        "extra_acceptances_at_events_api": sum(accepted[event_id] - 1 for event_id in repeats),
        "lost": len(lost),
        "marked_permanent": len(work.permanent),
        "permanent_in_dlq_with_reason": len(permanent_parked),
        "other_events_in_dlq": len([e for e in parked if e not in work.permanent | work.contested]),
        # Good copies of an event behind a refused copy (sent alongside, or a pre-claim sent first): each
        # must reach TikTok; the refused copy is parked, or answered "duplicate" if the good one won.
        "refused_copies_sent": {"alongside": len(work.refused_alongside), "before": len(work.pre_claimed)},
        "refused_copies_in_dlq": len([e for e in work.contested if e in parked]),
        "good_copies_delivered": len([e for e in work.contested if accepted[e] >= 1]),
        "left_in_flight": stuck,
        "events_api_requests": summary["requests"],
        "events_api_requests_faulted": summary["faulted_requests"],
        "forwarder_crashes": dict(points),
        # Under chaos: failed conditional claims of duplicates, releases and re-claims after faults count too.
        "dynamodb_writes_per_delivered_event": round(writes / max(delivered_unique, 1), 3),
        "events_per_s_end_to_end": round(delivered_unique / timings.wall_s, 1) if timings.wall_s else None,
        "send_phase_s": round(timings.sent_s, 1),
        "wall_time_s": round(timings.wall_s, 1),
        # From the collector's 202 to TikTok's acceptance, per deliverable event.
        "delivery_latency_s": latency,
        # What the retry schedule may add for the most-faulted event: the delivery bound is this much later.
        "retry_backoff_allowance_s": round(allowance, 1),
        # The queues were seen empty (for 3 s in a row) this long after the last POST.
        "drained_after_last_post_s": round(timings.drained_after_last_post_s, 1),
        # From TikTok's last accepted request to the first moment the events queue stayed empty.
        "queue_empty_after_last_delivery_s": _rounded(timings.queue_empty_after_last_delivery_s),
        "config": {key: getattr(config, key) for key in config.__dataclass_fields__},
    }
    if lost:
        result.problems.append(f"{len(lost)} events lost, e.g. {lost[:5]}")
    if contested_lost:
        result.problems.append(f"{len(contested_lost)} good copies lost behind a refused copy")
    if twice:
        result.problems.append(
            f"{len(twice)} events delivered twice without an ambiguous crash, e.g. {twice[:5]}"
        )
    if len(permanent_parked) != len(work.permanent):
        result.problems.append(f"{len(work.permanent) - len(permanent_parked)} marked events not in the DLQ")
    if stuck:
        result.problems.append(f"not drained: {stuck}")
    if posted.rejected:
        result.problems.append(f"{posted.rejected} requests refused by the collector")
    empty_after = timings.queue_empty_after_last_delivery_s
    if empty_after is not None and empty_after > config.drain_bound_s:
        result.problems.append(
            f"queue empty {empty_after:.1f} s after the last delivery (bound {config.drain_bound_s} s)"
        )
    late = latency["last_delivery_after_last_post_s"]
    bound = config.delivery_bound_s + allowance
    if late is not None and late > bound:
        result.problems.append(
            f"the last event reached TikTok {late} s after the last POST (bound {config.delivery_bound_s} s "
            f"+ {allowance:.0f} s of retry backoff for its most-faulted event)"
        )
    return result


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
