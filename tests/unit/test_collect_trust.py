"""Consent that cannot be bypassed and senders that must be trusted, through the collect use case.

Each test is one of the crafted requests of issue 8: forged or unverified CloudFront headers, registry
locations of VPN-like addresses, a body grant against a stored refusal, a backend speaking for a
visitor, a click-id token replayed into another pixel, a visitor who opted out of sale.
"""

import json
from typing import Any

import pytest
from support.fakes import MemoryQueue
from support.queued import sent_events
from ttrelay.collect.cookie import ClickIdCookie, SigningKeys, sign, verify
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.senders import ApiKeyRing, api_key_digest
from ttrelay.collect.use_case import CollectDeps, CollectOutcome, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.policy import load_policy

PIXEL, OTHER_PIXEL = "CTTRELAYTESTPIXEL001", "COTHERPIXEL000000000"
SITE = "https://shop.example.com"
NOW = 1_795_000_000
KEYS = SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40})
BACKEND_KEY = "ttr_backend-key-for-tests-0123456789abcdef"
SECRET = "origin-secret-for-tests"
US_IP, GB_IP, EDGE_IP = "8.8.8.8", "81.2.69.160", "52.94.236.248"  # iptocc: US, GB, US (AWS)
RING = ApiKeyRing.from_secret(
    {"keys": [{"id": "b1", "hash": api_key_digest(BACKEND_KEY), "pixels": [PIXEL, OTHER_PIXEL]}]}
)
GRANT = {"cmp": {"marketing": True}}
ONETRUST_REFUSED = "groups=C0001%3A1%2CC0004%3A0"


def post(
    body: dict[str, Any],
    *,
    queue: MemoryQueue | None = None,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    source_ip: str | None = GB_IP,
    **settings: Any,
) -> CollectOutcome:
    deps = CollectDeps(
        settings=CollectSettings.model_validate(
            {
                "events_queue_url": "q",
                "cookie_keys_secret_arn": "s",
                "pixel_codes": (PIXEL, OTHER_PIXEL),
                "allowed_origins": (SITE,),
                **settings,
            }
        ),
        queue=queue if queue is not None else MemoryQueue(),
        policy=load_policy(),
        signing_keys=lambda: KEYS,
        origin_secret=lambda: SECRET,
        api_keys=lambda: RING,
        clock=lambda: float(NOW),
    )
    request = HttpRequest(
        body=json.dumps({"pixel_code": PIXEL, "events": [{"event": "Purchase"}], **body}).encode(),
        headers={
            "content-type": "application/json",
            **(headers if headers is not None else {"origin": SITE}),
        },
        cookies=cookies or {},
        source_ip=source_ip,
        user_agent="Browser/1.0",
    )
    return collect(request, deps)


# -- location fails closed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "proof",
    [{}, {"x-origin-verify": "rotated-secret"}, {"x-renamed-header": SECRET}],
    ids=["missing", "wrong", "renamed"],
)
def test_an_eu_visitor_through_cloudfront_without_valid_proof_is_not_treated_as_american(proof) -> None:
    # CloudFront's edge (a US-registered AWS address) is the TCP peer; the viewer headers say GB.
    cloudfront = {"x-amz-cf-id": "abc==", "via": "2.0 x.cloudfront.net (CloudFront)"}
    viewer = {"cloudfront-viewer-country": "GB", "cloudfront-viewer-address": f"{GB_IP}:5555"}
    outcome = post({}, headers={"origin": SITE, **cloudfront, **viewer, **proof}, source_ip=EDGE_IP)
    assert (outcome.decision.action, outcome.decision.regime) == ("drop", "opt_in")
    assert outcome.receipt["location"]["source"] == "cloudfront_unverified"
    assert outcome.visitor is not None and outcome.visitor.origin_unverified


def test_forged_us_viewer_headers_straight_to_the_function_url_do_not_relax_the_rules() -> None:
    forged = {"cloudfront-viewer-country": "US", "cloudfront-viewer-country-region": "TX"}
    outcome = post({}, headers={"origin": SITE, **forged}, source_ip=GB_IP)
    assert outcome.decision.action == "drop"


