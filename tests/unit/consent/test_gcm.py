"""Google Consent Mode v2 as a signal: only ad_storage and ad_user_data count (reference/consent.md 5, 8)."""

import pytest
from ttrelay.consent.gcm import consent_mode_outcome


@pytest.mark.parametrize(
    ("gcm", "expected"),
    [
        ({"ad_storage": "granted", "ad_user_data": "granted"}, "grant"),
        # ad_personalization and analytics_storage play no part.
        ({"ad_storage": "granted", "ad_user_data": "granted", "ad_personalization": "denied"}, "grant"),
        ({"ad_storage": "granted", "ad_user_data": "granted", "analytics_storage": "denied"}, "grant"),
        ({"ad_storage": "granted", "ad_user_data": "denied"}, "deny"),
        ({"ad_storage": "denied", "ad_user_data": "granted"}, "deny"),
        ({"ad_storage": "denied", "ad_user_data": "denied"}, "deny"),
        # One of the two denied is a deny even when the other is missing.
        ({"ad_user_data": "denied"}, "deny"),
        ({"ad_storage": "denied"}, "deny"),
        # One of the two granted and the other missing: neither grant nor deny (8.1).
        ({"ad_storage": "granted"}, None),
        ({"ad_user_data": "granted"}, None),
        ({"ad_personalization": "granted", "analytics_storage": "granted"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_consent_mode_outcome(gcm: dict[str, str] | None, expected: str | None) -> None:
    assert consent_mode_outcome(gcm) == expected
