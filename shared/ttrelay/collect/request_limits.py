"""Limits a collect request must keep beyond its schema: JSON nesting depth, names unique within an
object, and the event_time window.

Both are checked in time linear in the body, before the work they protect: `json.loads` recurses once
per nesting level (20,000 levels raise RecursionError, a 502), and an event far from now is one TikTok
may refuse or misattribute (its window for web events is UNCONFIRMED, reference §4).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate

# The request's own shape is 6 levels deep (body > events > event > properties > contents > content).
MAX_JSON_DEPTH = 32

# A JSON string literal (escapes included), or an unterminated one up to the end of the text, and a run
# of characters that are not brackets: what the depth scan skips, in one left-to-right pass. The string
# pattern cannot fail once it has seen '"' (it ends at the closing quote or at the end of the text), so no
# scan restarts inside a string: a pattern that demanded the closing quote retried at every '"' of an
# unterminated string, and '"' + '\\"' * 32,700 took 25 s (tests/unit/test_bounds.py).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside string literals nest deeper than `limit` (checked before parsing)."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep, strings or not
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


class RepeatedName(ValueError):
    """A JSON object names one member twice."""


def unique_names(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """`json.loads`' object_pairs_hook: each object as a dict, refused when it repeats a name.

    Parsers disagree on which copy counts (Python keeps the last, others the first), so a body holding
    `{"marketing": false, "marketing": true}` would mean a refusal to one reader and a grant to another."""
    document = dict(pairs)
    if len(document) != len(pairs):
        raise RepeatedName
    return document


# `json.loads(text, object_pairs_hook=unique_names)` without building a decoder and its scanner per body.
BODY_DECODER = json.JSONDecoder(object_pairs_hook=unique_names)


@dataclass(frozen=True, slots=True)
class EventTimeWindow:
    """The event_time values accepted: [now - max age, now + max future] (CollectSettings)."""

    now: float
    max_future_seconds: int
    max_age_seconds: int

    def admits(self, event_time: int) -> bool:
        return self.now - self.max_age_seconds <= event_time <= self.now + self.max_future_seconds

    @property
    def rule(self) -> str:
        return (
            f"event_time must be at most {self.max_age_seconds} s old and {self.max_future_seconds} s ahead"
        )
