"""What one forward invocation did for one pixel, for per-pixel metrics (ttrelay.observability.telemetry)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ttrelay.forward.events_api import Classification


@dataclass(frozen=True, slots=True)
class TimedAnswer:
    """One Events API request's answer and how long it took (milliseconds, wall clock)."""

    outcome: Classification
    latency_ms: float


@dataclass(slots=True)
class PixelTally:
    delivered: int = 0
    duplicates: int = 0
    parked_by_reason: Counter[str] = field(default_factory=Counter)  # DLQ reason code -> events
    answers: list[TimedAnswer] = field(default_factory=list)
