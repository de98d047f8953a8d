"""Which match keys accepted events carry. TikTok attributes an event to a person only through these
(reference §3), so the share of events carrying each one says how well a pixel's events can match.
Presence only: no value is ever read beyond "is it there"."""

from __future__ import annotations

from collections.abc import Iterable

from ttrelay.models import TikTokEvent, TikTokUser

# ip and user agent count as one key: TikTok's advanced matching uses them as a pair.
MATCH_KEYS = ("ttclid", "ttp", "email", "phone", "external_id", "ip_user_agent")


def carried_match_keys(user: TikTokUser) -> tuple[str, ...]:
    present = {
        "ttclid": bool(user.ttclid),
        "ttp": bool(user.ttp),
        "email": bool(user.email),
        "phone": bool(user.phone),
        "external_id": bool(user.external_id),
        "ip_user_agent": bool(user.ip and user.user_agent),
    }
    return tuple(key for key in MATCH_KEYS if present[key])


def match_key_coverage(events: Iterable[TikTokEvent]) -> dict[str, int]:
    """{match key: how many of `events` carry it}, every key of MATCH_KEYS present (zero included)."""
    counts = dict.fromkeys(MATCH_KEYS, 0)
    for event in events:
        for key in carried_match_keys(event.user):
            counts[key] += 1
    return counts
