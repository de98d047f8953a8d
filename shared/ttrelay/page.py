"""Page URLs: read the click id from them and strip personal data before an event is queued.

TikTok flags PII in `page.url` as prohibited data (reference §2). A query parameter goes when its value
looks like an email address or a phone number, or when a part of its name says it holds personal data
or a secret (`customer_email`, `billingPhone`, `user[first_name]`); a path segment holding an email
address becomes `redacted`. `ttclid` and `utm_*` are kept: they are how TikTok and the site attribute
the click. docs/privacy.md has the rules and the settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit, urlunsplit

from ttrelay.pii_shapes import contains_email, contains_phone

UrlParamMode = Literal["denylist", "allowlist"]

# Name parts that mark a parameter as personal data or a secret. Parts, not whole names: `fname`,
# `customer_email` and `billingPhone` all match. `name` and `code` cost some harmless parameters
# (`product_name`, `promo_code`); keeping an OAuth code or a visitor's name would cost more.
PII_NAME_PARTS = frozenset(
    {
        # contact
        "email", "mail", "emailaddress", "phone", "phonenumber", "tel", "telephone", "mobile", "msisdn",
        "cell", "fax",
        # names
        "name", "fname", "lname", "firstname", "lastname", "fullname", "surname", "username", "login",
        # address and identity
        "address", "addr", "street", "zip", "zipcode", "postcode", "postal", "ip", "dob", "birthday",
        "birthdate", "ssn", "passport",
        # payment
        "card", "cc", "ccnum", "cvv", "cvc", "iban",
        # secrets and sessions
        "password", "passwd", "pass", "pwd", "token", "secret", "session", "sessionid", "sid", "auth",
        "code", "key", "apikey", "otp", "signature", "sig", "credential",
    }
)  # fmt: skip
# Attribution parameters kept in every mode (unless their value is an email or a phone number).
ALWAYS_KEPT = frozenset({"ttclid"})
ALWAYS_KEPT_PREFIX = "utm_"
REDACTED_SEGMENT = "redacted"
_DEFAULT_PORTS = {"http": 80, "https": 443}

# camelCase and acronym boundaries as well as any non-alphanumeric separator: "billingPhone" -> billing,
# phone; "CCNumber" -> cc, number; "user[first_name]" -> user, first, name.
_NAME_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Which query parameters survive: all but personal ones (denylist), or only named ones (allowlist)."""

    mode: UrlParamMode = "denylist"
    denied_name_parts: frozenset[str] = PII_NAME_PARTS  # a name with any of these parts goes
    allowed_names: frozenset[str] = field(default_factory=frozenset)  # allowlist mode: names kept

    @classmethod
    def of(
        cls, mode: UrlParamMode, extra_pii_names: Iterable[str], allowed_names: Iterable[str]
    ) -> UrlPolicy:
        """From settings: extra names are added to the built-in parts (a whole name works too)."""
        extra = frozenset(name.lower() for name in extra_pii_names)
        return cls(mode, PII_NAME_PARTS | extra, frozenset(name.lower() for name in allowed_names))

    def keeps_name(self, name: str) -> bool:
        lowered = name.lower()
        if lowered in ALWAYS_KEPT or lowered.startswith(ALWAYS_KEPT_PREFIX):
            return True
        if self.mode == "allowlist":
            return lowered in self.allowed_names
        denied = self.denied_name_parts
        return lowered not in denied and denied.isdisjoint(part.lower() for part in _NAME_PART.findall(name))


DEFAULT_URL_POLICY = UrlPolicy()


def ttclid_from_page(page_url: str | None, referrer: str | None) -> str | None:
    """The click id as TikTok's server-side tag captures it (tiktok/gtm-template-eapi, template.tpl,
    `getTtclidFromUrl`; reference §8): the page URL's query, else the referrer's when the referrer is
    on the same host, e.g. a landing page that redirected within the site and lost its query."""
    return ttclid_from_url(page_url) or (ttclid_from_url(referrer) if same_host(page_url, referrer) else None)


def same_host(first: str | None, second: str | None) -> bool:
    """Same host name (case-insensitive) and same port, a default port counting as given."""
    origins = [_host_and_port(url) for url in (first, second)]
    return origins[0] is not None and origins[0] == origins[1]


def _host_and_port(url: str | None) -> tuple[str, int | None] | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS.get(parts.scheme.lower())


def ttclid_from_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        query = urlsplit(url).query
    except ValueError:
        return None
    for name, value in parse_qsl(query, keep_blank_values=False):
        if name == "ttclid" and value:
            return value[:512]
    return None


def scrub_url(url: str | None, policy: UrlPolicy = DEFAULT_URL_POLICY) -> str | None:
    """The URL without personal data in its path and query, or None if it is not an http(s) URL.

    Kept parameters stay exactly as sent (order and encoding); userinfo and the fragment are dropped."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # e.g. an unclosed IPv6 bracket or a port out of range
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = "/".join(
        REDACTED_SEGMENT if contains_email(_decoded(segment)) else segment
        for segment in parts.path.split("/")
    )
    # One look at the whole query first: a pair holds an address or a phone only if the query does.
    check_values = _looks_personal(parts.query)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair
        and not (check_values and _looks_personal(pair))
        and policy.keeps_name(unquote_plus(pair.partition("=")[0]))
    ]
    return urlunsplit((parts.scheme, netloc, path, "&".join(kept), ""))


def _looks_personal(raw: str) -> bool:
    """An email address or a written phone number in a name=value pair, however it was encoded.

    A bare run of digits is not a phone here: product, variant and order ids look exactly like that."""
    readings = {_decoded(raw), _decoded(raw.replace("+", " "))}  # '+' is a space in form encoding
    return any(contains_email(text) or contains_phone(text, bare_digits=False) for text in readings)


def _decoded(text: str) -> str:
    """Percent-decoded up to three times: redirect parameters often carry an encoded URL inside."""
    for _ in range(3):
        if "%" not in text:
            break
        text = unquote(text)
    return text
