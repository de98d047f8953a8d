"""Issue 14's consent reproductions through the collect use case: a German visitor placed by verified
CloudFront, TC strings with and without TikTok's vendor consent, a date 50 years ahead, Cookiebot's -1,
and consent values that are not what the policy reads."""

import json
from typing import Any

import pytest
from support.encoders import TcCore, tc_string, vendor_section
from support.fakes import MemoryQueue
from ttrelay.collect.cookie import SigningKeys
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.senders import ApiKeyRing
from ttrelay.collect.use_case import CollectDeps, CollectOutcome, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.policy import load_policy

PIXEL = "CTTRELAYTESTPIXEL001"
SITE = "https://shop.example.com"
NOW = 1_795_000_000
SECRET = "origin-secret-for-tests"
TIKTOK = 986  # the vendor id configured where a test says so
YEAR = 365 * 86_400


def via_cloudfront(country: str) -> dict[str, str]:
    """Viewer headers that carry the origin secret, so the relay trusts the country."""
    return {"origin": SITE, "x-origin-verify": SECRET, "cloudfront-viewer-country": country}


def tc(*, vendors: tuple[int, ...] = (), updated: int = NOW) -> str:
    """Purposes 1, 3, 4 and 7 consented, policy version 4; consent for exactly `vendors`."""
    consents = vendor_section(max_vendor_id=max(vendors, default=0), ids=vendors)
    core = TcCore(created_ds=updated * 10, last_updated_ds=updated * 10, vendor_consents=consents)
    return tc_string(core.bits())


def post(
    consent: dict[str, Any],
    *,
    country: str = "DE",
    vendor_id: int | None = None,
    cookies: dict[str, str] | None = None,
    queue: MemoryQueue | None = None,
) -> CollectOutcome:
    deps = CollectDeps(
        settings=CollectSettings.model_validate(
            {
                "events_queue_url": "q",
                "cookie_keys_secret_arn": "s",
                "pixel_codes": (PIXEL,),
                "allowed_origins": (SITE,),
            }
        ),
        queue=queue if queue is not None else MemoryQueue(),
        policy=load_policy().model_copy(update={"vendor_id": vendor_id}),
        signing_keys=lambda: SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40}),
        origin_secret=lambda: SECRET,
        api_keys=ApiKeyRing,
        clock=lambda: float(NOW),
    )
    body = {"pixel_code": PIXEL, "consent": consent, "events": [{"event": "Purchase", "event_id": "o-1"}]}
    request = HttpRequest(
        body=json.dumps(body).encode(),
        headers={"content-type": "application/json", **via_cloudfront(country)},
        cookies=cookies or {},
        source_ip="52.94.236.248",  # CloudFront's edge
        user_agent="Browser/1.0",
    )
    return collect(request, deps)


def decided(outcome: CollectOutcome) -> tuple[str, str]:
    return outcome.decision.action, outcome.decision.reason


# -- TCF grants only for TikTok -----------------------------------------------------------------------


def test_a_tc_string_without_tiktoks_vendor_consent_is_dropped() -> None:
    queue = MemoryQueue()
    outcome = post({"tcf": tc(vendors=())}, vendor_id=TIKTOK, queue=queue)

    assert decided(outcome) == ("drop", "deny:tcf:vendor_consent")
    assert outcome.receipt["location"] == {"country": "DE", "subdivision": None, "source": "cloudfront"}
    assert (outcome.accepted, outcome.dropped, queue.bodies) == (0, 1, [])


def test_other_vendors_consent_is_not_tiktoks() -> None:
    assert decided(post({"tcf": tc(vendors=(985, 987))}, vendor_id=TIKTOK)) == (
        "drop",
        "deny:tcf:vendor_consent",
    )


def test_the_same_string_with_tiktoks_vendor_consent_is_forwarded() -> None:
    queue = MemoryQueue()
    outcome = post({"tcf": tc(vendors=(TIKTOK,))}, vendor_id=TIKTOK, queue=queue)

    assert decided(outcome) == ("forward", "grant:tcf")
    assert len(queue.bodies) == 1


