"""Personal data however it is written: Unicode look-alikes, percent-encoding, base64.

pii_shapes says what an email address or a phone number looks like in plain text; this module reads a
text the ways a browser, a redirect or a site's own code may have encoded one, and checks each reading:

- Unicode: NFKC folds full-width digits and at signs and turns no-break and thin spaces into spaces;
  invisible format characters (zero-width spaces and joiners, soft hyphens, bidi marks) are removed.
- percent-encoding: decoded up to three times (`jane%2540example.com` is an address encoded twice, as
  redirect parameters carry it); what would still decode after that is not read further: it is
  redacted, as personal data (fail closed).
- base64 and base64url: every run of at least 8 base64 characters is decoded (as a whole and, split on
  '/', part by part); a run that decodes to UTF-8 text holding an email address or a phone number is
  personal data.

Work stays linear in the text: all readings of a text together are at most MAX_READ times its length.
A few characters grow under NFKC (U+FDFA becomes 18 characters), and each percent round reads the text
again: a text that would need more is not read further but counts as holding personal data (it fails
closed, as [redacted]). Base64 runs do not overlap, and each character is decoded at most twice per
round (in its run and in its part).
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from urllib.parse import unquote

from ttrelay.privacy.pii_shapes import (
    MIN_PHONE_DIGITS,
    REDACTED,
    PhoneRule,
    contains_email,
    contains_phone_by,
    redact_text,
)

MAX_PERCENT_ROUNDS = 3
# All readings of a text together, and its NFKC reading alone, at most these many times its length. Real
# text grows little under NFKC (ligatures, squared units), percent rounds shrink it (an address encoded
# three times is read as 2.3 times its length), and the slack lets a short text hold one long ligature.
MAX_READ = 3
MAX_GROWTH = 2
_READ_SLACK = 32
# The shortest base64 of an address ("a@b.co", 6 bytes) is 8 characters; shorter runs are words.
MIN_BASE64_RUN = 8
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/_-]{{{MIN_BASE64_RUN},}}={{0,2}}")  # padding goes with the run
_DIGITS = b"0123456789"
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# A token still percent-encoded after the last round: not read, so removed when the text held PII.
_STILL_ENCODED_TOKEN = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# What surrogateescape makes of a byte that is not UTF-8; strict UTF-8 never yields a surrogate, so this
# tells binary from text without the cost of raising and catching UnicodeDecodeError on every token.
_UNDECODED_BYTE = re.compile("[\udc80-\udcff]")


class Unreadable(ValueError):
    """A text whose readings would be more than MAX_READ times its length."""


def _read_budget(text: str, factor: int = MAX_READ) -> int:
    return factor * len(text) + _READ_SLACK


def normalised(text: str) -> str:
    """NFKC without invisible format characters; ASCII text is already both. Unreadable when NFKC makes
    it more than MAX_GROWTH times as long. NFKD is checked first: as long or longer, and five times
    cheaper on U+FDFA; it splits Hangul and stacked accents into up to 3 characters, hence MAX_READ."""
    if text.isascii():
        return text
    if len(unicodedata.normalize("NFKD", text)) > _read_budget(text):
        raise Unreadable
    reading = unicodedata.normalize("NFKC", text)
    if len(reading) > _read_budget(text, MAX_GROWTH):
        raise Unreadable
    return _INVISIBLE.sub("", reading)


def percent_decoded(text: str) -> str:
    """urllib's unquote (UTF-8, errors replaced). Its own pass is fastest on ASCII, but it splits other
    text at every non-ASCII character, a Python step each (1 µs a character on "ﬃ%ﬃ%..."): that text is
    decoded by escape runs in one regex pass instead."""
    if "%" not in text:
        return text
    if text.isascii():
        return unquote(text)
    return _ESCAPE_RUN.sub(_decoded_escapes, text)


def _decoded_escapes(run: re.Match[str]) -> str:
    return bytes.fromhex(run.group().replace("%", "")).decode("utf-8", "replace")


def holds_pii(text: str, phones: PhoneRule) -> bool:
    """An email address (or a phone number, by `phones`) in any reading of the text."""
    return _scrubbed(text, phones)[1]


def scrub_text(text: str, phones: PhoneRule = "any") -> str:
    """The text unchanged when no reading holds personal data; else its most decoded reading with each
    address, phone number and base64 run holding one replaced by [redacted]."""
    return _scrubbed(text, phones)[0]


def _scrubbed(text: str, phones: PhoneRule) -> tuple[str, bool]:
    key = (_TEXT, text, phones)
    if key in _clean:
        return text, False
    if text.isascii() and "%" not in text:
        scrubbed = _scrubbed_plain(text, phones)
    else:
        try:
            scrubbed = _read(text, phones)
        except Unreadable:
            return REDACTED, True
    if not scrubbed[1]:
        _clean.remember(key)
    return scrubbed


class _CleanMemo:
    """Texts read and found to hold nothing personal, remembered: a site's own words come back on every
    request (a path's `checkout`, `utm_source`, a currency, a product's name and SKU), and the answer for
    a text never changes. Only clean texts are kept, so what is remembered is what the readings judged
    not personal; a text holding an address or a phone number is read again each time it is met.

    Bounded: at most MAX_REMEMBERED entries of at most MAX_REMEMBERED_LENGTH characters (well under a
    megabyte, whatever crafted bodies send), forgotten all at once when full (dict.clear is one step,
    safe beside another thread's lookup)."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, PhoneRule], None] = {}

    def __contains__(self, key: tuple[str, str, PhoneRule]) -> bool:
        return key in self.seen

    def remember(self, key: tuple[str, str, PhoneRule]) -> None:
        if len(key[1]) > MAX_REMEMBERED_LENGTH:
            return  # a payload, not a word
        if len(self.seen) >= MAX_REMEMBERED:
            self.seen.clear()
        self.seen[key] = None


MAX_REMEMBERED = 4096
MAX_REMEMBERED_LENGTH = 128
# What a remembered text was found clean of: personal data in any reading (_scrubbed), or in what a
# base64 run decodes to (_decodes_to_pii): two questions, so two kinds of key.
_TEXT, _RUN = "text", "run"
_clean = _CleanMemo()


def _scrubbed_plain(text: str, phones: PhoneRule) -> tuple[str, bool]:
    """What _read gives for ASCII text without '%': its only reading is itself (NFKC leaves ASCII as it
    is, nothing percent-decodes, and one reading is within budget), redacted once."""
    if "@" in text or (len(text) >= MIN_PHONE_DIGITS and _digit_count(text.encode()) >= MIN_PHONE_DIGITS):
        cleaned = _redacted(text, phones)
    else:
        # Most property values and URL parts ("EUR", "checkout"): no address, too few digits for a
        # phone, and a base64 run's [redacted] adds neither, so only the base64 runs need a look.
        cleaned = _base64_redacted(text, phones)
    return cleaned, cleaned != text


def _digit_count(raw: bytes) -> int:
    """ASCII digits, counted on bytes: str.translate deletes one Python dict lookup at a time, several
    times slower on a short text."""
    return len(raw) - len(raw.translate(None, _DIGITS))


def _read(text: str, phones: PhoneRule) -> tuple[str, bool]:
    current = normalised(text)
    found = False
    budget = _read_budget(text)
    for round_ in range(MAX_PERCENT_ROUNDS + 1):
        budget -= len(current)
        if budget < 0:
            raise Unreadable
        cleaned = _redacted(current, phones)
        found = found or cleaned != current
        current = cleaned
        if "%" not in current:
            break
        if round_ == MAX_PERCENT_ROUNDS:
            # Whoever gets the text may decode it again: what would still decode is not read further
            # but fails closed, redacted (an address encoded four times, or three times inside a
            # redirect parameter, would otherwise come out whole one decode later).
            if found or _ESCAPE_RUN.search(current):
                current = _STILL_ENCODED_TOKEN.sub(REDACTED, current)
                found = True
            break
        decoded = percent_decoded(current)
        if decoded == current:
            break
        if len(decoded) > budget:  # before NFKC, which may only add to it
            raise Unreadable
        current = normalised(decoded)
    return (current, True) if found else (text, False)


def _redacted(text: str, phones: PhoneRule) -> str:
    """One reading with base64 runs, then phones, then addresses redacted. Base64 goes first: its
    replacement may join an address shape (`a@<run>.com`) that the address pass then removes."""
    return redact_text(_base64_redacted(text, phones), phones)


def _base64_redacted(text: str, phones: PhoneRule) -> str:
    """Each base64 run that decodes to PII replaced by [redacted]; the text itself when none does. The
    runs are listed with findall, three times cheaper than finditer's match objects, and each is decoded
    once: the rare text with one to redact is rebuilt by sub, which meets the same runs in the same order."""
    if len(text) < MIN_BASE64_RUN:
        return text
    verdicts = [_decodes_to_pii(run, phones) for run in _BASE64_RUN.findall(text)]
    if True not in verdicts:
        return text
    in_order = iter(verdicts)
    return _BASE64_RUN.sub(lambda run: REDACTED if next(in_order) else run.group(), text)


def _decodes_to_pii(run: str, phones: PhoneRule) -> bool:
    """The run, or a '/'-separated part of it (a path: `/orders/<base64url>`), decodes to PII."""
    key = (_RUN, run, phones)
    if key in _clean:
        return False
    if "/" not in run:
        found = _decoded_holds_pii(run, phones)
    else:
        parts = [run, *(part for part in run.split("/") if len(part) >= MIN_BASE64_RUN)]
        found = any(_decoded_holds_pii(part, phones) for part in parts)
    if not found:
        _clean.remember(key)
    return found


def _decoded_holds_pii(run: str, phones: PhoneRule) -> bool:
    standard = run.rstrip("=").replace("-", "+").replace("_", "/")  # base64url; translate is 5x slower
    if len(standard) % 4 == 1:  # no base64 text has this length
        return False
    try:
        raw = binascii.a2b_base64(standard + "=" * (-len(standard) % 4), strict_mode=True)
    except binascii.Error:
        return False
    if raw.isascii():
        # Every run of 8 letters is a candidate ("abcdefgh " * 57 in 512 characters): ASCII bytes with no
        # '@' and too few digits for a phone are settled here, before any decoding or normalising.
        if b"@" not in raw and _digit_count(raw) < MIN_PHONE_DIGITS:
            return False
        text = raw.decode("ascii")  # its own NFKC reading
    else:
        text = raw.decode("utf-8", "surrogateescape")
        if _UNDECODED_BYTE.search(text):
            return False  # not UTF-8 (binary: a token, a hash, a word that happens to be base64)
        try:
            text = normalised(text)
        except Unreadable:
            return True
    return contains_email(text) or contains_phone_by(text, phones)
