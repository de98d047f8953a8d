"""Consent read from CMP cookies (reference/consent.md section 6): each format, configuration, bad values."""

import base64
import json
from urllib.parse import quote

import pytest
from ttrelay.consent.cmp_cookies import (
    CmpCookieConfig,
    consent_from_cookie_header,
    consent_from_cookies,
    parse_cookie_header,
)

TC_STRING = "CQr-V4AQr-V4AEwABBENCWEgAP_AAEPAAAYgIzQBIAAgAEAvMB7QEZgLzgBAACAXmAAA.IIzQBIAAgAEAvMB7QEZg"


def _onetrust(groups: str) -> str:
    return (
        "isGpcEnabled=0&datestamp=Thu+Nov+20+2025+10%3A12%3A31+GMT%2B0100+(Central+European+Standard+Time)"
        "&version=202409.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=6f1c2b1e-3c1a-4bd4-9d43-"
        f"0a0e4d1f2a11&interactionCount=1&isAnonUser=1&landingPath=NotLandingPage&groups={quote(groups)}"
        "&intType=1&geolocation=DE%3BBY&AwaitingReconsent=false"
    )


def _cookiebot(marketing: str) -> str:
    literal = (
        "{stamp:'-2Yx4zVhN5y1pEtmOxJZ3TqDmy2m8h3ru8Dj6rZyoTf9X1fzxcSlQw==',necessary:true,preferences:true,"
        f"statistics:false,marketing:{marketing},method:'explicit',ver:2,utc:1732096351234,region:'de'}}"
    )
    return quote(literal, safe="{}:")


def _didomi(purposes: list[str], vendors: list[str]) -> str:
    token = {
        "user_id": "18f3c0a2-6c1d-6b7e-9a55-2f0c1e3d4b5a",
        "created": "2025-11-20T09:12:31.120Z",
        "updated": "2025-11-20T09:12:31.120Z",
        "vendors": {"enabled": vendors, "disabled": []},
        "purposes": {"enabled": purposes, "disabled": []},
        "vendors_li": {"enabled": ["google"], "disabled": []},
        "version": 2,
        "ac": "AkuAEAFkBJYA.AkuAEAFkBJYA",
    }
    return base64.b64encode(json.dumps(token, separators=(",", ":")).encode()).decode()


DIDOMI_ADS = [
    "cookies",
    "select_basic_ads",
    "create_ads_profile",
    "select_personalized_ads",
    "measure_ad_performance",
]


def _cc_v3(categories: list[str]) -> str:
    cookie = {
        "categories": categories,
        "revision": 0,
        "data": None,
        "consentTimestamp": "2025-11-20T09:12:31.120Z",
        "consentId": "e3b1d6a2-1f5b-4c39-9c3a-2a5a1d0f7c11",
        "services": {name: [] for name in categories},
        "lastConsentTimestamp": "2025-11-20T09:12:31.120Z",
        "expirationTime": 1779526351120,
    }
    return quote(json.dumps(cookie, separators=(",", ":")))


def _marketing(cookies: dict[str, str], config: CmpCookieConfig | None = None) -> bool | None:
    consent = consent_from_cookies(cookies, config) if config else consent_from_cookies(cookies)
    return None if consent.cmp is None else consent.cmp["marketing"]


@pytest.mark.parametrize(
    ("cookies", "expected"),
    [
        ({"OptanonConsent": _onetrust("C0001:1,C0002:1,C0003:0,C0004:1,C0005:0")}, True),
        ({"OptanonConsent": _onetrust("C0001:1,C0002:1,C0003:1,C0004:0,C0005:1")}, False),
        ({"CookieConsent": _cookiebot("true")}, True),
        ({"CookieConsent": _cookiebot("false")}, False),
        ({"didomi_token": _didomi(DIDOMI_ADS, ["google", "c:tiktok-KzAbc123"])}, True),
        ({"didomi_token": _didomi(["cookies", "select_basic_ads", "measure_ad_performance"], [])}, False),
        ({"klaro": quote('{"google-analytics":true,"tiktok":true}')}, True),
        ({"klaro": quote('{"google-analytics":true,"tiktok":false}')}, False),
        ({"cc_cookie": _cc_v3(["necessary", "analytics", "marketing"])}, True),
        ({"cc_cookie": _cc_v3(["necessary", "analytics"])}, False),
        (
            {"cc_cookie": '{"level":["necessary","marketing"],"revision":0,"data":null,"rfc_cookie":false}'},
            True,
        ),
        ({"cc_cookie": '{"level":["necessary"],"revision":0,"data":null,"rfc_cookie":false}'}, False),
    ],
)
def test_each_cmp_cookie_format(cookies: dict[str, str], expected: bool) -> None:
    assert _marketing(cookies) is expected


