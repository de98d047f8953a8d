"""Consent values are strict (DESIGN.md): which signals arrived with a value the policy cannot read.

A page or a backend may put anything into `consent`. A signal whose value is not what the policy reads
(a string for tcf, gpp and usp; a JSON boolean for gpc and for every cmp category; exactly "granted" or
"denied" for every Consent Mode type) is malformed. It is set aside here and named, and the policy counts
it as a refusal with a reason (`deny:cmp:malformed`). Nothing is coerced: "yes", 1 and "true" are not
true. Consent Mode types the policy does not know are dropped, never judged and never echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from ttrelay.consent.gcm import CONSENT_MODE_STATES, CONSENT_MODE_TYPES

MALFORMED_FIELD = "malformed"
SignalName = Literal["tcf", "gpp", "usp", "gpc", "gcm", "cmp"]
# The order reasons and receipts list signals in.
SIGNAL_ORDER: tuple[SignalName, ...] = get_args(SignalName)
_STRING_SIGNALS = ("tcf", "gpp", "usp")


def set_aside_malformed(data: Mapping[str, object]) -> dict[str, object]:
    """`data` without its malformed signals, which are listed under `malformed` instead.

    A bad `gpp_sid` makes the gpp signal malformed: it belongs to the GPP string.
    """
    kept = dict(data)
    malformed = set(_names(kept.get(MALFORMED_FIELD)))
    for name in _STRING_SIGNALS:
        if kept.get(name) is not None and not isinstance(kept[name], str):
            malformed.add(name)
    if kept.get("gpc") is not None and not isinstance(kept["gpc"], bool):
        malformed.add("gpc")
    if not _section_ids(kept.get("gpp_sid")):
        malformed.add("gpp")
    if "gcm" in kept:
        kept["gcm"] = _known_consent_types(kept["gcm"])
        if not _consent_mode_states(kept["gcm"]):
            malformed.add("gcm")
    if not _categories(kept.get("cmp")):
        malformed.add("cmp")
    for name in malformed:
        kept.pop(name, None)
    if "gpp" in malformed:
        kept.pop("gpp_sid", None)
    kept[MALFORMED_FIELD] = tuple(name for name in SIGNAL_ORDER if name in malformed)
    return kept


def _names(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else ()


def _section_ids(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, (list, tuple)):
        return False
    # bool is an int in Python, not a section id.
    return all(isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in value)


def _known_consent_types(value: object) -> object:
    """Consent Mode keys compared case-insensitively; only the types the policy judges are kept."""
    if not isinstance(value, Mapping):
        return value
    kept: dict[str, object] = {}
    for key, state in value.items():
        name = str(key).strip().lower()
        if name in CONSENT_MODE_TYPES:
            kept[name] = _stricter_state(kept[name], state) if name in kept else state
    return kept


def _stricter_state(first: object, second: object) -> object:
    """Two spellings of one type (`ad_storage`, `AD_STORAGE`): a state that cannot be read wins, so the
    signal stays malformed, then a denial; a later spelling never overwrites an earlier refusal."""
    unreadable = [state for state in (first, second) if state not in CONSENT_MODE_STATES]
    if unreadable:
        return unreadable[0]
    return "denied" if "denied" in (first, second) else first


def _consent_mode_states(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, Mapping) and all(state in CONSENT_MODE_STATES for state in value.values())


def _categories(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, Mapping) and all(isinstance(granted, bool) for granted in value.values())
