"""Warnings about the request as a whole: what the collector takes leniently is still made visible.

Unknown keys of the body, `context` and `consent` are ignored (newer snippets may add fields), so a
typo such as `consents` or `users` would silently lose the consent or the match keys; each one gets a
warning. The key is the sender's text and is never echoed: the warning names the object, and at most a
declared field the key is a near miss of. A `consent.cmp` without its `marketing` category decides
nothing, which the decision alone (no_consent_signal) does not explain. A browser's `context.ip` and
`context.user_agent` are ignored (the connection says who the visitor is), which is said too.
"""

from __future__ import annotations

from collections.abc import Mapping

from ttrelay.collect.event_judgement import Problem
from ttrelay.field_paths import USER_KEY, UnknownKey, unknown_keys
from ttrelay.models import CollectEnvelope

# Only this category of `consent.cmp` is read (ttrelay.consent.decide); others are the CMP's own.
CMP_DECIDING_CATEGORY = "marketing"
CMP_WITHOUT_MARKETING = (
    f"only the {CMP_DECIDING_CATEGORY} category decides (true grants, false refuses); "
    "no such category was sent, so consent.cmp counts as no signal"
)
# Only a keyed backend speaks for a visitor it relays (ttrelay.collect.use_case._visitor); a browser's
# are its own.
VISITOR_FIELDS = ("ip", "user_agent")
VISITOR_FIELD_IGNORED = "set from the request for browsers; only a keyed backend may send it; ignored"
# A body of 64 KB holds thousands of keys: past this many, the rest are counted in one more warning.
MAX_UNKNOWN_FIELD_WARNINGS = 10
_NEAR_MISS_CUTOFF = 0.8
_LONGEST_NEAR_MISS = 64  # a longer key is no typo of a field name, and is not compared at all


def request_warnings(
    document: Mapping[str, object], envelope: CollectEnvelope, may_set_visitor: bool
) -> list[Problem]:
    warnings = _unknown_field_warnings(document)
    if not may_set_visitor:
        context = envelope.context
        warnings += [
            Problem(f"context.{name}", "ignored_field", VISITOR_FIELD_IGNORED)
            for name in VISITOR_FIELDS
            if getattr(context, name) is not None
        ]
    cmp = envelope.consent.cmp  # as sent: a malformed one is judged by the consent policy, not here
    if isinstance(cmp, Mapping) and cmp and CMP_DECIDING_CATEGORY not in cmp:
        warnings.append(Problem("consent.cmp", "cmp_without_marketing", CMP_WITHOUT_MARKETING))
    return warnings


def _unknown_field_warnings(document: Mapping[str, object]) -> list[Problem]:
    found = list(unknown_keys(document, CollectEnvelope))
    warnings = [
        Problem(unknown.path, "unknown_field", _unknown_field_message(unknown))
        for unknown in found[:MAX_UNKNOWN_FIELD_WARNINGS]
    ]
    if (more := len(found) - MAX_UNKNOWN_FIELD_WARNINGS) > 0:
        warnings.append(Problem(USER_KEY, "unknown_field", f"{more} more unknown fields ignored"))
    return warnings


def _unknown_field_message(unknown: UnknownKey) -> str:
    known = list(unknown.model.model_fields)
    where = unknown.path.removesuffix(USER_KEY).removesuffix(".")
    ignored = f"unknown field in {where}, ignored" if where else "unknown top-level field, ignored"
    if near := _near_miss(unknown.key, known):
        return f"{ignored}; did you mean {near}?"
    return f"{ignored}; known fields: {', '.join(known)}"


def _near_miss(key: str, known: list[str]) -> str | None:
    """The declared name the key is a likely typo of (`consents`, `Users`); our text, not the sender's."""
    if len(key) > _LONGEST_NEAR_MISS:
        return None
    import difflib  # only a request with an unknown key pays for it

    matches = difflib.get_close_matches(key.lower(), known, n=1, cutoff=_NEAR_MISS_CUTOFF)
    return matches[0] if matches else None
