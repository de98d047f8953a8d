"""Page URLs: read the click id from them and strip personal data from their query strings.

TikTok flags PII in `page.url` as prohibited data (reference §2), so query parameters that carry it are
removed before an event is queued; `ttclid` is kept (it is how TikTok attributes the click).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_PII_PARAM = re.compile(
    r"^(e[-_]?mail|mail|phone|tel|mobile|msisdn|first[-_]?name|last[-_]?name|full[-_]?name|name|address|"
    r"street|zip|zip[-_]?code|postcode|postal[-_]?code|dob|birthday|password|pass|pwd|token|access[-_]?token|"
    r"ssn|card|cc)$",
    re.IGNORECASE,
)
_EMAIL_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def ttclid_from_url(url: str | None) -> str | None:
    if not url:
        return None
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=False):
        if name == "ttclid" and value:
            return value[:512]
    return None


def scrub_url(url: str | None) -> str | None:
    """The URL without query parameters that carry personal data, or None if it is not http(s)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    kept = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _PII_PARAM.match(name) and not _EMAIL_VALUE.search(value)
    ]
    # Userinfo ("user:pass@host") is dropped with the fragment.
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(kept), ""))
