"""Normalise and SHA-256 user identifiers the way TikTok's Events API expects.

Rules (reference/tiktok-events-api.md §3, vectors/hashing.json): trim; a 64-hex value is already a
digest and is sent lowercased, never hashed twice; email lowercased and must look like an address;
phone to E.164 with libphonenumber (the '+' is hashed); external_id trimmed, case kept. First name,
last name and zip code (optional match keys, reference §2 `user`) are trimmed and lowercased: the
reference gives no rule of its own for them, and the pixel's advanced matching asks for lowercase
before hashing (the seed article, "All data must be sent in lowercase and hashed using SHA256").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from functools import cache

from ttrelay.privacy.pii_shapes import is_email_address

_SHA256_HEX = re.compile(r"[0-9A-Fa-f]{64}")

HASHED_USER_FIELDS = ("email", "phone", "external_id", "first_name", "last_name", "zip_code")


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_email(value: str) -> str | None:
    email = value.strip().lower()
    return email if is_email_address(email) else None


def normalise_phone(value: str, default_region: str | None = None) -> str | None:
    """E.164 or None. Without a leading '+' and without a default region we never guess a country."""
    import phonenumbers  # imported on first use: its metadata costs cold-start time

    _keep_patterns_compiled()
    text = value.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, default_region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164


@cache
def _keep_patterns_compiled() -> None:
    """Once: libphonenumber keeps its metadata patterns compiled. Each parse and validation looks up about
    ten of them, and re.compile's own cache costs a few calls per lookup (a tenth of a number's time)."""
    import phonenumbers

    phonenumbers.enable_pattern_cache()


def normalise_external_id(value: str) -> str | None:
    return value.strip() or None


def normalise_lowercase(value: str) -> str | None:
    """First name, last name, zip code: trimmed and lowercased, inner spaces kept ("van der berg")."""
    return value.strip().lower() or None


def hash_identifier(value: object, normalise: Callable[[str], str | None]) -> str | None:
    """The digest to send for one raw value, or None when the value must be dropped."""
    if not isinstance(value, str):
        return None
    trimmed = value.strip()
    if not trimmed:
        return None
    if len(trimmed) == 64 and _SHA256_HEX.fullmatch(trimmed):
        return trimmed.lower()
    normalised = normalise(trimmed)
    return _sha256_hex(normalised) if normalised else None


def user_field_normaliser(field: str, default_region: str | None = None) -> Callable[[str], str | None]:
    """How one hashed user field is normalised before hashing (None: the value cannot be used)."""
    if field == "email":
        return normalise_email
    if field == "phone":
        return lambda value: normalise_phone(value, default_region)
    if field == "external_id":
        return normalise_external_id
    if field in ("first_name", "last_name", "zip_code"):
        return normalise_lowercase
    raise ValueError(f"not a hashed user field: {field}")


def hash_user_field(field: str, values: object, default_region: str | None = None) -> list[str]:
    """Hash one user field (a string or a list of strings) into TikTok's array form, deduplicated."""
    normalise = user_field_normaliser(field, default_region)
    items: Iterable[object] = values if isinstance(values, list | tuple) else (values,)
    digests: list[str] = []
    for item in items:
        digest = hash_identifier(item, normalise)
        if digest and digest not in digests:
            digests.append(digest)
    return digests


def is_sha256_hex(value: str) -> bool:
    return bool(_SHA256_HEX.fullmatch(value)) and value == value.lower()
