"""What an email address or a phone number looks like in text, checked in linear time.

Every check here runs on attacker-controlled input of up to the body limit, so none of them may
backtrack more than a constant number of times per character: a pattern like
`[^@\\s]+@[^@\\s]+\\.[^@\\s]+` used with `search` is quadratic on "a@" + "." * 30000 (8 s per request).
"""

from __future__ import annotations

import re
from typing import Literal

REDACTED = "[redacted]"

# Which digit runs count as phone numbers: "any" in free text, "written" (a leading '+' or separators
# between groups) where bare digit runs are ids (URLs, order ids), "none" where only emails are removed.
PhoneRule = Literal["any", "written", "none"]
# E.164 caps a number at 15 digits; a longer run (a UUID of digits, a GTIN list) is not one number.
MAX_PHONE_DIGITS = 15

# A whitespace-delimited token that contains "x@y.z" (x, y, z without '@' or whitespace). Linear: the
# lookbehind lets an attempt start only at a token's first character; within a token only the
# characters before an '@' go on to scan the next '@'-free segment, and those segments do not overlap.
_EMAIL_TOKEN = re.compile(r"(?<!\S)(?=\S*?[^@\s]@[^@\s]+\.[^@\s])\S+")

# A phone-like run: optional '+' or '(' then at least 9 digits, digit groups joined by at most three
# separators: any Unicode space, tab or newline, ( ) . - / and the Unicode dashes (U+2010-2015, minus
# U+2212), as people and word processors write numbers. Nine digits: a national number without its
# country code has 9-11 (FR, DE, UK, US, ES, IT), while order numbers, SKUs, dates and prices rarely
# reach nine (order-1001, SKU 12345, 2026-12-01, 1.234.567). The run must not follow a letter or digit,
# so INV123456789 is an id, not a phone. Linear: an attempt that fails has seen fewer than nine digits
# (at most 32 characters), and one that succeeds consumes what it saw; separators and digits are
# disjoint, so nothing is tried twice.
MIN_PHONE_DIGITS = 9
_PHONE_RUN = re.compile(
    rf"(?<!\w)[+(]{{0,2}}\d(?:[\s().\-/\u2010-\u2015\u2212]{{0,3}}\d){{{MIN_PHONE_DIGITS - 1},}}"
)


def is_email_address(text: str) -> bool:
    """The whole text is "local@domain.tld" with no whitespace and one '@' (the hashing rule)."""
    local, at, domain = text.partition("@")
    return bool(at and local) and "@" not in domain and "." in domain[1:-1] and text.split() == [text]


def contains_email(text: str) -> bool:
    return "@" in text and _EMAIL_TOKEN.search(text) is not None


def contains_phone(text: str, bare_digits: bool = True) -> bool:
    """A phone-like run anywhere in the text; with `bare_digits=False` a run of digits alone does not
    count, only one written as people write phone numbers (a leading '+' or separators between groups)."""
    first = _PHONE_RUN.search(text)
    if first is None or bare_digits:
        return first is not None
    return any(not match.group().isdigit() for match in _PHONE_RUN.finditer(text, first.start()))


def contains_phone_by(text: str, rule: PhoneRule) -> bool:
    return rule != "none" and contains_phone(text, bare_digits=rule == "any")


def is_phone_number(text: str, bare_digits: bool = True) -> bool:
    """The whole text is one phone-like run of at most 15 digits: "+14155550132", "415-555-0132".

    For identifiers, where a phone run inside the value is common by chance (a UUID with a group of
    digits, a date in an order number) but a value that is nothing but a phone number is not an id."""
    match = _PHONE_RUN.fullmatch(text)
    if match is None or (not bare_digits and text.isdigit()):
        return False
    return sum(char.isdigit() for char in text) <= MAX_PHONE_DIGITS


def redact_text(text: str, phones: PhoneRule = "any") -> str:
    """Each phone-like run, then each token holding an email address, replaced by [redacted].

    Phones go first: a phone replacement can join "a@-(415) 555 0132.x" into an address shape, an email
    replacement (whole tokens, no digits) cannot create either shape, so the result is stable."""
    if phones == "any":
        text = _PHONE_RUN.sub(REDACTED, text)
    elif phones == "written":
        text = _PHONE_RUN.sub(lambda run: run.group() if run.group().isdigit() else REDACTED, text)
    if "@" in text:
        text = _EMAIL_TOKEN.sub(REDACTED, text)
    return text