def test_verified_cloudfront_headers_still_place_the_visitor() -> None:
    headers = {"origin": SITE, "x-origin-verify": SECRET, "cloudfront-viewer-country": "US"}
    outcome = post({}, headers=headers, source_ip=EDGE_IP)
    assert (outcome.decision.action, outcome.decision.regime) == ("forward", "opt_out")


def test_a_us_registered_ip_alone_does_not_relax_the_rules_by_default() -> None:
    # A VPN, proxy or cloud egress in the US: without a signal, opt_in's "no signal, no event" holds.
    outcome = post({}, source_ip=US_IP)
    assert (outcome.decision.action, outcome.decision.regime) == ("drop", "opt_in")
    assert outcome.receipt["regimes_considered"] == ["opt_out", "opt_in"]


def test_a_us_registered_ip_can_still_make_the_rules_stricter() -> None:
    # opt_in alone would forward on a grant; the US opt-out (usp) limits it: the stricter one wins.
    outcome = post({"consent": {**GRANT, "usp": "1YYN"}}, source_ip=US_IP)
    assert (outcome.decision.action, outcome.decision.regime) == ("limited", "opt_out")


def test_a_site_owner_may_choose_to_trust_registry_locations() -> None:
    outcome = post({}, source_ip=US_IP, trust_ip_country=True)
    assert (outcome.decision.action, outcome.decision.regime) == ("forward", "opt_out")


# -- signals are merged, refusal wins ---------------------------------------------------------------


def test_a_body_grant_cannot_silence_a_stored_refusal_in_the_eu() -> None:
    body = {"consent": {"gcm": {"ad_storage": "granted", "ad_user_data": "granted"}}}
    outcome = post(body, cookies={"OptanonConsent": ONETRUST_REFUSED})
    assert (outcome.decision.action, outcome.decision.reason) == ("drop", "deny:cookie.cmp:marketing")


def test_an_unrelated_body_category_cannot_silence_a_stored_refusal_in_the_us() -> None:
    headers = {"origin": SITE, "x-origin-verify": SECRET, "cloudfront-viewer-country": "US"}
    outcome = post(
        {"consent": {"cmp": {"analytics": True}}},
        headers=headers,
        cookies={"OptanonConsent": ONETRUST_REFUSED},
    )
    assert (outcome.decision.action, outcome.decision.reason) == ("limited", "deny:cookie.cmp:marketing")
    assert outcome.receipt["signal_sources"] == {"request": ["cmp"], "cookies": ["cmp"]}


def test_a_stored_grant_still_counts_when_the_body_says_nothing() -> None:
    outcome = post({}, cookies={"OptanonConsent": "groups=C0004%3A1"})
    assert (outcome.decision.action, outcome.decision.reason) == ("forward", "grant:cookie.cmp")


# -- who may send, and who may speak for the visitor ----------------------------------------------------


def test_a_keyed_backend_sets_the_visitors_ip_and_user_agent() -> None:
    queue = MemoryQueue()
    body = {"consent": GRANT, "context": {"ip": " 2a00:1450:4001:82a::200e ", "user_agent": "Visitor/2.0"}}
    outcome = post(body, queue=queue, headers={"authorization": f"Bearer {BACKEND_KEY}"}, source_ip="3.3.3.3")
    user = sent_events(queue.bodies[0])[0]["user"]
    assert (user["ip"], user["user_agent"]) == ("2a00:1450:4001:82a::200e", "Visitor/2.0")
    assert outcome.receipt["location"] == {"country": "IE", "subdivision": None, "source": "ip"}


def test_a_keyed_backend_without_visitor_context_sends_no_ip_and_its_location_is_unknown() -> None:
    queue = MemoryQueue()
    # CloudFront headers on a backend call would describe the backend, not the visitor.
    headers = {
        "authorization": f"Bearer {BACKEND_KEY}",
        "x-origin-verify": SECRET,
        "cloudfront-viewer-country": "US",
    }
    outcome = post({"consent": GRANT}, queue=queue, headers=headers, source_ip=US_IP)
    user = sent_events(queue.bodies[0])[0]["user"]
    assert "ip" not in user and "user_agent" not in user
    assert outcome.decision.regime == "opt_in"


