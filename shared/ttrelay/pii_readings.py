"""Personal data however it is written: Unicode look-alikes, percent-encoding, base64.

pii_shapes says what an email address or a phone number looks like in plain text; this module reads a
text the ways a browser, a redirect or a site's own code may have encoded one, and checks each reading:

- Unicode: NFKC folds full-width digits and at signs and turns no-break and thin spaces into spaces;
  invisible format characters (zero-width spaces and joiners, soft hyphens, bidi marks) are removed.
- percent-encoding: decoded up to three times (`jane%2540example.com` is an address encoded twice, as
  redirect parameters carry it); what is still encoded after that is not read further.
- base64 and base64url: every run of at least 8 base64 characters is decoded (as a whole and, split on
  '/', part by part); a run that decodes to UTF-8 text holding an email address or a phone number is
  personal data.

Work stays linear in the text: each round is one pass, base64 runs do not overlap, and each character
is decoded at most twice per round (in its run and in its part).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from urllib.parse import unquote

from ttrelay.pii_shapes import REDACTED, PhoneRule, contains_email, contains_phone_by, redact_text

MAX_PERCENT_ROUNDS = 3
# The shortest base64 of an address ("a@b.co", 6 bytes) is 8 characters; shorter runs are words.
MIN_BASE64_RUN = 8
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/_-]{{{MIN_BASE64_RUN},}}={{0,2}}")  # padding goes with the run
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# A token still percent-encoded after the last round: not read, so removed when the text held PII.
_STILL_ENCODED_TOKEN = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")


def normalised(text: str) -> str:
    """NFKC without invisible format characters; ASCII text is already both."""
    if text.isascii():
        return text
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def holds_pii(text: str, phones: PhoneRule) -> bool:
    """An email address (or a phone number, by `phones`) in any reading of the text."""
    return _scrubbed(text, phones)[1]


def scrub_text(text: str, phones: PhoneRule = "any") -> str:
    """The text unchanged when no reading holds personal data; else its most decoded reading with each
    address, phone number and base64 run holding one replaced by [redacted]."""
    return _scrubbed(text, phones)[0]


def _scrubbed(text: str, phones: PhoneRule) -> tuple[str, bool]:
    current = normalised(text)
    found = False
    for round_ in range(MAX_PERCENT_ROUNDS + 1):
        cleaned = _redacted(current, phones)
        found = found or cleaned != current
        current = cleaned
        if "%" not in current:
            break
        if round_ == MAX_PERCENT_ROUNDS:
            # Redacted text is read again by whoever gets it: nothing may decode further into PII.
            if found:
                current = _STILL_ENCODED_TOKEN.sub(REDACTED, current)
            break
        decoded = normalised(unquote(current))
        if decoded == current:
            break
        current = decoded
    return (current, True) if found else (text, False)


def _redacted(text: str, phones: PhoneRule) -> str:
    """One reading with base64 runs, then phones, then addresses redacted. Base64 goes first: its
    replacement may join an address shape (`a@<run>.com`) that the address pass then removes."""
    if len(text) >= MIN_BASE64_RUN:
        text = _BASE64_RUN.sub(
            lambda run: REDACTED if _decodes_to_pii(run.group(), phones) else run.group(), text
        )
    return redact_text(text, phones)


def _decodes_to_pii(run: str, phones: PhoneRule) -> bool:
    """The run, or a '/'-separated part of it (a path: `/orders/<base64url>`), decodes to PII."""
    parts = [run, *(part for part in run.split("/") if len(part) >= MIN_BASE64_RUN)] if "/" in run else [run]
    return any(_decoded_holds_pii(part, phones) for part in parts)


def _decoded_holds_pii(run: str, phones: PhoneRule) -> bool:
    standard = run.rstrip("=").translate(_URLSAFE_TO_STANDARD)
    if len(standard) % 4 == 1:  # no base64 text has this length
        return False
    try:
        decoded = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False  # binary: a token, a hash, a word that happens to be base64
    text = normalised(decoded)
    return contains_email(text) or contains_phone_by(text, phones)
