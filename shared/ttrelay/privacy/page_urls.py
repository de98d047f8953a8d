"""Page URLs: read the click id from them and strip personal data before an event is queued.

TikTok flags PII in `page.url` as prohibited data (reference §2). A query parameter goes when its value
holds an email address or a written phone number in any reading (ttrelay.privacy.pii_readings: Unicode
variants, percent-encoded up to three times, base64), when a part of its name says it holds personal
data or a secret (`customer_email`, `billingPhone`, `access_token`), or when its name names a person
(ttrelay.privacy.person_names: `customer_name`, `first`, `givenname`); a path segment holding an address or a
written phone number becomes `redacted`. `ttclid` and `utm_*` are kept: they are how TikTok and the site
attribute the click. docs/privacy.md has the rules and the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote_plus, urlsplit

from ttrelay.models import is_click_token
from ttrelay.privacy.person_names import DEFAULT_PERSON_NAME_RULE, PersonNameRule, name_parts
from ttrelay.privacy.pii_readings import holds_pii

UrlParamMode = Literal["denylist", "allowlist"]

# Name parts that mark a parameter as personal data or a secret. Parts, not whole names:
# `customer_email` and `billingPhone` both match. `code` and `key` cost some harmless parameters
# (`promo_code`, `sort_key`); keeping an OAuth code or an API key would cost more. A person's name is
# ttrelay.privacy.person_names' rule, which keeps `product_name`.
PII_NAME_PARTS = frozenset(
    {
        # contact
        "email", "mail", "emailaddress", "phone", "phonenumber", "tel", "telephone", "mobile", "msisdn",
        "cell", "fax",
        # accounts
        "login",
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


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Which query parameters survive: all but personal ones (denylist), or only named ones (allowlist)."""

    mode: UrlParamMode = "denylist"
    denied_name_parts: frozenset[str] = PII_NAME_PARTS  # a name with any of these parts goes
    allowed_names: frozenset[str] = field(default_factory=frozenset)  # allowlist mode: names kept
    person_names: PersonNameRule = DEFAULT_PERSON_NAME_RULE  # denylist mode; custom property names too

    @classmethod
    @lru_cache(maxsize=16)  # the collector asks once per request, always with the same settings
    def of(
        cls,
        mode: UrlParamMode,
        extra_pii_names: tuple[str, ...],
        allowed_names: tuple[str, ...],
        person_name_parts: tuple[str, ...] | None = None,
    ) -> UrlPolicy:
        """From settings: extra names are added to the built-in parts (a whole name works too); the
        person-name parts replace the default list when given."""
        extra = frozenset(name.lower() for name in extra_pii_names)
        allowed = frozenset(name.lower() for name in allowed_names)
        if person_name_parts is None:
            return cls(mode, PII_NAME_PARTS | extra, allowed)
        return cls(mode, PII_NAME_PARTS | extra, allowed, PersonNameRule.of(person_name_parts))

    def keeps_name(self, name: str) -> bool:
        lowered = name.lower()
        if lowered in ALWAYS_KEPT or lowered.startswith(ALWAYS_KEPT_PREFIX):
            return True
        if self.mode == "allowlist":
            return lowered in self.allowed_names
        denied = self.denied_name_parts
        if lowered in denied or (not _one_part(name) and not denied.isdisjoint(name_parts(name))):
            return False
        return not self.person_names.names_a_person(name)


DEFAULT_URL_POLICY = UrlPolicy()


def _one_part(name: str) -> bool:
    """Lower-case ASCII letters only ("order", "page"): the name is its one part, already looked up."""
    return name.isascii() and name.isalpha() and name.islower()


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
    # Sent as typed in user.ttclid: a value context.ttclid would refuse (an address, a phone number,
    # text that is no click id) is not read, and the next source counts instead. The pairs are read as
    # parse_qsl reads them (no blank values), but only a pair named ttclid has its value decoded.
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if value and unquote_plus(name) == "ttclid":
            value = unquote_plus(value)
            if is_click_token(value):
                return value
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
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    # A bare run of digits in a path is a product or order id; a written phone number is not.
    path = "/".join(
        [REDACTED_SEGMENT if _looks_personal(segment) else segment for segment in parts.path.split("/")]
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
    # What urlunsplit makes of these parts (a netloc, a path empty or starting with '/', no fragment),
    # built directly: urlunsplit coerces and re-checks each part, five times the time of these lines.
    without_query = f"{parts.scheme}://{netloc}{path}"
    return f"{without_query}?{'&'.join(kept)}" if kept else without_query


def _looks_personal(raw: str) -> bool:
    """An email address or a written phone number in a path segment or a name=value pair, however it
    was encoded.

    A bare run of digits is not a phone here: product, variant and order ids look exactly like that."""
    if not raw:  # the empty segments around a path's slashes
        return False
    # '+' is a space in form encoding, and the start of an international number.
    return holds_pii(raw, "written") or ("+" in raw and holds_pii(raw.replace("+", " "), "written"))
