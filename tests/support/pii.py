"""Personal data as sites and browsers write it: emails and phone numbers in every encoding the scrubber
reads (tests/unit/test_page.py, test_redaction.py), and an oracle that looks for them in its output.

An encoded value is (raw, written): `raw` is the address or number itself, `written` how it was sent.
"""

import base64
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote

from hypothesis import strategies as st

# Every Unicode space the issue reproduced, plus tabs and newlines.
UNICODE_SPACES = [" ", "\u00a0", "\u2009", "\u202f", "\u2002", "\u3000", "\t", "\n"]
ZERO_WIDTH = ["\u200b", "\u200d", "\u00ad", "\ufeff"]


@dataclass(frozen=True)
class Written:
    raw: str  # the address, or the phone number's digits
    written: str
    how: str


def full_width(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms (U+FF01-FF5E), which NFKC folds back."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


emails = st.from_regex(
    r"[a-z][a-z0-9._]{0,10}[a-z0-9]@[a-z][a-z0-9-]{0,10}[a-z0-9]\.[a-z]{2,6}", fullmatch=True
)


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    """(digits, written): an international number, its groups joined by any Unicode space or a dash."""
    digits = draw(st.from_regex(r"[1-9][0-9]{9,12}", fullmatch=True))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    separator = draw(st.sampled_from([*UNICODE_SPACES, "-", ".", "\u2011", "\u2013"]))
    groups = [digits[start:end] for start, end in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    return digits, "+" + separator.join(groups)


def percent_encoded(text: str, times: int) -> str:
    for _ in range(times):
        text = quote(text, safe="")
    return text


@st.composite
def written_pii(draw: st.DrawFn) -> Written:
    """An email or a phone number, maybe in a Unicode variant, then maybe percent-encoded 1-3 times or
    base64 / base64url encoded (with or without padding)."""
    if draw(st.booleans()):
        raw = written = draw(emails)
    else:
        raw, written = draw(phones())
    variant = draw(st.sampled_from(["plain", "full_width", "zero_width"]))
    if variant == "full_width":
        written = full_width(written)
    elif variant == "zero_width":
        position = draw(st.integers(1, len(written) - 1))
        written = written[:position] + draw(st.sampled_from(ZERO_WIDTH)) + written[position:]
    encoding = draw(st.sampled_from(["none", "percent", "base64", "base64url"]))
    if encoding == "percent":
        times = draw(st.integers(1, 3))
        written, encoding = percent_encoded(written, times), f"percent x{times}"
    elif encoding.startswith("base64"):
        encode = base64.b64encode if encoding == "base64" else base64.urlsafe_b64encode
        written = encode(written.encode()).decode()
        if draw(st.booleans()):
            written = written.rstrip("=")
    return Written(raw, written, f"{variant}, {encoding}")


def readings(text: str) -> list[str]:
    """The text as a reader might decode it: percent-decoded up to three times, NFKC, no zero-width."""
    found = [text]
    for _ in range(3):
        found.append(unquote(found[-1]))
    return [re.sub("[\u200b-\u200f\u00ad\ufeff]", "", unicodedata.normalize("NFKC", item)) for item in found]


def survives(pii: Written, output: str) -> bool:
    """The value, as written or decoded, is still in the output."""
    if pii.written in output:
        return True
    for text in readings(output):
        if "@" in pii.raw and pii.raw in text.lower():
            return True
        if "@" not in pii.raw and pii.raw in re.sub(r"\D", "", text):
            return True
    return False
