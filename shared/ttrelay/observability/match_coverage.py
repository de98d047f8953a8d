"""Which match keys accepted events carry. TikTok attributes an event to a person only through these
(reference §3), so the share of events carrying each one says how well a pixel's events can match.
Presence only: no value is ever read beyond "is it there"."""

from __future__ import annotations

from ttrelay.models import QueuedEvents, TikTokUser

# ip and user agent count as one key: TikTok's advanced matching uses them as a pair.
MATCH_KEYS = ("ttclid", "ttp", "email", "phone", "external_id", "ip_user_agent")
_PRESENCE_FIELDS = ("ttclid", "ttp", "email", "phone", "external_id", "ip", "user_agent")


def _present(user: TikTokUser | None) -> set[str]:
    return set() if user is None else {name for name in _PRESENCE_FIELDS if getattr(user, name)}


def carried_match_keys(present: set[str]) -> tuple[str, ...]:
    """The match keys of a user whose set fields (of _PRESENCE_FIELDS) are `present`."""
    pair = "ip" in present and "user_agent" in present
    return tuple(key for key in MATCH_KEYS if key in present or (key == "ip_user_agent" and pair))


def match_key_coverage(message: QueuedEvents | None) -> dict[str, int]:
    """{match key: how many of the message's events carry it}, every key of MATCH_KEYS present (zero
    included). Each event as TikTok gets it (QueuedEvents.api_event: the shared user and its own match
    keys), read without building those events: a field is there when either of them has it."""
    counts = dict.fromkeys(MATCH_KEYS, 0)
    if message is None:
        return counts
    shared = _present(message.shared.user if message.shared else None)
    for event in message.events:
        for key in carried_match_keys(shared | _present(event.user)):
            counts[key] += 1
    return counts
