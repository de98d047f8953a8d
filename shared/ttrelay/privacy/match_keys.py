"""Advanced matching: the visitor's identifiers from `user` and from an event's properties, as TikTok
gets them in `data[].user` (reference §2 and §3).

Sites pass match keys to `ttq.identify` and, as the pixel allows, inside `ttq.track`'s properties (the
seed article's Purchase with `email`, `phone_number`, `first_name`, `last_name`). Either way they are
normalised and hashed here and never leave as properties. `phone_number` is the pixel's name for the
Events API's `phone`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ttrelay.models import MatchKeys
from ttrelay.privacy.hashing import (
    HASHED_USER_FIELDS,
    hash_identifier,
    hash_user_field,
    user_field_normaliser,
)

# Sent as typed, trimmed, not hashed (reference §2 `user`).
PLAIN_USER_FIELDS = ("city", "state", "country")
_SOURCES = {"phone": ("phone", "phone_number")}


def user_match_keys(sources: Sequence[MatchKeys], default_phone_region: str | None) -> dict[str, object]:
    """TikTokUser fields from the match keys of each source, in order (`user` before the event's own).

    Hashed fields collect every distinct digest; a plain field takes the first source that has it."""
    fields: dict[str, object] = {}
    for name in HASHED_USER_FIELDS:
        values = [
            _as_list(getattr(keys, source)) for keys in sources for source in _SOURCES.get(name, (name,))
        ]
        flat = [value for chunk in values for value in chunk]
        if flat and (digests := hash_user_field(name, flat, default_phone_region)):
            fields[name] = digests
    for name in PLAIN_USER_FIELDS:
        given = [value for keys in sources if (value := getattr(keys, name))]  # empty: not given
        if given:
            fields[name] = given[0]
    return fields


def unusable_match_keys(keys: MatchKeys, default_phone_region: str | None) -> list[str]:
    """The fields (as the site named them, e.g. `phone_number`) with a value that is left out of the
    match keys because it cannot be normalised: an invalid address, a phone with no country to read.

    Blank values count as not given, the way `ttq.identify` sends them for a visitor not signed in."""
    unusable: list[str] = []
    for name in HASHED_USER_FIELDS:
        for source in _SOURCES.get(name, (name,)):
            given = [value for value in _as_list(getattr(keys, source)) if value.strip()]
            normalise = user_field_normaliser(name, default_phone_region) if given else None
            if normalise and any(hash_identifier(value, normalise) is None for value in given):
                unusable.append(source)
    return unusable


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
