"""Delivery latency on the local stack: from the collector's acceptance of an event (its 202) to TikTok's
acceptance of a request carrying it (the fake Events API's own record), as `make chaos` reports it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from ttrelay.forward.events_api import Verdict, classify
from ttrelay.forward.redelivery import SCHEDULE, retry_reason


def first_acceptance(records: Iterable[Mapping[str, object]], pixel: str) -> dict[str, float]:
    """event_id -> when the fake first received a request for `pixel` carrying it that it accepted."""
    accepted: dict[str, float] = {}
    for record in records:
        body = record.get("body")
        if not record.get("accepted") or not isinstance(body, dict) or body.get("event_source_id") != pixel:
            continue
        received_at = float(str(record["received_at"]))
        for event in body.get("data", []):
            event_id = str(event.get("event_id"))
            accepted[event_id] = min(received_at, accepted.get(event_id, received_at))
    return accepted


def last_acceptance(records: Iterable[Mapping[str, object]]) -> float | None:
    """When the fake received the last request it accepted (the last delivery), None before any."""
    accepted = [float(str(record["received_at"])) for record in records if record.get("accepted")]
    return max(accepted, default=None)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value at least `share` of the sorted `values` do not exceed."""
    return values[max(0, math.ceil(share * len(values)) - 1)]


def latency_figures(
    posted: Mapping[str, float], accepted: Mapping[str, float], last_post: float
) -> dict[str, float | None]:
    """p50/p99/max seconds from POST to acceptance over the events in `posted` that arrived, and how long
    after the last POST the last of them arrived (the drain time the chaos bound is about)."""
    arrived = [event_id for event_id in posted if event_id in accepted]
    if not arrived:
        return {"p50_s": None, "p99_s": None, "max_s": None, "last_delivery_after_last_post_s": None}
    latencies = sorted(accepted[event_id] - posted[event_id] for event_id in arrived)
    last = max(accepted[event_id] for event_id in arrived)
    return {
        "p50_s": round(percentile(latencies, 0.5), 2),
        "p99_s": round(percentile(latencies, 0.99), 2),
        "max_s": round(latencies[-1], 2),
        "last_delivery_after_last_post_s": round(last - last_post, 2),
    }


def backoff_allowance_s(records: Iterable[Mapping[str, object]]) -> float:
    """The longest wait the retry schedule (ttrelay.forward.redelivery) may ask of one event, from the
    faulted requests that carried it: after its n-th failed attempt a message waits at most its reason's
    min(cap, base·2^(n-1)); the waits of one event are summed, and the largest sum is the allowance.

    A run's last delivery may come this much later than its bound without anything being stuck: an event
    that met six faults in a row waits 2+4+…+64 s by design, not because a message was left in flight."""
    failures: Counter[str] = Counter()
    allowance: dict[str, float] = {}
    for record in records:
        if record.get("fault") is None:
            continue
        status = record.get("status")
        outcome = classify(status if isinstance(status, int) else None, record.get("response"))
        if outcome.verdict is not Verdict.RETRY:
            continue
        curve = SCHEDULE[retry_reason(outcome)]
        body = record.get("body")
        for event in body.get("data", []) if isinstance(body, dict) else []:
            event_id = str(event.get("event_id"))
            failures[event_id] += 1
            ceiling = curve.base_seconds * 2.0 ** (failures[event_id] - 1)
            allowance[event_id] = allowance.get(event_id, 0.0) + min(curve.cap_seconds, ceiling)
    return max(allowance.values(), default=0.0)
