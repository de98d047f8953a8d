"""Figure 2: warm CollectFunction time per event, the SQS call left out.

    python bench/collect_warm.py OUT.json ROOT     (with CollectFunction's environment)

Drives the real `handler` of functions/collect/app.py (its routing, the `collected` line with its EMF
counts, the answer) with function URL events; only the queue and the secrets are replaced in memory. Run
it with stdout sent to /dev/null: the handler writes one line per request, as it does in Lambda.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fixtures
from cold_child import Context, load_app
from ttrelay.collect.cookie import SigningKeys
from ttrelay.collect.use_case import CollectDeps, HttpRequest, collect
from ttrelay.config import collect_settings
from ttrelay.consent.policy import load_policy, with_vendor
from ttrelay.models import QueuedEvents

WARMUP_REQUESTS = 100
# Distinct requests replayed in turn: more than any input-keyed cache on the path holds (urlsplit's 128).
RING_SIZE = 512
TIME_CAP_S = 4.0
MAX_REQUESTS = {1: 4000, 10: 800}


class ListQueue:
    """Stands in for SQS: keeps the serialised message, which is all the collector produces."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send(self, body: str) -> None:
        self.bodies.append(body)


def timed(call: Callable[[], object], max_calls: int) -> tuple[list[float], list[float]]:
    """Per-call CPU and wall seconds, until `max_calls` or TIME_CAP_S."""
    cpu, wall = [], []
    deadline = time.perf_counter() + TIME_CAP_S
    while len(cpu) < max_calls and time.perf_counter() < deadline:
        c0, w0 = time.thread_time(), time.perf_counter()
        call()
        c1, w1 = time.thread_time(), time.perf_counter()
        cpu.append(c1 - c0)
        wall.append(w1 - w0)
    return cpu, wall


def per_event_ms(samples: list[float], events: int) -> dict[str, float]:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    scale = 1000 / events
    return {
        "mean": statistics.fmean(ordered) * scale,
        "median": statistics.median(ordered) * scale,
        "p90": p90 * scale,
    }


def log_bytes_per_request(call: Callable[[], object], requests: int = 200) -> float:
    """What the handler writes to stdout (CloudWatch Logs in Lambda) per request: its log line and EMF
    document, counted at the file descriptor, where both Powertools' logger and its metrics end up."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            for _ in range(requests):
                call()
            sys.stdout.flush()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        return os.fstat(sink.fileno()).st_size / requests


def returning_visitor_cookie(response: dict[str, Any]) -> str:
    """The signed click-id cookie the first response set; later requests carry it (verify + re-sign)."""
    cookie: str = response["cookies"][0].split(";", 1)[0]
    return cookie.removeprefix("ttrelay=")


@dataclass(frozen=True)
class WarmCollector:
    """The collect handler wired in memory, and what a returning visitor's requests carry."""

    app: Any
    deps: CollectDeps
    queue: ListQueue
    context: Context
    first: dict[str, Any]  # the first response (a new visitor: it sets the cookie)
    cookie: str

    def handler_call(self, events: int) -> Callable[[], object]:
        """One call per request, the next of a ring of RING_SIZE distinct requests each time."""
        ring = itertools.cycle(self.events(events))
        return lambda: self.app.handler(next(ring), self.context)

    def use_case_call(self, events: int) -> Callable[[], object]:
        """`collect()` alone on the same requests, without the handler's routing, reporting and answer."""
        requests = [
            HttpRequest(
                body=event["body"].encode(),
                headers=event["headers"],
                cookies={"ttrelay": self.cookie},
                source_ip="203.0.113.24",
                user_agent=fixtures.USER_AGENT,
            )
            for event in self.events(events)
        ]
        ring = itertools.cycle(requests)
        return lambda: collect(next(ring), self.deps)

    def events(self, events: int) -> list[dict[str, Any]]:
        """A returning visitor's requests, each another order (fixtures.collect_body)."""
        return [
            fixtures.collect_event(events=events, request_no=number, cookie=self.cookie)
            for number in range(RING_SIZE)
        ]


def warm_collector(root: Path) -> WarmCollector:
    """The real handler with only the queue, the secrets and the clock replaced, after one first request."""
    app = load_app(root / "functions" / "collect")
    settings = collect_settings()
    queue = ListQueue()
    keys = SigningKeys.from_secret(fixtures.SIGNING_SECRET)
    deps = CollectDeps(
        settings=settings,
        queue=queue,
        policy=with_vendor(load_policy(settings.policy_file or None), settings.tiktok_vendor_id),
        signing_keys=lambda: keys,
        origin_secret=lambda: fixtures.ORIGIN_SECRET,
        clock=lambda: fixtures.PINNED_NOW,
    )
    app.collect_deps = lambda: deps  # the cached runtime wiring, swapped for the in-memory one
    context = Context()
    first = app.handler(fixtures.collect_event(events=1), context)
    return WarmCollector(app, deps, queue, context, first, returning_visitor_cookie(first))


def main() -> None:
    out, root = Path(sys.argv[1]), Path(sys.argv[2])
    warm = warm_collector(root)
    queue, first = warm.queue, warm.first
    results: dict[str, Any] = {
        "first_response_status": first["statusCode"],
        "decision": json.loads(first["body"])["decision"],
    }
    for events in (1, 10):
        call = warm.handler_call(events)
        for _ in range(WARMUP_REQUESTS):
            call()
        log_bytes = log_bytes_per_request(call)
        queue.bodies.clear()
        cpu, wall = timed(call, MAX_REQUESTS[events])
        queued = [json.loads(body) for body in queue.bodies[:3]]
        first_sent = QueuedEvents.model_validate(queued[0]).api_events()[0]
        results[f"handler_{events}"] = {
            "requests": len(cpu),
            "events_per_request": events,
            "cpu_ms_per_event": per_event_ms(cpu, events),
            "wall_ms_per_event": per_event_ms(wall, events),
            "log_bytes_per_request": log_bytes,
            "queued_messages": len(queue.bodies),
            "events_per_message": sorted({len(message["events"]) for message in queued}),
            # As TikTok gets them: the request's identifiers are queued once per message (v2).
            "hashed_fields": sorted(
                key for key in ("email", "phone", "external_id") if getattr(first_sent.user, key)
            ),
        }
        # The use case alone, without the handler's routing, reporting and answer: where the time goes.
        queue.bodies.clear()
        cpu, wall = timed(warm.use_case_call(events), MAX_REQUESTS[events])
        results[f"use_case_{events}"] = {
            "requests": len(cpu),
            "events_per_request": events,
            "cpu_ms_per_event": per_event_ms(cpu, events),
            "wall_ms_per_event": per_event_ms(wall, events),
        }
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
