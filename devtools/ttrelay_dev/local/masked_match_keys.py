"""Which match keys an Events API event carried in `user`, shown so that no value can be read back.

Hashes are cut to 8 characters (enough to compare two events by eye, useless to look a person up);
click ids are cut shorter; an IP loses its host part. A value that should be a hash but is not one is
never shown: it is flagged instead, because it would be raw PII on its way to TikTok.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from ttrelay.privacy.hashing import HASHED_USER_FIELDS

# Sent as typed (reference §2): a city next to an IP narrows a person down, so only their presence shows.
_PRESENCE_ONLY = ("city", "state", "country")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HASH_SHOWN = 8
_CLICK_ID_SHOWN = 6
_USER_AGENT_SHOWN = 24
NOT_HASHED = "not a SHA-256 hash!"


def masked_match_keys(user: object) -> dict[str, str]:
    """The match keys present in an event's `user`, each shortened or masked."""
    if not isinstance(user, Mapping):
        return {}
    shown: dict[str, str] = {}
    for key in HASHED_USER_FIELDS:
        values = user.get(key)
        if isinstance(values, str):
            values = [values]
        if isinstance(values, list) and values:
            shown[key] = _hashes(values)
    for key in ("ttclid", "ttp"):
        if isinstance(value := user.get(key), str) and value:
            shown[key] = _cut(value, _CLICK_ID_SHOWN)
    if isinstance(ip := user.get("ip"), str) and ip:
        shown["ip"] = masked_ip(ip)
    if isinstance(agent := user.get("user_agent"), str) and agent:
        shown["user_agent"] = _cut(agent, _USER_AGENT_SHOWN)
    shown.update({key: "present" for key in _PRESENCE_ONLY if user.get(key)})
    return shown


def masked_ip(text: str) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "(not an IP address)"
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + ".x"
    return ":".join(address.exploded.split(":")[:3]) + ":…"


def _hashes(values: list[object]) -> str:
    first = values[0]
    if not all(isinstance(value, str) and _SHA256.match(value) for value in values):
        return NOT_HASHED
    more = f" (+{len(values) - 1})" if len(values) > 1 else ""
    return f"{str(first)[:_HASH_SHOWN]}…{more}"


def _cut(value: str, keep: int) -> str:
    return value if len(value) <= keep else f"{value[:keep]}…"
