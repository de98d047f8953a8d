"""Advanced matching: the visitor's identifiers from `user` and from an event's properties, as TikTok
gets them in `data[].user` (reference §2 and §3).

Sites pass match keys to `ttq.identify` and, as the pixel allows, inside `ttq.track`'s properties (the
seed article's Purchase with `email`, `phone_number`, `first_name`, `last_name`). Either way they are
normalised and hashed here and never leave as properties. `phone_number` is the pixel's name for the
Events API's `phone`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ttrelay.models import MatchKeys
from ttrelay.privacy.hashing import (
    HASHED_USER_FIELDS,
    hash_identifier,
    user_field_normaliser,
)

# Sent as typed, trimmed, not hashed (reference §2 `user`).
PLAIN_USER_FIELDS = ("city", "state", "country")
_SOURCES = {"phone": ("phone", "phone_number")}


@dataclass(frozen=True, slots=True)
class MatchKeyReading:
    """One source's match keys, each value normalised once: what is sent, and what is left out."""

    fields: dict[str, object]  # TikTokUser fields: digests per hashed field, plain fields as typed
    # The fields (as the site named them, e.g. `phone_number`) with a value that cannot be normalised.
    unusable: tuple[str, ...]


def read_match_keys(keys: MatchKeys, default_phone_region: str | None) -> MatchKeyReading:
    """The TikTokUser fields of one source, and the fields left out because a value cannot be normalised:
    an invalid address, a phone with no country to read. Hashed fields collect every distinct digest.

    Blank values count as not given, the way `ttq.identify` sends them for a visitor not signed in."""
    given = keys.model_fields_set  # a field not given has its default, None
    if given.isdisjoint(_MATCH_KEY_NAMES):
        return _NO_MATCH_KEYS  # the usual event: its properties name no match key
    fields: dict[str, object] = {}
    unusable: list[str] = []
    for name in HASHED_USER_FIELDS:
        digests: list[str] = []
        for source in _SOURCES.get(name, (name,)):
            values = _as_list(getattr(keys, source)) if source in given else []
            if not values:
                continue
            # A phone loads libphonenumber: the normaliser is made only for a field that has values.
            normalise = user_field_normaliser(name, default_phone_region)
            left_out = False
            for value in values:
                digest = hash_identifier(value, normalise)
                if digest is None:
                    left_out = left_out or bool(value.strip())
                elif digest not in digests:
                    digests.append(digest)
            if left_out:
                unusable.append(source)
        if digests:
            fields[name] = digests
    for name in PLAIN_USER_FIELDS:
        if name in given and (value := getattr(keys, name)):  # empty: not given
            fields[name] = value
    return MatchKeyReading(fields, tuple(unusable))


_MATCH_KEY_NAMES = frozenset(MatchKeys.model_fields)
_NO_MATCH_KEYS = MatchKeyReading({}, ())


def user_match_keys(sources: Sequence[MatchKeys], default_phone_region: str | None) -> dict[str, object]:
    """TikTokUser fields from the match keys of each source, in order (`user` before the event's own):
    hashed fields collect every distinct digest; a plain field takes the first source that has it."""
    fields: dict[str, object] = {}
    for keys in sources:
        for name, value in read_match_keys(keys, default_phone_region).fields.items():
            earlier = fields.get(name)
            if isinstance(earlier, list) and isinstance(value, list):
                fields[name] = list(dict.fromkeys([*earlier, *value]))
            else:
                fields.setdefault(name, value)
    return fields


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