def test_a_browser_cannot_set_the_visitors_ip_or_user_agent() -> None:
    queue = MemoryQueue()
    post({"consent": GRANT, "context": {"ip": US_IP, "user_agent": "Spoofed/1.0"}}, queue=queue)
    user = sent_events(queue.bodies[0])[0]["user"]
    assert (user["ip"], user["user_agent"]) == (GB_IP, "Browser/1.0")


def test_a_backends_bad_visitor_ip_is_a_400() -> None:
    with pytest.raises(CollectRejected) as caught:
        post({"context": {"ip": "999.1.1.1"}}, headers={"authorization": f"Bearer {BACKEND_KEY}"})
    assert (caught.value.status, caught.value.errors[0]["loc"]) == (400, "context.ip")


def test_a_request_without_origin_or_key_queues_nothing() -> None:
    queue = MemoryQueue()
    with pytest.raises(CollectRejected) as caught:
        post({"consent": GRANT}, queue=queue, headers={})
    assert caught.value.status == 401
    assert queue.bodies == []


# -- click-id storage follows the decision ---------------------------------------------------------------


def _token(pixel: str) -> str:
    return sign(ClickIdCookie("E.C.P.stored", "ttp-stored", NOW - 60, NOW + 3600, pixel), KEYS)


def test_a_token_issued_for_one_pixel_is_not_replayed_into_another() -> None:
    queue = MemoryQueue()
    outcome = post({"consent": GRANT}, queue=queue, cookies={"ttrelay": _token(OTHER_PIXEL)})
    assert "ttclid" not in sent_events(queue.bodies[0])[0]["user"]
    assert verify(outcome.token, KEYS, NOW, PIXEL) is not None


def test_limited_sets_no_cookie_returns_no_token_reads_nothing_stored_and_expires_the_old_cookie() -> None:
    queue = MemoryQueue()
    headers = {"origin": SITE, "x-origin-verify": SECRET, "cloudfront-viewer-country": "US", "sec-gpc": "1"}
    body = {"context": {"token": _token(PIXEL), "page_url": "https://shop.example.com/?ttclid=E.C.P.page"}}
    outcome = post(body, queue=queue, headers=headers, cookies={"ttrelay": _token(PIXEL)})
    assert outcome.decision.action == "limited"
    assert (outcome.token, outcome.clear_cookie) == (None, True)
    user = sent_events(queue.bodies[0])[0]["user"]
    # This page's own click id still travels with the limited event; the stored one is not read back.
    assert user["ttclid"] == "E.C.P.page" and "ttp" not in user


def test_a_stored_click_id_that_is_no_click_id_is_not_sent() -> None:
    # Cookies signed before page URLs' click ids were checked may carry an address as the click id.
    queue = MemoryQueue()
    cookie = ClickIdCookie("jane.doe@example.com", "ttp-stored", NOW - 60, NOW + 3600, PIXEL)
    post({"consent": GRANT}, queue=queue, cookies={"ttrelay": sign(cookie, KEYS)})
    user = sent_events(queue.bodies[0])[0]["user"]
    assert "ttclid" not in user and user["ttp"] == "ttp-stored"


def test_a_probe_under_a_us_opt_out_stores_nothing_and_expires_the_old_cookie() -> None:
    queue = MemoryQueue()
    headers = {"origin": SITE, "x-origin-verify": SECRET, "cloudfront-viewer-country": "US", "sec-gpc": "1"}
    outcome = post({"events": []}, queue=queue, headers=headers, cookies={"ttrelay": _token(PIXEL)})
    assert (outcome.decision.action, outcome.token, outcome.clear_cookie) == ("limited", None, True)
    assert (outcome.accepted, outcome.dropped, queue.bodies) == (0, 0, [])
