"""Free-text event properties lose email addresses and phone numbers before they are queued.

A shop that puts "Gift for jane@example.com, call +44 20 7946 0958" into `description` would otherwise
send raw PII to TikTok, which flags it as prohibited data. Every string in the properties is checked,
nested ones (`contents[].content_name`) and any future custom property included. Identifier properties
only lose email addresses: a long run of digits is what an order number or a GTIN looks like.
"""

from __future__ import annotations

from collections.abc import Mapping

from ttrelay.pii_shapes import redact_text

IDENTIFIER_PROPERTIES = frozenset({"content_id", "content_ids", "order_id", "shop_id"})


def redact_properties(properties: Mapping[str, object]) -> dict[str, object]:
    return {key: _redacted(value, key in IDENTIFIER_PROPERTIES) for key, value in properties.items()}


def _redacted(value: object, identifier: bool) -> object:
    if isinstance(value, str):
        return redact_text(value, phones=not identifier)
    if isinstance(value, list):
        return [_redacted(item, identifier) for item in value]
    if isinstance(value, Mapping):
        return redact_properties(value)
    return value
