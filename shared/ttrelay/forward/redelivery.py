"""When a message the forwarder could not finish comes back from SQS: its visibility delay, per reason.

Without it a failed message reappears only after the queue's whole visibility timeout (360 s, sized for
crashes: it must outlive the function timeout and the claim lease). The handler instead sets each failed
message's visibility (ChangeMessageVisibility) to the delay below, keyed on the message's receive count,
so a retryable failure comes back in seconds and backs off as it keeps failing. Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from ttrelay.forward.events_api import MAINTENANCE_CODE, Classification

MAX_VISIBILITY_SECONDS = 43_200  # SQS's limit for a visibility timeout (12 h)
BUSY_BASE_SECONDS = 2.0


class RetryReason(enum.IntEnum):
    """Why a message goes back to the queue, ordered by the wait it asks for: a message holding events
    that failed for several reasons keeps the highest (the report's per-message reason)."""

    FAULT = 1  # 5xx, 50000/50002, timeouts, a request not sent before the deadline, a capped bisection
    BUSY = 2  # another worker holds a live lease on one of its events (dedup claim)
    WAITING = 3  # another queued message holds one of its events unconfirmed: wait for that one's outcome
    RATE_LIMITED = 4  # 40100, 61000, 40016/40132/40133, HTTP 429: TikTok asks the caller to slow down
    MAINTENANCE = 5  # 60001: lasts minutes (reference §6 "longer delay for 60001")


@dataclass(frozen=True, slots=True)
class RetryCurve:
    base_seconds: float  # the wait after the first failed delivery
    cap_seconds: float  # the growth stops here


# docs/delivery.md "When a failed message comes back" has this table and the reasons for each figure.
SCHEDULE: dict[RetryReason, RetryCurve] = {
    RetryReason.FAULT: RetryCurve(2, 300),
    # Starts like a fault (the holder is usually mid-send) and stays short: a copy sees its holder's outcome
    # (confirmed: a duplicate; parked: its turn) within a minute. Over 14 deliveries it waits 4.5-9 min,
    # then takes the claim over on its last one if no send holds it (ttrelay.forward.dedup, `Claim.final`).
    RetryReason.WAITING: RetryCurve(2, 60),
    RetryReason.RATE_LIMITED: RetryCurve(10, 600),
    RetryReason.MAINTENANCE: RetryCurve(60, 900),
}


def retry_reason(outcome: Classification) -> RetryReason:
    """The reason an Events API answer sends its events back to the queue."""
    if outcome.code == MAINTENANCE_CODE:
        return RetryReason.MAINTENANCE
    return RetryReason.RATE_LIMITED if outcome.rate_limited else RetryReason.FAULT


def visibility_delay(
    reason: RetryReason,
    receive_count: int,
    *,
    lease_seconds: float,
    draw: Callable[[], float] = random.random,
) -> int:
    """Whole seconds until a message failed on its `receive_count`-th delivery is visible again.

    Exponential growth, min(cap, base·2^(n-1)), with *equal* jitter (half fixed, half drawn): full jitter
    could bring a message back after ~0 s and spend one of its MaxReceiveCount deliveries for nothing,
    while the drawn half still spreads a herd of messages that failed together over the window.
    A busy event's other worker is nearly always mid-send and done within a second (the event is then
    a duplicate, a success), so it comes back like a fault; a crashed worker's lease runs out within one
    lease, which the growing delay, capped at the lease, reaches in a few deliveries."""
    curve = SCHEDULE.get(reason) or RetryCurve(BUSY_BASE_SECONDS, lease_seconds)
    exponent = min(max(receive_count, 1) - 1, 32)  # 2^32·base is far past every cap already
    ceiling = min(curve.cap_seconds, curve.base_seconds * 2.0**exponent)
    seconds = ceiling / 2 + draw() * ceiling / 2
    # SQS takes whole seconds; 0 would make the message visible at once.
    return min(MAX_VISIBILITY_SECONDS, max(1, math.ceil(seconds)))
