"""Consent over HTTP on the local stack: what reaches the fake Events API for each kind of visitor.

Location comes from CloudFront's viewer headers only when the request carries the origin-verify
secret (locally `local-origin-verify-secret`), as CloudFront's origin request policy would add it.
"""

import time

import httpx
import pytest
from support.encoders import TcCore, tc_string, vendor_section
from support.stack import delivered_event_ids, fake_requests, wait_for
from ttrelay_dev.local.stack import LOCAL_ORIGIN_SECRET, LOCAL_TIKTOK_VENDOR_ID

pytestmark = pytest.mark.e2e


def via_cloudfront(country: str, region: str = "") -> dict[str, str]:
    headers = {
        "x-origin-verify": LOCAL_ORIGIN_SECRET,
        "cloudfront-viewer-country": country,
        "cloudfront-viewer-address": "198.51.100.7:50123",
    }
    return {**headers, "cloudfront-viewer-country-region": region} if region else headers


def fresh_granting_tc_string(vendors: tuple[int, ...] = (int(LOCAL_TIKTOK_VENDOR_ID),)) -> str:
    """Purposes 1, 3, 4, 7 consented, policy version 4, updated now (decoded strictly by the relay), with
    consent for `vendors`: by default the vendor id the local stack configures for TikTok."""
    now_ds = int(time.time()) * 10
    core = TcCore(
        created_ds=now_ds,
        last_updated_ds=now_ds,
        purpose_consents=(1, 3, 4, 7),
        vendor_consents=vendor_section(max_vendor_id=max(vendors, default=0), ids=vendors),
    )
    return tc_string(core.bits())


def post(base: str, event_id: str, consent: dict, headers: dict[str, str]) -> httpx.Response:
    body = {
        "consent": consent,
        "user": {"email": "visitor@example.com"},
        "events": [
            {"event": "Purchase", "event_id": event_id, "properties": {"value": 5, "currency": "EUR"}}
        ],
    }
    return httpx.post(f"{base}/events", json=body, headers={"origin": base, **headers}, timeout=30)


def sent(base: str, event_id: str) -> list[dict]:
    return [e for r in fake_requests(base) for e in r["body"]["data"] if e["event_id"] == event_id]


def test_eea_visitor_with_a_granting_tc_string_is_forwarded(base: str) -> None:
    response = post(base, "c-eea-tcf", {"tcf": fresh_granting_tc_string()}, via_cloudfront("DE"))
    assert response.json()["decision"] == {"action": "forward", "regime": "opt_in", "reason": "grant:tcf"}
    assert "ttrelay=" in response.headers.get("set-cookie", "")
    wait_for(lambda: "c-eea-tcf" in delivered_event_ids(base), timeout=60)
    event = sent(base, "c-eea-tcf")[0]
    assert event["limited_data_use"] is False
    assert event["user"]["ip"] == "198.51.100.7"  # the viewer, not CloudFront's edge


def test_an_eea_visitor_whose_tc_string_does_not_consent_to_tiktok_is_dropped(base: str) -> None:
    response = post(base, "c-eea-tcf-no-vendor", {"tcf": fresh_granting_tc_string(())}, via_cloudfront("DE"))
    assert response.json()["decision"] == {
        "action": "drop",
        "regime": "opt_in",
        "reason": "deny:tcf:vendor_consent",
    }
    assert response.json()["accepted"] == 0


def test_the_same_eea_visitor_without_any_signal_is_dropped(base: str) -> None:
    response = post(base, "c-eea-none", {}, via_cloudfront("DE"))
    assert response.status_code == 202
    assert response.json()["decision"] == {
        "action": "drop",
        "regime": "opt_in",
        "reason": "no_consent_signal",
    }
    assert "set-cookie" not in response.headers and response.json()["token"] is None
    post(base, "c-eea-marker", {"cmp": {"marketing": True}}, via_cloudfront("DE"))
    wait_for(lambda: "c-eea-marker" in delivered_event_ids(base), timeout=60)
    assert sent(base, "c-eea-none") == []


def test_a_us_visitor_with_gpc_is_forwarded_with_limited_data_use(base: str) -> None:
    response = post(base, "c-us-gpc", {}, {**via_cloudfront("US", "CA"), "sec-gpc": "1"})
    assert response.json()["decision"]["action"] == "limited"
    assert response.json()["decision"]["regime"] == "opt_out"
    wait_for(lambda: "c-us-gpc" in delivered_event_ids(base), timeout=60)
    assert sent(base, "c-us-gpc")[0]["limited_data_use"] is True


def test_a_forged_cloudfront_country_without_the_origin_secret_is_ignored(base: str) -> None:
    forged = {"cloudfront-viewer-country": "US", "cloudfront-viewer-country-region": "CA"}
    response = post(base, "c-forged", {}, forged)
    # Trusted, "US" would be opt_out and forward; ignored, the location is unknown: opt_in, dropped.
    assert response.json()["decision"] == {
        "action": "drop",
        "regime": "opt_in",
        "reason": "no_consent_signal",
    }
    wrong_secret = {**forged, "x-origin-verify": "guess"}
    assert post(base, "c-forged-2", {}, wrong_secret).json()["decision"]["regime"] == "opt_in"
    post(base, "c-forged-marker", {"cmp": {"marketing": True}}, {})
    wait_for(lambda: "c-forged-marker" in delivered_event_ids(base), timeout=60)
    assert sent(base, "c-forged") == [] and sent(base, "c-forged-2") == []
