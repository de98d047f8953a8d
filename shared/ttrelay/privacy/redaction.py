"""Event properties lose personal data before they are queued.

A shop that puts "Gift for jane@example.com, call +44 20 7946 0958" into `description` would otherwise
send raw PII to TikTok, which flags it as prohibited data. Every string in the properties is read as
ttrelay.privacy.pii_readings reads it (Unicode variants, percent-encoded, base64), nested ones
(`contents[].content_name`) and any custom property included:
- a property whose name names a person (`customer_name`, `recipient`; ttrelay.privacy.person_names) is
  left out;
- a string that is one http(s) URL is scrubbed as a page URL is (ttrelay.privacy.page_urls);
- any other string has each email address and phone number replaced by [redacted]. Identifier
  properties lose email addresses, and are [redacted] whole when the value is a phone number written as
  one (`+14155550132`, the rule `event_id` follows): a bare run of digits is what an order number or a
  GTIN looks like, and stays.
"""

from __future__ import annotations

from collections.abc import Mapping

from ttrelay.privacy.page_urls import DEFAULT_URL_POLICY, UrlPolicy, scrub_url
from ttrelay.privacy.pii_readings import scrub_text
from ttrelay.privacy.pii_shapes import REDACTED, is_phone_number

IDENTIFIER_PROPERTIES = frozenset({"content_id", "content_ids", "order_id", "shop_id"})
_NOTHING_TO_READ = frozenset({float, int, bool, type(None)})  # prices, quantities, flags


def redact_properties(
    properties: Mapping[str, object], policy: UrlPolicy = DEFAULT_URL_POLICY
) -> dict[str, object]:
    return {
        key: _redacted(value, key in IDENTIFIER_PROPERTIES, policy)
        for key, value in properties.items()
        if not policy.person_names.names_a_person(key)
    }


def _redacted(value: object, identifier: bool, policy: UrlPolicy) -> object:
    if isinstance(value, str):
        if identifier:
            return REDACTED if is_phone_number(value, bare_digits=False) else scrub_text(value, phones="none")
        return _scrubbed_url(value, policy) or scrub_text(value)
    if isinstance(value, list):
        return [_redacted(item, identifier, policy) for item in value]
    if type(value) in _NOTHING_TO_READ:  # before the Mapping check, an ABC's and ten times slower
        return value
    if isinstance(value, Mapping):
        return redact_properties(value, policy)
    return value


def _scrubbed_url(value: str, policy: UrlPolicy) -> str | None:
    """A property holding one URL (`landing_url`) keeps what a page URL keeps; None for other text."""
    if not value[:8].lower().startswith(("http://", "https://")) or value.split() != [value]:
        return None
    return scrub_url(value, policy)
