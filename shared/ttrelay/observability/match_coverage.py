"""Which match keys accepted events carry. TikTok attributes an event to a person only through these
(reference §3), so the share of events carrying each one says how well a pixel's events can match.
Presence only: no value is ever read beyond "is it there"."""

from __future__ import annotations

from itertools import compress
from operator import attrgetter

from ttrelay.models import QueuedEvents, TikTokUser

# ip and user agent count as one key: TikTok's advanced matching uses them as a pair.
MATCH_KEYS = ("ttclid", "ttp", "email", "phone", "external_id", "ip_user_agent")
_PRESENCE_FIELDS = ("ttclid", "ttp", "email", "phone", "external_id", "ip", "user_agent")


_presence_values = attrgetter(*_PRESENCE_FIELDS)


def _present(user: TikTokUser | None) -> set[str]:
    """The fields of _PRESENCE_FIELDS that `user` sets (to a true value)."""
    return set() if user is None else set(compress(_PRESENCE_FIELDS, _presence_values(user)))


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
    # Events whose own user adds nothing to the shared one (usually all of them) carry the shared keys.
    alike = 0
    for event in message.events:
        own = _present(event.user)
        if own <= shared:
            alike += 1
            continue
        for key in carried_match_keys(shared | own):
            counts[key] += 1
    for key in carried_match_keys(shared):
        counts[key] += alike
    return counts
