"""Consent read from the cookies that consent management platforms set (reference/consent.md section 6).

A fallback for pages that send no normalised consent in the body. Cookie formats change without notice and
category ids are per tenant, so every id below is configuration. A cookie that cannot be read is ignored:
it never grants. Where several CMP cookies speak, a refusal from any of them wins.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote

from pydantic import BaseModel, ConfigDict

# Cookies are a few KB at most; anything larger is not a CMP cookie and is not worth parsing.
_MAX_VALUE_CHARS = 16_384
_COOKIEBOT_MARKETING = re.compile(r"[{,]\s*marketing\s*:\s*(true|false)\s*[,}]")


class CmpCookieConfig(BaseModel):
    """Which cookie and which category or purpose means "marketing" for each CMP."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # OneTrust's default targeting group; tenants can renumber their groups.
    onetrust_marketing_group: str = "C0004"
    # Didomi's ids of TCF purposes 1, 3, 4 and 7 (the policy's required purposes).
    didomi_purposes: tuple[str, ...] = (
        "cookies",
        "create_ads_profile",
        "select_personalized_ads",
        "measure_ad_performance",
    )
    # A Didomi custom vendor id is per site (`c:<name>-<id>`), so there is no default.
    didomi_vendor: str | None = None
    klaro_cookie: str = "klaro"
    klaro_service: str = "tiktok"
    cookieconsent_cookie: str = "cc_cookie"
    cookieconsent_category: str = "marketing"


class CookieConsent(BaseModel):
    """Consent found in cookies: strings to decode later, and the normalised CMP categories."""

    model_config = ConfigDict(frozen=True)

    tcf: str | None = None
    gpp: str | None = None
    usp: str | None = None
    cmp: dict[str, bool] | None = None


DEFAULT_CMP_COOKIE_CONFIG = CmpCookieConfig()


def parse_cookie_header(header: str | None) -> dict[str, str]:
    """`name=value; name2=value2` into a dict; the first cookie of a name wins (the most specific path)."""
    cookies: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name or name in cookies:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies[name] = value
    return cookies


def consent_from_cookie_header(
    header: str | None, config: CmpCookieConfig = DEFAULT_CMP_COOKIE_CONFIG
) -> CookieConsent:
    return consent_from_cookies(parse_cookie_header(header), config)


def consent_from_cookies(
    cookies: Mapping[str, str], config: CmpCookieConfig = DEFAULT_CMP_COOKIE_CONFIG
) -> CookieConsent:
    """TC, GPP and US Privacy strings as stored, and `{"marketing": bool}` from the CMP cookies that speak."""
    readers: tuple[tuple[str, Callable[[str], bool | None]], ...] = (
        ("OptanonConsent", lambda value: _onetrust(value, config)),
        ("CookieConsent", _cookiebot),
        ("didomi_token", lambda value: _didomi(value, config)),
        (config.klaro_cookie, lambda value: _klaro(value, config)),
        (config.cookieconsent_cookie, lambda value: _cookieconsent(value, config)),
    )
    answers = [
        answer
        for name, read in readers
        if (value := cookies.get(name)) and len(value) <= _MAX_VALUE_CHARS
        if (answer := read(value)) is not None
    ]
    marketing = None if not answers else all(answers)
    return CookieConsent(
        # Most CMPs store the TC string as euconsent-v2; OneTrust uses eupubconsent-v2.
        tcf=_plain(cookies.get("euconsent-v2")) or _plain(cookies.get("eupubconsent-v2")),
        gpp=_plain(cookies.get("OTGPPConsent")),
        usp=_plain(cookies.get("usprivacy")),
        cmp=None if marketing is None else {"marketing": marketing},
    )


def _plain(value: str | None) -> str | None:
    """Consent strings are URL-safe already; some sites still percent-encode the cookie."""
    if not value or len(value) > _MAX_VALUE_CHARS:
        return None
    return unquote(value).strip() or None


def _onetrust(value: str, config: CmpCookieConfig) -> bool | None:
    # A URL-encoded query string whose `groups` is `C0001:1,C0002:0,...`.
    groups = parse_qs(value).get("groups")
    if not groups:
        return None
    for entry in groups[0].split(","):
        group, _, state = entry.strip().partition(":")
        if group == config.onetrust_marketing_group and state in ("0", "1"):
            return state == "1"
    return None


def _cookiebot(value: str) -> bool | None:
    # `-1`: Cookiebot's own geolocation found no consent needed. That is no signal: the relay's location
    # decides (in opt_in, no signal drops), never Cookiebot's (reference/consent.md section 6).
    if value.strip() == "-1":
        return None
    # Otherwise a URL-encoded JavaScript object literal (not JSON): `{stamp:'…',…,marketing:true,…}`.
    match = _COOKIEBOT_MARKETING.search(unquote(value))
    return None if match is None else match.group(1) == "true"


def _didomi(value: str, config: CmpCookieConfig) -> bool | None:
    # Base64 of JSON with `purposes.enabled` and `vendors.enabled` lists.
    text = unquote(value).strip()
    try:
        document = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_"))
    except (binascii.Error, ValueError):
        return None
    enabled_purposes = _enabled_ids(document, "purposes")
    if enabled_purposes is None:
        return None
    if not all(purpose in enabled_purposes for purpose in config.didomi_purposes):
        return False
    if config.didomi_vendor is None:
        return True
    enabled_vendors = _enabled_ids(document, "vendors")
    return enabled_vendors is not None and config.didomi_vendor in enabled_vendors


def _enabled_ids(document: Any, key: str) -> set[str] | None:
    section = document.get(key) if isinstance(document, dict) else None
    enabled = section.get("enabled") if isinstance(section, dict) else None
    if not isinstance(enabled, list) or not all(isinstance(item, str) for item in enabled):
        return None
    return set(enabled)


def _klaro(value: str, config: CmpCookieConfig) -> bool | None:
    # URL-encoded JSON `{"<service>": true|false, ...}`.
    document = _json_object(value)
    state = document.get(config.klaro_service) if document is not None else None
    return state if isinstance(state, bool) else None


def _cookieconsent(value: str, config: CmpCookieConfig) -> bool | None:
    # orestbida/cookieconsent: v3 keeps accepted category names in `categories`, v2 in `level`.
    document = _json_object(value)
    if document is None:
        return None
    accepted = document.get("categories", document.get("level"))
    if not isinstance(accepted, list):
        return None
    return config.cookieconsent_category in accepted


def _json_object(value: str) -> dict[str, Any] | None:
    """A JSON object stored raw or URL-encoded."""
    for text in (value, unquote(value)):
        try:
            document = json.loads(text)
        except ValueError:
            continue
        return document if isinstance(document, dict) else None
    return None
