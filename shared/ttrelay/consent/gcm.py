"""Google Consent Mode v2 as a consent signal (reference/consent.md sections 5 and 8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

# The consent types whose values are judged; pages also send others (functionality_storage,
# security_storage, wait_for_update, region...), which are ignored.
CONSENT_MODE_TYPES = ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage")
CONSENT_MODE_STATES = ("granted", "denied")
# The policy reads only these two: storing ad cookies and sending user data for ads.
_READ_TYPES = ("ad_storage", "ad_user_data")


def consent_mode_outcome(gcm: Mapping[str, str] | None) -> Literal["grant", "deny"] | None:
    """Grant when both are granted, deny when either is denied, otherwise no signal.

    A map naming only one of the two (even as granted) is neither grant nor deny (8.1). Values other than
    "granted"/"denied" never get here: they make the whole signal malformed (ttrelay.consent.signal_values).
    """
    if not gcm:
        return None
    states = [gcm.get(consent_type) for consent_type in _READ_TYPES]
    if "denied" in states:
        return "deny"
    if all(state == "granted" for state in states):
        return "grant"
    return None
