"""Limits a collect request must keep beyond its schema: JSON nesting depth and the event_time window.

Both are checked in time linear in the body, before the work they protect: `json.loads` recurses once
per nesting level (20,000 levels raise RecursionError, a 502), and an event far from now is one TikTok
may refuse or misattribute (its window for web events is UNCONFIRMED, reference §4).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate

from ttrelay.models import EventIn

# The request's own shape is 6 levels deep (body > events > event > properties > contents > content).
MAX_JSON_DEPTH = 32

# A JSON string literal (escapes included) and a run of characters that are not brackets: what the
# depth scan skips. The unrolled string pattern never backtracks: '"', '\\' and the rest are disjoint.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside string literals nest deeper than `limit` (checked before parsing)."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep, strings or not
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


def event_time_errors(
    events: Sequence[EventIn], now: float, max_future_seconds: int, max_age_seconds: int
) -> list[dict[str, object]]:
    """One error per event whose event_time is outside [now - max age, now + max future]."""
    earliest, latest = now - max_age_seconds, now + max_future_seconds
    return [
        {
            "loc": f"events.{index}.event_time",
            "type": "event_time_window",
            "msg": f"event_time must be at most {max_age_seconds} s old and {max_future_seconds} s ahead",
        }
        for index, event in enumerate(events)
        if event.event_time is not None and not earliest <= event.event_time <= latest
    ]