@pytest.mark.parametrize(
    "cookies",
    [
        {},
        {"OptanonConsent": "isGpcEnabled=0&version=202409.1.0"},  # no groups yet
        {"OptanonConsent": _onetrust("C0001:1,C0002:1")},  # the marketing group is not configured here
        {"OptanonConsent": _onetrust("C0001:1,C0004:x")},
        {"CookieConsent": "{stamp:'abc',necessary:true}"},
        # Cookiebot's geolocation found no consent needed: that is Cookiebot's view of the region, not a
        # choice of the visitor's; the relay's location decides (reference/consent.md section 6).
        {"CookieConsent": "-1"},
        {"CookieConsent": "%7Bmarketing%3Atruthy%7D"},
        {"didomi_token": "not base64 at all!"},
        {"didomi_token": base64.b64encode(b"[1, 2, 3]").decode()},
        {"didomi_token": base64.b64encode(b'{"purposes": {"enabled": "cookies"}}').decode()},
        {"klaro": "%7Bbroken"},
        {"klaro": quote('{"google-analytics":true}')},  # TikTok's service is not listed
        {"klaro": quote('{"tiktok":"yes"}')},
        {"cc_cookie": "%7B%22categories%22%3A%22marketing%22%7D"},  # not a list
        {"cc_cookie": "{{{"},
        {"cc_cookie": quote(json.dumps({"revision": 0}))},
        {"CookieConsent": "{marketing:true," + "x" * 20_000 + "}"},  # far larger than any CMP cookie
    ],
)
def test_unreadable_or_silent_cookies_never_grant(cookies: dict[str, str]) -> None:
    assert consent_from_cookies(cookies).cmp is None


def test_a_refusal_from_any_cmp_wins() -> None:
    cookies = {
        "OptanonConsent": _onetrust("C0001:1,C0004:1"),
        "CookieConsent": _cookiebot("false"),
        "klaro": quote('{"tiktok":true}'),
    }

    assert _marketing(cookies) is False


def test_category_ids_are_configuration() -> None:
    config = CmpCookieConfig(
        onetrust_marketing_group="C0007",
        didomi_purposes=("cookies", "measure_ad_performance"),
        didomi_vendor="c:tiktok-KzAbc123",
        klaro_cookie="consent_prefs",
        klaro_service="tiktok-pixel",
        cookieconsent_cookie="site_consent",
        cookieconsent_category="ads",
    )

    assert _marketing({"OptanonConsent": _onetrust("C0004:0,C0007:1")}, config) is True
    assert _marketing({"OptanonConsent": _onetrust("C0004:1,C0007:0")}, config) is False
    assert _marketing(
        {"didomi_token": _didomi(["cookies", "measure_ad_performance"], ["c:tiktok-KzAbc123"])}, config
    )
    assert (
        _marketing({"didomi_token": _didomi(DIDOMI_ADS, ["google"])}, config) is False
    )  # vendor not enabled
    assert _marketing({"consent_prefs": quote('{"tiktok-pixel":true}')}, config) is True
    assert _marketing({"klaro": quote('{"tiktok-pixel":true}')}, config) is None  # default name not read
    assert _marketing({"site_consent": _cc_v3(["necessary", "ads"])}, config) is True
    assert _marketing({"cc_cookie": _cc_v3(["ads"])}, config) is None


def test_consent_strings_are_taken_from_their_cookies() -> None:
    header = (
        f"_ga=GA1.1.123.456; euconsent-v2={TC_STRING}; OTGPPConsent=DBABLA~CFQVgRQAAABA.QA; "
        "usprivacy=1YNN; eupubconsent-v2=CPother"
    )

    consent = consent_from_cookie_header(header)

    assert (consent.tcf, consent.gpp, consent.usp) == (TC_STRING, "DBABLA~CFQVgRQAAABA.QA", "1YNN")
    assert consent.cmp is None


def test_onetrust_tc_string_cookie_is_read_when_no_euconsent() -> None:
    consent = consent_from_cookie_header(
        f"eupubconsent-v2={TC_STRING}; OptanonConsent={_onetrust('C0004:1')}"
    )

    assert consent.tcf == TC_STRING
    assert consent.cmp == {"marketing": True}


def test_parse_cookie_header() -> None:
    header = ' a=1; b="quoted value" ;c=x=y; broken; =nameless; a=2; empty='

    assert parse_cookie_header(header) == {"a": "1", "b": "quoted value", "c": "x=y", "empty": ""}
    assert parse_cookie_header(None) == {}
    assert parse_cookie_header("") == {}