@pytest.mark.parametrize("vendors", [(), (TIKTOK,)], ids=["no-vendor-consent", "vendor-986-consented"])
def test_with_no_vendor_id_configured_a_tc_string_never_grants_on_its_own(vendors: tuple[int, ...]) -> None:
    queue = MemoryQueue()
    outcome = post({"tcf": tc(vendors=vendors)}, queue=queue)

    assert decided(outcome) == ("drop", "tcf_vendor_unconfigured")
    assert outcome.receipt["undecided"] == ["tcf_vendor_unconfigured"]
    assert queue.bodies == []


def test_with_no_vendor_id_configured_another_signal_still_grants_and_the_receipt_says_why_tcf_did_not() -> (
    None
):
    gcm = {"ad_storage": "granted", "ad_user_data": "granted"}
    outcome = post({"tcf": tc(), "gcm": gcm})

    assert decided(outcome) == ("forward", "grant:gcm")
    assert outcome.receipt["undecided"] == ["tcf_vendor_unconfigured"]


def test_with_no_vendor_id_configured_a_tc_string_still_refuses() -> None:
    refusing = tc_string(TcCore(created_ds=NOW * 10, last_updated_ds=NOW * 10, purpose_consents=(1,)).bits())
    outcome = post({"tcf": refusing, "cmp": {"marketing": True}})

    assert decided(outcome) == ("drop", "deny:tcf:purpose_3")


def test_a_tc_string_fifty_years_ahead_is_malformed() -> None:
    outcome = post({"tcf": tc(vendors=(TIKTOK,), updated=NOW + 50 * YEAR)}, vendor_id=TIKTOK)

    assert decided(outcome) == ("drop", "deny:tcf:malformed")


# -- Cookiebot's -1 -----------------------------------------------------------------------------------


def test_cookiebots_minus_one_is_no_signal_in_an_opt_in_region() -> None:
    outcome = post({}, cookies={"CookieConsent": "-1"})

    assert decided(outcome) == ("drop", "no_consent_signal")
    assert outcome.receipt["signal_sources"] == {"request": [], "cookies": []}


def test_cookiebots_minus_one_changes_nothing_in_an_opt_out_region() -> None:
    assert decided(post({}, country="US", cookies={"CookieConsent": "-1"})) == ("forward", "no_opt_out")


# -- consent values are strict ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["yes", 1, "true"], ids=repr)
def test_a_marketing_value_that_is_not_a_boolean_refuses_instead_of_granting(value: object) -> None:
    queue = MemoryQueue()
    outcome = post({"cmp": {"marketing": value}}, queue=queue)

    assert decided(outcome) == ("drop", "deny:cmp:malformed")
    assert queue.bodies == []
    assert outcome.receipt["signals_present"] == ["cmp"]
    # Under opt-out the refusal limits the event, as a deny from the CMP does (section 8).
    assert decided(post({"cmp": {"marketing": value}}, country="US")) == ("limited", "deny:cmp:malformed")


@pytest.mark.parametrize("state", ["GRANTED", True], ids=repr)
def test_a_consent_mode_state_that_is_not_granted_or_denied_refuses(state: object) -> None:
    consent = {"gcm": {"ad_storage": state, "ad_user_data": state}}

    assert decided(post(consent)) == ("drop", "deny:gcm:malformed")
    assert decided(post(consent, country="US")) == ("limited", "deny:gcm:malformed")


def test_consent_mode_types_a_gtm_page_also_sends_are_ignored() -> None:
    gcm = {
        "ad_storage": "granted",
        "ad_user_data": "granted",
        "functionality_storage": "granted",
        "security_storage": "granted",
        "wait_for_update": 500,
        "region": ["DE", "FR"],
    }
    assert decided(post({"gcm": gcm})) == ("forward", "grant:gcm")


def test_a_wrongly_typed_tcf_is_a_refusal_not_a_400() -> None:
    assert decided(post({"tcf": 5, "cmp": {"marketing": True}})) == ("drop", "deny:tcf:malformed")


def test_too_many_consent_mode_types_is_a_400_that_never_echoes_their_names() -> None:
    names = {f"jane.doe{index}@example.com": "granted" for index in range(33)}

    with pytest.raises(CollectRejected) as rejected:
        post({"gcm": names})

    assert (rejected.value.status, rejected.value.error) == (400, "invalid_request")
    assert [error["loc"] for error in rejected.value.errors] == ["consent.gcm"]
    assert "jane.doe" not in json.dumps(rejected.value.errors)
